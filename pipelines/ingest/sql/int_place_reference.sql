-- int_place_reference: every county, township and village of config/regions with the key its
-- name is compared by (cleaned as cells are, one configured suffix dropped: 润城村委会 -> 润城).
-- key: level, code
{% import '_macros.sql' as m with context %}
with

name_suffixes as (
    select * from {{ ref('param_name_suffixes') }}
),

regions as (
    select level, code, name, parent_code from {{ ref('param_regions') }}
    union all
    select 'village' as level, code, name, township_code as parent_code from {{ ref('param_villages') }}
),

cleaned as (
    select r.level, r.code, r.name, r.parent_code, {{ m.clean('r.name') }} as clean_name
    from regions as r
    cross join {{ ref('param_fullwidth') }} as fw
),

keys as (
    {{ m.name_keys('cleaned') }}
),

final as (
    select c.level, c.code, c.name, c.parent_code, c.clean_name, k.name_key
    from cleaned as c
    inner join keys as k on k.level = c.level and k.clean_name = c.clean_name
)

select * from final
