-- quarantine_by_county: rows not loaded (quarantine) per county and reason, with the total per
-- reason. The county is the 6-digit code the county's export file is named with (raw layout,
-- docs/data_contract.md §1); rows from a file without one are 未知.
-- key: is_total, county_code?, reason
{% import '_macros.sql' as m %}
with

params as (
    select * from {{ ref('param_run') }}
),

quarantined as (
    select
        nullif(regexp_extract(q.source_file, '([0-9]{6})[^/]*$', 1), '') as county_code,
        q.reason
    from {{ ref('quarantine') }} as q
    cross join params as p
    where q.period = p.period
),

counted as (
    {{ m.by_region('quarantined', ref('region_names'), ref('param_report'), group=['reason'], aggregates={
        'row_count': 'count(*)'}) }}
),

final as (
    select
        c.is_total,
        c.county_code,
        coalesce(c.county_name, lu.label) as county_name,
        c.reason,
        coalesce(lr.label, c.reason) as reason_label,
        c.row_count
    from counted as c
    left join {{ ref('param_labels') }} as lr on lr.domain = 'reason' and lr.code = c.reason
    left join {{ ref('param_labels') }} as lu on lu.domain = 'report_text' and lu.code = 'unknown_region'
)

select * from final
order by is_total, county_code nulls last, row_count desc, reason
