-- int_project_rows: one row per project-list raw row with its quarantine reason (NULL = loaded).
-- 实施地点 resolves to a village: a 12-digit code of config/regions/villages.csv as it is, else the
-- village name compared by key (int_place_reference: one configured suffix dropped), within the
-- row's 县 / 乡镇 when those columns are filled; none or several matches quarantine the row
-- (unknown_village / ambiguous_village), never a guess. Money in 万元: 已支付 above 到位资金 is
-- quarantined (paid_over_received: the 资金账 would pay out money that never arrived), as is a
-- missing or negative amount (bad_amount) and a second row of the same project (duplicate_project).
-- A project is identified within its county (the county of its resolved village): project_key is
-- county code ':' 项目编号, else county code ':' 项目名称; the same name in two counties is two projects.
-- materialized: view
{% import '_macros.sql' as m with context %}
with

name_suffixes as (
    select * from {{ ref('param_name_suffixes') }}
),

staged as (
    select * from {{ ref('stg_projects') }}
),

places as (
    select * from {{ ref('int_place_reference') }}
),

names as (
    select distinct 'village' as level, place as clean_name from staged where place is not null
    union all
    select distinct 'county' as level, county_name as clean_name from staged where county_name is not null
    union all
    select distinct 'township' as level, township_name as clean_name from staged where township_name is not null
),

name_keys as (
    {{ m.name_keys('names') }}
),

candidates as (
    -- the villages a row's 实施地点 may be: by code, else by name key within its county / township
    select
        s.file_id,
        s.source_row,
        v.code
    from staged as s
    inner join places as v
        on v.level = 'village'
        and v.code = s.place
    union all
    select
        s.file_id,
        s.source_row,
        v.code
    from staged as s
    inner join name_keys as kv
        on kv.level = 'village' and kv.clean_name = s.place
    inner join places as v
        on v.level = 'village' and v.name_key = kv.name_key
    left join name_keys as kt
        on kt.level = 'township' and kt.clean_name = s.township_name
    left join name_keys as kc
        on kc.level = 'county' and kc.clean_name = s.county_name
    left join places as t
        on t.level = 'township' and t.code = v.parent_code
    left join places as c
        on c.level = 'county' and c.code = t.parent_code
    where not exists (select 1 from places as p where p.level = 'village' and p.code = s.place)
        and (s.township_name is null or t.name_key = kt.name_key)
        and (s.county_name is null or c.name_key = kc.name_key)
),

resolved as (
    select
        file_id,
        source_row,
        count(distinct code) as matches,
        min(code) as village_code
    from candidates
    group by file_id, source_row
),

placed as (
    select
        s.*,
        coalesce(r.matches, 0) as place_matches,
        case when r.matches = 1 then r.village_code end as village_code,
        case when r.matches = 1 then substr(r.village_code, 1, 6) || ':' || coalesce(s.project_id, s.project_name) end
            as project_key
    from staged as s
    left join resolved as r
        on r.file_id = s.file_id and r.source_row = s.source_row
),

row_checks as (
    select
        *,
        case
            when is_blank_row then 'blank_row'
            when is_shifted then 'column_shift'
            when damaged_column is not null then 'id_damaged_by_spreadsheet'
            when project_name is null then 'missing_key'
            when place is null or place_matches = 0 then 'unknown_village'
            when place_matches > 1 then 'ambiguous_village'
            when planned is null or received is null or paid is null
                or planned < 0 or received < 0 or paid < 0 then 'bad_amount'
            when paid > received then 'paid_over_received'
        end as row_reason,
        case
            when is_blank_row or is_shifted then null
            when damaged_column is not null then damaged_column
            when project_name is null then 'project_name'
            when place is null or place_matches <> 1 then 'place'
            when planned is null or planned < 0 then 'planned'
            when received is null or received < 0 then 'received'
            else 'paid'
        end as row_reason_column
    from placed
),

ranked as (
    select
        *,
        case when row_reason is null then row_number() over (
            partition by period, (case when row_reason is null then project_key end)
            order by file_order, sheet, source_row)
        end as project_rank
    from row_checks
),

final as (
    select
        *,
        coalesce(row_reason, case when project_rank > 1 then 'duplicate_project' end) as reason,
        case when row_reason is not null then row_reason_column when project_rank > 1 then 'project_name' end
            as reason_column,
        case
            when row_reason = 'id_damaged_by_spreadsheet' then damaged_detail
            when row_reason = 'unknown_village' then 'not a village code or name of config/regions/villages.csv'
                || case when county_name is not null or township_name is not null then ' within the row''s 县/乡镇' else '' end
            when row_reason = 'ambiguous_village' then cast(place_matches as varchar)
                || ' villages of config/regions have this name; give the village code or 县/乡镇'
            when row_reason = 'bad_amount' then 'amount missing, not a number or negative (expected 万元)'
            when row_reason = 'paid_over_received' then '已支付 ' || cast(paid as varchar) || ' > 到位资金 '
                || cast(received as varchar) || ' (万元)'
            when project_rank > 1 then 'same project as an earlier row of this quarter and county'
        end as reason_detail
    from ranked
)

select * from final
