-- int_project_beneficiary_rows: one row per beneficiary raw row with its quarantine reason (NULL =
-- loaded). The project is found among the quarter's loaded projects by 项目编号 (else 项目名称),
-- within the row's county: the projects of its own workbook (file) when that file lists a project of
-- this 项目编号/名称 (loaded or quarantined), else those of the household's registry county. Several
-- such projects (two counties, nothing to tell them apart) quarantine the row ambiguous_project;
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

project_rows as (
    -- every project row that names a project (loaded or not): a beneficiary of a quarantined
    -- project of its own file stays unmatched rather than finding a namesake in another county
    select period, source_file, project_id, project_name, project_key, substr(village_code, 1, 6) as county_code,
        reason is null as loaded
    from {{ ref('int_project_rows') }}
    where project_name is not null
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

households_found as (
    select
        s.*,
        coalesce(hh.household_key, pe.household_key) as registry_household_key,
        coalesce(hh.county_code, pr.county_code) as registry_county_code
    from staged as s
    left join {{ ref('households') }} as hh
        on hh.period = s.period and hh.household_key = s.household_key_given
    left join (select distinct period, person_key, household_key from {{ ref('persons') }}) as pe
        on pe.period = s.period and pe.person_key = s.person_key
    left join {{ ref('households') }} as pr
        on pr.period = s.period and pr.household_key = pe.household_key
),

candidates as (
    select
        s.file_id,
        s.source_row,
        s.registry_county_code,
        p.project_key,
        p.county_code,
        p.loaded,
        p.source_file = s.source_file as same_file
    from households_found as s
    inner join project_rows as p
        on p.period = s.period
        and ((s.project_id is not null and p.project_id = s.project_id)
            or (s.project_id is null and p.project_name = s.project_name))
),

scoped as (
    select c.*
    from candidates as c
    where c.loaded
        and (c.same_file
            or (not exists (select 1 from candidates as o
                            where o.file_id = c.file_id and o.source_row = c.source_row and o.same_file)
                and (c.registry_county_code is null or c.county_code = c.registry_county_code)))
),

project_match as (
    select
        file_id,
        source_row,
        count(distinct project_key) as project_matches,
        min(project_key) as project_key
    from scoped
    group by file_id, source_row
),

matched as (
    select
        s.*,
        coalesce(pm.project_matches, 0) as project_matches,
        case when pm.project_matches = 1 then pm.project_key end as project_key
    from households_found as s
    left join project_match as pm
        on pm.file_id = s.file_id and pm.source_row = s.source_row
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
            when project_matches > 1 then 'ambiguous_project'
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
            when row_reason = 'ambiguous_project' then cast(project_matches as varchar)
                || ' projects of this quarter (in several counties) have this 项目编号/项目名称; list it in its county''s workbook'
            when row_reason = 'unknown_project' then 'no loaded project of this quarter has this 项目编号/项目名称'
            when beneficiary_rank > 1 then 'same project and household as an earlier row of this quarter'
        end as reason_detail
    from ranked
)

select * from final
