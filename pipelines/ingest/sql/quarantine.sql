-- quarantine: every raw row that is not loaded, with the reason, the raw header of the offending
-- column and the row's non-identifying fields as JSON (PII columns, 户编号 and 人编号 left out).
-- json_object is DuckDB's spelling; Spark's is to_json(named_struct(...)).
with

{% for src in sources %}
{{ src.name }}_rows as (
    select
        period,
        source_kind,
        source_file,
        file_id,
        sheet,
        source_row,
        reason,
        reason_column,
        reason_detail as detail,
        cast(json_object(
            {%- for key, expr in src.json_fields %}
            '{{ key }}', {{ expr }}{% if not loop.last %},{% endif %}
            {%- endfor %}
        ) as varchar) as fields
    from int_{{ src.name }}_rows
    where reason is not null
),
{% endfor %}

unioned as (
    {%- for src in sources %}
    select * from {{ src.name }}_rows
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

final as (
    select
        u.period,
        u.source_kind,
        u.source_file,
        u.sheet,
        u.source_row,
        u.reason,
        h.header as column_name,
        u.detail,
        u.fields
    from unioned as u
    left join raw_headers as h
        on h.file_id = u.file_id and h.column_key = u.reason_column
)

select * from final
