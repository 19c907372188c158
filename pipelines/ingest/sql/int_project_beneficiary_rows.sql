-- int_project_beneficiary_rows: one row per beneficiary raw row with its quarantine reason (NULL =
-- loaded). The project is found among the quarter's loaded projects by 项目编号 (else 项目名称);
-- the household by 户编号 (keyed like the registry's) or, without one, by 户主身份证号: its person_key
-- (the registry's HMAC of the ID) looked up among the quarter's registered persons. A household
-- found in neither way is loaded with in_registry = false (finding beneficiary_not_in_registry:
-- the county's list names someone the registry does not hold; it is not counted as 带贫).
-- materialized: view
{% import '_macros.sql' as m with context %}
with

pseudonym_key as (
    select * from {{ ref('ingest_params') }}
),

projects as (
    select period, project_id, project_name, project_key
    from {{ ref('int_project_rows') }}
    where reason is null
),

staged as (
    select
        s.*,
        case when s.household_id is not null then {{ m.pseudonym('household:', 's.household_id') }} end
            as household_key_given,
        case when s.household_id is null and length(s.id_norm) >= 18
            then {{ m.pseudonym('person:', 'substr(s.id_norm, 1, 18)') }} end as person_key
    from {{ ref('stg_project_beneficiaries') }} as s
),

matched as (
    select
        s.*,
        coalesce(pi.project_key, pn.project_key) as project_key,
        coalesce(hh.household_key, pe.household_key) as registry_household_key
    from staged as s
    left join projects as pi
        on pi.period = s.period and s.project_id is not null and pi.project_id = s.project_id
    left join projects as pn
        on pn.period = s.period and s.project_id is null and pn.project_name = s.project_name
    left join {{ ref('households') }} as hh
        on hh.period = s.period and hh.household_key = s.household_key_given
    left join (select distinct period, person_key, household_key from {{ ref('persons') }}) as pe
        on pe.period = s.period and pe.person_key = s.person_key
),

keyed as (
    select
        *,
        coalesce(registry_household_key, household_key_given) as household_key,
        registry_household_key is not null as in_registry,
        -- the beneficiary as listed: its household, else (not in the registry) its person
        coalesce(registry_household_key, household_key_given, 'p:' || person_key) as beneficiary_key
    from matched
),

row_checks as (
    select
        *,
        case
            when is_blank_row then 'blank_row'
            when is_shifted then 'column_shift'
            when damaged_column is not null then 'id_damaged_by_spreadsheet'
            when (project_id is null and project_name is null) or (household_id is null and id_norm is null)
                then 'missing_key'
            when household_id is null and (length(id_norm) <> 18 or person_key is null) then 'bad_id_number'
            when project_key is null then 'unknown_project'
        end as row_reason,
        case
            when is_blank_row or is_shifted then null
            when damaged_column is not null then damaged_column
            when project_id is null and project_name is null then 'project_name'
            when household_id is null and id_norm is null then 'household_id'
            when household_id is null and (length(id_norm) <> 18 or person_key is null) then 'head_id_number'
            else (case when project_id is not null then 'project_id' else 'project_name' end)
        end as row_reason_column
    from keyed
),

ranked as (
    select
        *,
        case when row_reason is null then row_number() over (
            partition by period, (case when row_reason is null then project_key || '/' || beneficiary_key end)
            order by file_order, sheet, source_row)
        end as beneficiary_rank
    from row_checks
),

final as (
    select
        *,
        coalesce(row_reason, case when beneficiary_rank > 1 then 'duplicate_beneficiary' end) as reason,
        case when row_reason is not null then row_reason_column when beneficiary_rank > 1 then 'household_id' end
            as reason_column,
        case
            when row_reason = 'id_damaged_by_spreadsheet' then damaged_detail
            when row_reason = 'missing_key' then 'a project (项目编号 or 项目名称) and a household (户编号 or 户主身份证号) are needed'
            when row_reason = 'bad_id_number' then 'not an 18-character ID number'
            when row_reason = 'unknown_project' then 'no loaded project of this quarter has this 项目编号/项目名称'
            when beneficiary_rank > 1 then 'same project and household as an earlier row of this quarter'
        end as reason_detail
    from ranked
)

select * from final
