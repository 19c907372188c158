-- svy_stage: the raw rows of a survey (cells as text, canonical column names of the design) typed,
-- with the reason a row is quarantined (NULL = loaded). Text is trimmed, never stripped of its
-- inner spaces (a region named in words keeps them); numbers may carry thousands separators.
--   blank_row            every cell empty
--   not_a_number         a decimal/int column holds text that is not a number (reason_column)
--   missing_<role>       the weight, stratum, PSU or household size of the design is empty
--   not_yes_no           a yes_no column holds no label of config/code_labels.toml [yes_no]
--   nonpositive_weight   weight <= 0;   bad_household_size   household size < 1
-- A missing income is loaded (the unit is outside every domain's estimate, as R's na.rm).
-- inputs: svy_raw(source_file, source_row, <one text column per design column>)
--         svy_yes_no(label, code)  the labels of [yes_no] (code 'true' / 'false')
--         jinja: columns [{name, kind}], required [{role, column}], weight, household_size
with

cells as (
    select
        source_file,
        source_row,
        {%- for c in columns %}
        nullif(trim(cast({{ c.name }} as varchar)), '') as {{ c.name }}{{ "," if not loop.last }}
        {%- endfor %}
    from {{ ref('svy_raw') }}
),

typed as (
    select
        source_file,
        source_row,
        {%- for c in columns %}
        {%- if c.kind == 'text' %}
        {{ c.name }},
        {%- elif c.kind == 'yes_no' %}
        (select yn.code = 'true' from {{ ref('svy_yes_no') }} as yn where yn.label = {{ c.name }}) as {{ c.name }},
        {{ c.name }} is not null
            and not exists (select 1 from {{ ref('svy_yes_no') }} as yn where yn.label = {{ c.name }}) as bad_{{ c.name }},
        {%- else %}
        try_cast(replace({{ c.name }}, ',', '') as double) as {{ c.name }},
        {{ c.name }} is not null and try_cast(replace({{ c.name }}, ',', '') as double) is null as bad_{{ c.name }},
        {%- endif %}
        {%- endfor %}
        ({% for c in columns %}{{ c.name }} is null{{ " and " if not loop.last }}{% endfor %}) as is_blank_row
    from cells
),

reasons as (
    select
        *,
        case
            when is_blank_row then 'blank_row'
            {%- for c in columns if c.kind != 'text' %}
            when bad_{{ c.name }} then '{{ "not_yes_no" if c.kind == "yes_no" else "not_a_number" }}'
            {%- endfor %}
            {%- for r in required %}
            when {{ r.column }} is null then 'missing_{{ r.role }}'
            {%- endfor %}
            when {{ weight }} <= 0 then 'nonpositive_weight'
            {%- if household_size %}
            when {{ household_size }} < 1 then 'bad_household_size'
            {%- endif %}
        end as reason,
        case
            when is_blank_row then cast(null as varchar)
            {%- for c in columns if c.kind != 'text' %}
            when bad_{{ c.name }} then '{{ c.name }}'
            {%- endfor %}
            {%- for r in required %}
            when {{ r.column }} is null then '{{ r.column }}'
            {%- endfor %}
            when {{ weight }} <= 0 then '{{ weight }}'
            {%- if household_size %}
            when {{ household_size }} < 1 then '{{ household_size }}'
            {%- endif %}
        end as reason_column
    from typed
),

final as (
    select
        source_file,
        source_row,
        {%- for c in columns %}
        {{ c.name }},
        {%- endfor %}
        reason,
        reason_column
    from reasons
)

select * from final
