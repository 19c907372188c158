-- int_department_rows: every row of every department list (stg_dept_*) in one shape, with its
-- quarantine reason (NULL = loaded): the keyed person (person_key; 住建: the household head), the
-- village (水利: the key), the record's category code (参保状态 / 救助类型 / 残疾类别 / roster or
-- 送教上门 / 鉴定等级 / covered / 变动类型), an amount (自付费用 / 月保障金额) and the record date.
-- A table, not a view: department_records, quarantine and ingest_manifest each read it, and its
-- duplicate ranking (a window over every department row) is computed once.
{#- per department: the columns that fill the shared shape (NULL: the list has none) -#}
{%- set shape = {
    'medical':    {'key': 'person_key', 'category': 'enrolment', 'subcategory': 'scheme', 'amount': 'out_of_pocket', 'village': none},
    'civil':      {'key': 'person_key', 'category': 'assistance_type', 'subcategory': none, 'amount': 'monthly_amount', 'village': 'village_code'},
    'disability': {'key': 'person_key', 'category': 'disability_category', 'subcategory': 'disability_grade', 'amount': none, 'village': none},
    'education':  {'key': 'person_key', 'category': 'send_teaching', 'subcategory': none, 'amount': none, 'village': none},
    'housing':    {'key': 'person_key', 'category': 'grade', 'subcategory': none, 'amount': none, 'village': 'village_code'},
    'water':      {'key': 'village_code', 'category': 'covered', 'subcategory': none, 'amount': none, 'village': 'village_code'},
    'police':     {'key': 'person_key', 'category': 'change_type', 'subcategory': none, 'amount': none, 'village': none},
} %}
{%- set stg = {'medical': ref('stg_dept_medical'), 'civil': ref('stg_dept_civil'),
               'disability': ref('stg_dept_disability'), 'education': ref('stg_dept_education'),
               'housing': ref('stg_dept_housing'), 'water': ref('stg_dept_water'), 'police': ref('stg_dept_police')} %}
with

{% for d, s in shape.items() %}
{{ d }}_rows as (
    select
        period, source_kind, source_file, file_id, file_order, sheet, source_row,
        is_blank_row, is_shifted, damaged_column, damaged_detail,
        '{{ d }}' as department,
        {%- if s.key == 'person_key' %}
        person_key,
        id_norm is null as id_missing,
        not (id_length = 18 and id_check_ok and id_birth_date is not null) as id_invalid,
        {%- else %}
        cast(null as varchar) as person_key,
        {{ s.key }} is null as id_missing,
        not (length({{ s.key }}) = 12 and translate({{ s.key }}, '0123456789', '') = '') as id_invalid,
        {%- endif %}
        '{{ 'id_number' if s.key == 'person_key' else s.key }}' as key_column,
        {%- if s.village %}
        case when length({{ s.village }}) = 12 and translate({{ s.village }}, '0123456789', '') = ''
            then {{ s.village }} end as village_code,
        {%- else %}
        cast(null as varchar) as village_code,
        {%- endif %}
        {%- if d == 'education' %}
        -- 送教上门 = 是 on the list: a 送教上门 record; anything else a school-roster record
        case when send_teaching then 'send_teaching' else 'roster' end as category,
        {%- elif d == 'water' %}
        case when covered then 'covered' when not covered then 'not_covered' end as category,
        {%- else %}
        {{ s.category }} as category,
        {%- endif %}
        {{ s.category }}__raw as category__raw,
        '{{ s.category }}' as category_column,
        '{{ 'yes_no' if d in ('education', 'water') else columns['dept_' ~ d] | selectattr('name', 'equalto', s.category) | map(attribute='kind') | first | replace('code:', '') }}' as category_list,
        {%- if s.subcategory %}
        {{ s.subcategory }} as subcategory,
        {{ s.subcategory }}__raw as subcategory__raw,
        {%- else %}
        cast(null as varchar) as subcategory,
        cast(null as varchar) as subcategory__raw,
        {%- endif %}
        '{{ s.subcategory or '' }}' as subcategory_column,
        {%- if s.amount %}
        {{ s.amount }} as amount,
        {{ s.amount }}__raw as amount__raw,
        {%- else %}
        cast(null as double) as amount,
        cast(null as varchar) as amount__raw,
        {%- endif %}
        '{{ s.amount or '' }}' as amount_column,
        record_date,
        record_date__raw
    from {{ stg[d] }}
),
{% endfor %}

unioned as (
    {%- for d in shape %}
    select * from {{ d }}_rows
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

row_checks as (
    select
        *,
        case
            when is_blank_row then 'blank_row'
            when is_shifted then 'column_shift'
            when damaged_column is not null then 'id_damaged_by_spreadsheet'
            when id_missing then 'missing_key'
            when id_invalid then 'invalid_id_number'
            when category__raw is null and department not in ('education') then 'missing_key'
            when category is null and category__raw is not null then 'unknown_code_label'
            when subcategory is null and subcategory__raw is not null then 'unknown_code_label'
            when record_date__raw is null then 'missing_record_date'
            when record_date is null then 'bad_record_date'
            when amount is null and amount__raw is not null then 'bad_amount'
        end as row_reason,
        case
            when is_blank_row or is_shifted then null
            when damaged_column is not null then damaged_column
            when id_missing or id_invalid then key_column
            when category__raw is null and department not in ('education') then category_column
            when category is null and category__raw is not null then category_column
            when subcategory is null and subcategory__raw is not null then subcategory_column
            when record_date__raw is null or record_date is null then 'record_date'
            when amount is null and amount__raw is not null then amount_column
        end as row_reason_column
    from unioned
),

ranked as (
    select
        *,
        -- one record per department, key and category in a quarter: a repeated row is quarantined
        case when row_reason is null then row_number() over (
            partition by period, department, (case when row_reason is null then coalesce(person_key, village_code) || '/' || category end)
            order by file_order, sheet, source_row)
        end as record_rank
    from row_checks
),

final as (
    select
        *,
        coalesce(row_reason, case when record_rank > 1 then 'duplicate_department_record' end) as reason,
        case when row_reason is not null then row_reason_column when record_rank > 1 then key_column end
            as reason_column,
        case
            when row_reason = 'id_damaged_by_spreadsheet' then damaged_detail
            when row_reason = 'invalid_id_number' and key_column = 'village_code' then 'not a 12-digit village code'
            when row_reason = 'invalid_id_number' then 'not an 18-character ID number passing the GB 11643 check (department lists are matched on it)'
            when row_reason = 'unknown_code_label' and row_reason_column = category_column
                then 'label not in code list ' || category_list
            when row_reason = 'unknown_code_label' then 'label not in its code list'
            when row_reason = 'missing_record_date' then 'blank record date (every department record carries its date)'
            when row_reason = 'bad_record_date' then 'not a date (expected e.g. 2020-09-15)'
            when row_reason = 'bad_amount' then 'not a number of yuan'
            when record_rank > 1 then 'same person (or village) and category as an earlier row of this quarter''s list'
        end as reason_detail
    from ranked
)

select * from final
