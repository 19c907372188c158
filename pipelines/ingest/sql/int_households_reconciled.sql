-- int_households_reconciled: one row per household and period: the row household fields are
-- taken from (the 户主's; the first row by file and source_row when there is none), member and
-- head counts. Narrow: keys only.
-- key: period, household_key
with

members as (
    select * from {{ ref('int_persons_loaded') }}
),

ranked as (
    select
        period,
        household_key,
        file_id,
        source_row,
        row_number() over (
            partition by period, household_key
            order by case when relation = 'head' then 0 else 1 end, file_order, source_row
        ) as pick
    from members
),

counts as (
    select
        period,
        household_key,
        count(*) as member_count,
        sum(case when relation = 'head' then 1 else 0 end) as head_count,
        sum(case when relation = 'spouse' then 1 else 0 end) as spouse_count
    from members
    group by period, household_key
),

final as (
    select
        r.period,
        r.household_key,
        r.file_id,
        r.source_row,
        c.member_count,
        c.head_count,
        c.spouse_count
    from ranked as r
    inner join counts as c
        on c.period = r.period and c.household_key = r.household_key
    where r.pick = 1
)

select * from final
