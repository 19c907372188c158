-- int_household_base_prev: int_household_base of the previous snapshot (transitions' from side).
-- key: household_key
--
-- inputs: households_prev, persons_prev, param_risk_codes
{% import '_macros.sql' as m with context %}
{{ m.household_base(ref('households_prev'), ref('persons_prev'), ref('param_risk_codes')) }}
