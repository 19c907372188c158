-- nb_transitions: households of the region by 脱贫状态 in the quarter before and in the period
-- (the risk stage's transitions of the period; households that appear or disappear are counted
-- under 不在册), with labels.
-- key: from_status, to_status
--
-- inputs: transitions, param_status_labels (code, label), param_notebook (period, region_code)
with

nb as (
    select * from {{ ref('param_notebook') }}
),

flows as (
    select
        coalesce(t.from_status, 'absent') as from_status,
        coalesce(t.to_status, 'absent') as to_status,
        count(*) as households
    from {{ ref('transitions') }} as t
    cross join nb
    where t.period = nb.period and starts_with(t.village_code, nb.region_code)
    group by 1, 2
),

final as (
    select
        f.from_status,
        coalesce(lf.label, f.from_status) as from_label,
        f.to_status,
        coalesce(lt.label, f.to_status) as to_label,
        f.households
    from flows as f
    left join {{ ref('param_status_labels') }} as lf on lf.code = f.from_status
    left join {{ ref('param_status_labels') }} as lt on lt.code = f.to_status
)

select * from final
