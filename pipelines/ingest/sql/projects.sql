-- projects: the county's poverty projects of `period` (data/raw/projects/<period>/), one row per
-- project: type and fund source as codes (config/code_labels.toml [project_type], [fund_source]),
-- the village it is built in, money in 万元 (计划投资, 到位资金, 已支付), dates, the 带贫户数 the list
-- states and the beneficiary households it lists (listed_households; registered_households: those
-- in the registry this quarter). Provenance points to the raw row.
-- key: period, project_key
with

loaded as (
    select * from {{ ref('int_project_rows') }}
    where reason is null
),

beneficiaries as (
    select
        period,
        project_key,
        count(distinct beneficiary_key) as listed_households,
        count(distinct case when in_registry then household_key end) as registered_households
    from {{ ref('int_project_beneficiary_rows') }}
    where reason is null
    group by period, project_key
),

final as (
    select
        -- keys
        l.period,
        l.project_key,
        -- the project
        l.project_id,
        l.project_name,
        l.project_type,
        l.fund_source,
        substr(l.village_code, 1, 6) as county_code,
        substr(l.village_code, 1, 9) as township_code,
        l.village_code,
        -- money (万元)
        l.planned,
        l.received,
        l.paid,
        l.started_on,
        l.completed_on,
        -- households
        l.stated_households,
        cast(coalesce(b.listed_households, 0) as integer) as listed_households,
        cast(coalesce(b.registered_households, 0) as integer) as registered_households,
        -- provenance
        l.source_file,
        l.sheet,
        l.source_row
    from loaded as l
    left join beneficiaries as b
        on b.period = l.period and b.project_key = l.project_key
)

select * from final
