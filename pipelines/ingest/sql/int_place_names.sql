-- int_place_names: every (county, township, village) name triple of registry files without a
-- village-code column (a file with one and a blank cell keeps missing_village_code), resolved against config/regions (int_place_reference) level by level: county by
-- name, township by name within it, village by name within the township. Exactly one match at
-- every level gives the village code; none or several give the reason (unknown_place_name /
-- ambiguous_place_name) and a detail naming the level, the name as written and the closest names
-- of config/regions under the same parent (levenshtein on the keys), never a guess.
-- key: place_id
-- duckdb: string_agg(… order by …) orders the candidate list (Spark: array_join of a sorted collect_list)
{% import '_macros.sql' as m with context %}
with

name_suffixes as (
    select * from {{ ref('param_name_suffixes') }}
),

coded_files as (
    select distinct file_id from {{ ref('raw_headers') }} where column_key = 'village_code'
),

triples as (
    select distinct county_name, township_name, village_name
    from {{ ref('raw_registry') }}
    where file_id not in (select file_id from coded_files)
        and (county_name is not null or township_name is not null or village_name is not null)
        and not is_blank_row
),

numbered as (
    select
        row_number() over (order by county_name nulls first, township_name nulls first, village_name nulls first) as place_id,
        county_name,
        township_name,
        village_name
    from triples
),

names as (
    select 'county' as level, county_name as clean_name from numbered where county_name is not null
    union all
    select 'township' as level, township_name as clean_name from numbered where township_name is not null
    union all
    select 'village' as level, village_name as clean_name from numbered where village_name is not null
),

name_keys as (
    {{ m.name_keys('names') }}
),

keyed as (
    select
        n.*,
        kc.name_key as county_key,
        kt.name_key as township_key,
        kv.name_key as village_key
    from numbered as n
    left join name_keys as kc on kc.level = 'county' and kc.clean_name = n.county_name
    left join name_keys as kt on kt.level = 'township' and kt.clean_name = n.township_name
    left join name_keys as kv on kv.level = 'village' and kv.clean_name = n.village_name
),

places as (
    select * from {{ ref('int_place_reference') }}
),

county_counts as (
    -- a name written exactly as in config/regions wins; otherwise names compare by key
    select
        k.place_id,
        count(p.code) as key_matches,
        min(p.code) as key_code,
        count(case when p.clean_name = k.county_name then 1 end) as exact_matches,
        min(case when p.clean_name = k.county_name then p.code end) as exact_code
    from keyed as k
    left join places as p on p.level = 'county' and p.name_key = k.county_key
    group by k.place_id
),

county_match as (
    select
        place_id,
        case when exact_matches = 1 then 1 else key_matches end as matches,
        case when exact_matches = 1 then exact_code when key_matches = 1 then key_code end as code
    from county_counts
),

township_counts as (
    -- a name written exactly as in config/regions wins; otherwise names compare by key
    select
        k.place_id,
        count(p.code) as key_matches,
        min(p.code) as key_code,
        count(case when p.clean_name = k.township_name then 1 end) as exact_matches,
        min(case when p.clean_name = k.township_name then p.code end) as exact_code
    from keyed as k
    inner join county_match as c on c.place_id = k.place_id and c.matches = 1
    left join places as p on p.level = 'township' and p.parent_code = c.code and p.name_key = k.township_key
    group by k.place_id
),

township_match as (
    select
        place_id,
        case when exact_matches = 1 then 1 else key_matches end as matches,
        case when exact_matches = 1 then exact_code when key_matches = 1 then key_code end as code
    from township_counts
),

village_counts as (
    -- a name written exactly as in config/regions wins; otherwise names compare by key
    select
        k.place_id,
        count(p.code) as key_matches,
        min(p.code) as key_code,
        count(case when p.clean_name = k.village_name then 1 end) as exact_matches,
        min(case when p.clean_name = k.village_name then p.code end) as exact_code
    from keyed as k
    inner join township_match as c on c.place_id = k.place_id and c.matches = 1
    left join places as p on p.level = 'village' and p.parent_code = c.code and p.name_key = k.village_key
    group by k.place_id
),

village_match as (
    select
        place_id,
        case when exact_matches = 1 then 1 else key_matches end as matches,
        case when exact_matches = 1 then exact_code when key_matches = 1 then key_code end as code
    from village_counts
),

resolved as (
    -- the first level that does not resolve to exactly one place, its parent and the name written there
    select
        k.place_id,
        k.county_name,
        k.township_name,
        k.village_name,
        v.code as village_code,
        case
            when c.matches <> 1 then 'county'
            when t.matches <> 1 then 'township'
            when v.matches <> 1 then 'village'
        end as failed_level,
        case
            when c.matches <> 1 then c.matches
            when t.matches <> 1 then t.matches
            when v.matches <> 1 then v.matches
        end as failed_matches,
        case when c.matches <> 1 then null when t.matches <> 1 then c.code else t.code end as failed_parent,
        case when c.matches <> 1 then k.county_name when t.matches <> 1 then k.township_name else k.village_name end as failed_name,
        case when c.matches <> 1 then k.county_key when t.matches <> 1 then k.township_key else k.village_key end as failed_key
    from keyed as k
    inner join county_match as c on c.place_id = k.place_id
    left join township_match as t on t.place_id = k.place_id
    left join village_match as v on v.place_id = k.place_id
),

candidates_ranked as (
    -- the places of the failed level under its parent, closest name first (ties: by code)
    select
        r.place_id,
        p.name,
        p.code,
        row_number() over (
            partition by r.place_id
            order by levenshtein(p.name_key, coalesce(r.failed_key, '')), p.code
        ) as candidate_rank
    from resolved as r
    inner join places as p
        on p.level = r.failed_level
        and (r.failed_level = 'county' or p.parent_code = r.failed_parent)
),

candidates as (
    select
        c.place_id,
        string_agg(c.name || ' ' || c.code, ', ' order by c.candidate_rank) as closest
    from candidates_ranked as c
    cross join {{ ref('param_places') }} as pp
    where c.candidate_rank <= pp.candidates
    group by c.place_id
),

parents as (
    select code, name from places
),

final as (
    select
        r.place_id,
        r.county_name,
        r.township_name,
        r.village_name,
        r.village_code,
        case
            when r.failed_level is null then null
            when r.failed_matches = 0 then 'unknown_place_name'
            else 'ambiguous_place_name'
        end as place_reason,
        case when r.failed_level is not null then r.failed_level || '_name' end as place_column,
        case
            when r.failed_level is null then null
            else r.failed_level || ' '
                || coalesce('''' || r.failed_name || '''', '(empty)')
                || case when r.failed_matches = 0 then ' not found' else ' matches ' || cast(r.failed_matches as varchar) || ' places' end
                || case when r.failed_parent is null then ' in config/regions'
                        else ' under ' || coalesce(pa.name || ' ', '') || r.failed_parent end
                || coalesce('; closest: ' || ca.closest, '; config/regions has none under it')
                || '; never guessed: correct the name or add the village to config/regions/villages.csv'
        end as place_detail
    from resolved as r
    left join candidates as ca on ca.place_id = r.place_id
    left join parents as pa on pa.code = r.failed_parent
)

select * from final
