-- card_policies: the policies each carded household receives this year, as far as the registry
-- export records them (config/risk.toml [[cards.received]]): a transfer amount above zero, members
-- flagged, or a household flag or code. Policies the export has no column for are not invented:
-- the card refers to the village ledger for them ([cards] not_in_export).
-- key: household_key, policy
--
-- inputs: card_households, households, persons (the period), param_card_policies (code, label,
--         sort_order), param_card_policy_codes (policy, code)
with

households as (
    select h.*
    from {{ ref('households') }} as h
    inner join {{ ref('card_households') }} as c on c.household_key = h.household_key
),

members as (
    select
        p.household_key
        {%- for p in received if p.members %},
        count(*) filter (where p.{{ p.members }}) as n_{{ p.code }}
        {%- endfor %}
    from {{ ref('persons') }} as p
    inner join {{ ref('card_households') }} as c on c.household_key = p.household_key
    group by p.household_key
),

received as (
    {%- for p in received %}
    {%- if not loop.first %}
    union all
    {%- endif %}
    select
        h.household_key,
        '{{ p.code }}' as policy,
        {{ 'cast(h.' ~ p.amount ~ ' as double)' if p.amount else 'cast(null as double)' }} as amount,
        {{ 'cast(m.n_' ~ p.code ~ ' as integer)' if p.members else 'cast(null as integer)' }} as members
    from households as h
    left join members as m on m.household_key = h.household_key
    where false
        {%- if p.amount %} or h.{{ p.amount }} > 0{% endif %}
        {%- if p.members %} or m.n_{{ p.code }} > 0{% endif %}
        {%- if p.household_flag %} or h.{{ p.household_flag }}{% endif %}
        {%- if p.household_codes %}
        or h.{{ p.household_codes }} in (
            select c.code from {{ ref('param_card_policy_codes') }} as c where c.policy = '{{ p.code }}')
        {%- endif %}
    {%- endfor %}
),

final as (
    select
        r.household_key,
        r.policy,
        l.sort_order,
        l.label,
        r.amount,
        r.members
    from received as r
    inner join {{ ref('param_card_policies') }} as l on l.code = r.policy
)

select * from final
