-- int_household_base: one row per household of the period, persons -> households in one pass:
-- status, income per capita (the first non-null configured column) and the member facts the
-- risk rules and the transitions read (members, able to work, migrants, ill or disabled). Built
-- once per quarter (_macros.sql household_base); int_risk_income and transitions read it instead
-- of grouping persons again. members is null for a household without a person row (so are the
-- member counts).
-- key: household_key
--
-- inputs: households, persons (the period), param_risk_codes (labour_capable, migrant_statuses)
{% import '_macros.sql' as m with context %}
{{ m.household_base(ref('households'), ref('persons'), ref('param_risk_codes')) }}
