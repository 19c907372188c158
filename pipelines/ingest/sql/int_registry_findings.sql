-- int_registry_findings: findings on loaded registry rows (docs/data_contract.md §3), one row per
-- row and issue. Household-level findings are repeated on every member row of the household.
-- One pass over the loaded rows keeps those any check holds for (`flagged`, a few per cent of the
-- rows); the one-branch-per-check union then runs over those alone (rendered first, so that every
-- check's condition is collected in `conds`).
{% import '_macros.sql' as m with context %}
{%- set conds = [] %}
{%- set checks %}
id_findings as (
    {{ m.finding('id_checksum_invalid', 'id_number', "'check character does not match GB 11643'", 'null', 'flagged', 'id_length = 18 and not id_check_ok', conds=conds) }}
    union all
    {{ m.finding('id_nonstandard_length', 'id_number', "'ID number has ' || cast(id_length as varchar) || ' characters'", 'null', 'flagged', 'id_length <> 18', conds=conds) }}
    union all
    {{ m.finding('id_birthdate_mismatch', 'birth_date', "'recorded birth date differs from the ID'", 'birth_date', 'flagged', 'birth_date is not null and id_birth_date is not null and birth_date <> id_birth_date', conds=conds) }}
    union all
    {{ m.finding('id_sex_mismatch', 'sex', "'recorded sex differs from the ID'", 'sex__raw', 'flagged', 'sex is not null and id_sex is not null and sex <> id_sex', conds=conds) }}
    union all
    {{ m.finding('duplicate_person_kept', 'id_number', "'kept: later rows with the same ID were quarantined'", 'null', 'flagged', 'id_rank = 1 and id_count > 1', conds=conds) }}
),

label_findings as (
    {{ m.unknown_label_findings(columns.registry, 'flagged', conds=conds) }}
),

income_findings as (
    {%- set tolerance = '(select income_identity_tolerance from settings)' %}
    {%- set transfer_items_sum = 'coalesce(' ~ transfer_items | join(', 0) + coalesce(') ~ ', 0)' %}
    {%- for name in income_columns %}
    {{ m.finding('income_not_numeric', name, "'income cell is not a number'", name ~ '__raw', 'flagged', m.norm(name ~ '__raw') ~ ' is not null and ' ~ name ~ ' is null', conds=conds) }}
    union all
    {%- endfor %}
    {%- for name in income_columns if name not in income_may_be_negative %}
    {{ m.finding('income_negative', name, "'negative value where the component must be >= 0'", name ~ '__raw', 'flagged', name ~ ' < 0', conds=conds) }}
    union all
    {%- endfor %}
    {{ m.finding('income_identity_mismatch', 'gross_income', "'年收入 <> 工资性 + 生产经营性 + 财产性 + 转移性收入'", 'gross_income__raw', 'flagged',
        'abs(gross_income - (wage_income + operating_income + property_income + transfer_income)) > ' ~ tolerance, conds=conds) }}
    union all
    {{ m.finding('income_identity_mismatch', 'transfer_income', "'转移性收入 <> sum of its items'", 'transfer_income__raw', 'flagged',
        'coalesce(' ~ transfer_items | join(', ') ~ ') is not null and abs(transfer_income - (' ~ transfer_items_sum ~ ')) > ' ~ tolerance, conds=conds) }}
    union all
    {{ m.finding('income_identity_mismatch', 'net_income', "'纯收入 <> 年收入 - 生产经营性支出'", 'net_income__raw', 'flagged',
        'abs(net_income - (gross_income - production_cost)) > ' ~ tolerance, conds=conds) }}
    union all
    {{ m.finding('income_identity_mismatch', 'per_capita_net_income', "'人均纯收入 <> 纯收入 / " ~ income_denominator ~ "'", 'per_capita_net_income__raw', 'flagged',
        'coalesce(' ~ income_denominator ~ ', household_size) > 0 and abs(per_capita_net_income - net_income / coalesce(' ~ income_denominator ~ ', household_size)) > ' ~ tolerance, conds=conds) }}
),

household_findings as (
    {{ m.finding('multiple_heads', 'relation', "'household has ' || cast(hh_head_count as varchar) || ' rows with 户主'", 'null', 'flagged', 'hh_head_count > 1', conds=conds) }}
    union all
    {{ m.finding('no_head', 'relation', "'household has no 户主 row'", 'null', 'flagged', 'hh_head_count = 0', conds=conds) }}
    union all
    {{ m.finding('multiple_spouses', 'relation', "'household has ' || cast(hh_spouse_count as varchar) || ' rows with 配偶'", 'null', 'flagged', 'hh_spouse_count > 1', conds=conds) }}
    union all
    {{ m.finding('household_size_mismatch', 'household_size', "'人数 ' || cast(hh_household_size as varchar) || ' but ' || cast(hh_member_count as varchar) || ' member rows loaded'", 'household_size__raw', 'flagged', 'hh_household_size <> hh_member_count', conds=conds) }}
    {%- for name in household_fields %}
    union all
    {{ m.finding('household_fields_disagree', name, "'differs from the value on the household''s 户主 row'", (name ~ '__raw' if name in raw_kept else name), 'flagged', name ~ ' is not null and hh_' ~ name ~ ' is not null and ' ~ name ~ ' <> hh_' ~ name, conds=conds) }}
    {%- endfor %}
),

{%- endset %}
with

members as (
    select * from {{ ref('int_persons_loaded') }}
),

settings as (
    select * from {{ ref('param_ingest') }}
),

with_household as (
    select
        p.*,
        c.head_count as hh_head_count,
        c.spouse_count as hh_spouse_count,
        h.member_count as hh_member_count
        {%- for name in household_fields %},
        h.{{ name }} as hh_{{ name }}
        {%- endfor %}
    from members as p
    -- left joins: a row without its household's rows still gets its own findings; the household
    -- checks compare hh_ columns, NULL (no finding) without them
    left join {{ ref('int_households_reconciled') }} as c
        on c.period = p.period and c.household_key = p.household_key
    left join {{ ref('households') }} as h
        on h.period = p.period and h.household_key = p.household_key
),

flagged as (
    select *
    from with_household
    where {% for c in conds %}{% if not loop.first %}
        or {% endif %}coalesce(({{ c }}), false){% endfor %}
),


{{ checks }}

merged_findings as (
    select
        p.period, p.source_kind, p.source_file, p.file_id, p.sheet, p.source_row,
        'merged_cell_filled' as reason,
        f.first_header as column_key,
        'filled from merged cells: ' || f.headers as detail,
        cast(null as varchar) as raw_value,
        p.household_key,
        p.person_key
    from members as p
    inner join {{ ref('raw_merged_fills') }} as f
        on f.file_id = p.file_id and f.source_row = p.source_row
),

final as (
    select * from id_findings
    union all
    select * from label_findings
    union all
    select * from income_findings
    union all
    select * from household_findings
    union all
    select * from merged_findings
)

select * from final
