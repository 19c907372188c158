-- reference_measures_risk: a hand-written DuckDB script for the core outputs of the measures and
-- risk stages of one quarter, over the same canonical Parquet (benchmarks/reference.py runs it and
-- binds its inputs). It is the yardstick of `make bench` (issue #12 part 3), not part of the pipeline:
-- no graph runner, no policy objects, one pass of persons -> households, plain SQL.
--
-- inputs (views / tables bound by benchmarks/reference.py):
--   households, persons, households_prev, persons_prev, population (the year's rows)
--   ref_run(year, city_code), ref_lines(line_name, line_value)       measures' named + sensitivity lines
--   ref_roles(role, value)                                           national / guideline / monitoring
--   ref_status(group_name, code)                                     poor / exited status groups
--   ref_bands(band_order, code, role)                                risk income bands ('' = catch-all)
--   ref_codes(list_name, code)                                       labour_capable, migrant_statuses
--   ref_named_lines(line_name, line_value)                           measures' named lines (the profile's)
--   ref_size_bands(min_size, max_size, label)                        the profile's household-size bands
--   int_household_deprivations                                       validate's stored criteria (water level)
--   ref_af_weights(indicator, weight), ref_af_cutoffs(k_name, k_num, k_den)  Alkire-Foster: integer
--       weights of the six shipped indicators (food ... water) and the cutoffs as exact fractions
--   survey_households (the period), ref_survey_run(total_level, total_code, lonely_psu, ci_z)
--       the shipped design (config/surveys/sample_city.toml): stratum county_code, PSU village_code,
--       person weight design_weight x household_size, income per_capita_net_income, domains by county
-- outputs (tables):
--   ref_incidence    (domain_level, domain_code, poor_persons, rural_population, estimate)
--   ref_fgt          (domain_level, domain_code, line_name, fgt0, fgt1, fgt2, n_units, w_total)
--   ref_gini         (domain_level, domain_code, gini, mean_income)
--   ref_risk         the risk table: one row per household, every column risk publishes
--   ref_transitions  one row per household in either quarter: presence, statuses, flows, incomes, risk
--   ref_watch_counts, ref_gaps, ref_coverage   watch_group_counts, assistance_gaps, assistance_coverage
--   ref_matrix       (from_status, to_status): labels, households, persons, persons in households, mean income change
--   (ref_periods(period, previous_period); ref_labels domain 'transition_status': status labels + absent, not_registered)
--   ref_profile      (dimension, group_value, line_name, fgt0, fgt1, share_of_poor, n_units, w_total)
--   ref_water        (domain_level, domain_code, safe, basic, unsafe, unknown, n_units, w_total)
--   ref_af           (domain_level, domain_code, line_name, line_value, af_h, af_a, af_m0, censored_<i>,
--                     contribution_<i>, n_units, w_total) by cutoff; ref_af_uncensored (..., uncensored_<i>)
--   ref_survey       (domain_level, domain_code, measure, line_name, estimate, std_error, ci_low, ci_high,
--                     n_units, w_total, design_df): FGT0-2 at every line, mean income (linearised SEs),
--                     incidence_survey (FGT0 at the named lines), Gini (point estimate)

-- ---- the household base: persons -> households once, both quarters ---------------------------
create or replace temp table ref_members as
select
    household_key,
    count(*) as members,
    sum(case when labour_skill in (select code from ref_codes where list_name = 'labour_capable')
             then 1 else 0 end) as capable_members,
    sum(case when migrant_status in (select code from ref_codes where list_name = 'migrant_statuses')
             then 1 else 0 end) as migrant_members,
    sum(case when coalesce(health_serious_illness, false) or coalesce(health_disabled, false)
             then 1 else 0 end) as ill_or_disabled_members
from persons
group by household_key;

create or replace temp table ref_base as
select
    h.household_key, h.county_code, h.township_code, h.village_code,
    coalesce(h.poverty_status, 'not_registered') as status,
    coalesce(h.per_capita_net_income_derived, h.per_capita_net_income) as income,
    cast(coalesce(h.household_size, h.member_count) as double) as persons,
    coalesce(h.member_count, m.members, h.household_size) as persons_counted,
    h.household_attribute, h.main_cause, h.return_cause, h.monitoring_category, h.relocated,
    coalesce(h.household_size, h.member_count) as size,
    m.members, m.capable_members, m.migrant_members, m.ill_or_disabled_members
from households as h
left join ref_members as m on m.household_key = h.household_key;

-- ---- administrative incidence: village, township, county, city --------------------------------
create or replace temp table ref_incidence as
with poor_by_village as (
    select p.county_code, p.township_code, p.village_code, count(*) as poor_persons
    from persons as p
    inner join households as h on h.household_key = p.household_key
    where h.poverty_status in (select code from ref_status where group_name = 'poor')
    group by all
),
pop as (
    select county_code, township_code, village_code, sum(rural_population) as rural_population
    from population where year = (select year from ref_run) group by all
),
villages as (
    select coalesce(v.county_code, p.county_code) as county_code,
           coalesce(v.township_code, p.township_code) as township_code,
           coalesce(v.village_code, p.village_code) as village_code,
           coalesce(v.poor_persons, 0) as poor_persons, p.rural_population
    from poor_by_village as v full outer join pop as p on p.village_code = v.village_code
),
levels as (
    select 'village' as domain_level, village_code as domain_code, sum(poor_persons) as poor_persons,
           sum(rural_population) as rural_population, count(*) - count(rural_population) as missing
    from villages group by village_code
    union all
    select 'township', township_code, sum(poor_persons), sum(rural_population), count(*) - count(rural_population)
    from villages group by township_code
    union all
    select 'county', county_code, sum(poor_persons), sum(rural_population), count(*) - count(rural_population)
    from villages group by county_code
    union all
    select 'city', (select city_code from ref_run), sum(poor_persons), sum(rural_population),
           count(*) - count(rural_population)
    from villages
)
select domain_level, domain_code, poor_persons, rural_population,
       case when missing = 0 then poor_persons / nullif(rural_population, 0) end as estimate
from levels;

-- ---- registry FGT0-2 by county and city at every line (person-weighted) -----------------------
create or replace temp table ref_fgt as
with units as (
    select county_code, income, persons from ref_base where income is not null and persons is not null
),
per_line as (
    select u.county_code, l.line_name, u.persons as w,
           case when u.income < l.line_value then (l.line_value - u.income) / l.line_value else 0.0 end as gap,
           case when u.income < l.line_value then 1.0 else 0.0 end as poor
    from units as u cross join ref_lines as l
),
county as (
    select county_code, line_name, count(*) as n_units, sum(w) as w_total, sum(w * poor) as w_poor,
           sum(w * gap) as w_gap, sum(w * gap * gap) as w_gap2
    from per_line group by county_code, line_name
)
select 'county' as domain_level, county_code as domain_code, line_name, w_poor / w_total as fgt0,
       w_gap / w_total as fgt1, w_gap2 / w_total as fgt2, n_units, w_total
from county
union all
select 'city', (select city_code from ref_run), line_name, sum(w_poor) / sum(w_total), sum(w_gap) / sum(w_total),
       sum(w_gap2) / sum(w_total), sum(n_units), sum(w_total)
from county group by line_name;

-- ---- Gini and mean income by county and city (person-weighted) --------------------------------
create or replace temp table ref_gini as
with units as (
    select 'county' as domain_level, county_code as domain_code, income, persons as w
    from ref_base where income is not null and persons is not null
    union all
    select 'city', (select city_code from ref_run), income, persons
    from ref_base where income is not null and persons is not null
),
cumulated as (
    select domain_level, domain_code, income, w,
           coalesce(sum(w * income) over (partition by domain_level, domain_code order by income
                                          rows between unbounded preceding and 1 preceding), 0.0) as before
    from units
)
select domain_level, domain_code,
       1.0 - sum(w * (2.0 * before + w * income)) / (sum(w) * sum(w * income)) as gini,
       sum(w * income) / sum(w) as mean_income
from cumulated group by domain_level, domain_code;

-- ---- registry profile: FGT0, FGT1 and share of the poor by subgroup at the named lines (city) ---
create or replace temp table ref_profile as
with units as (
    select b.income, b.persons as w,
           coalesce(b.household_attribute, 'unknown') as household_attribute,
           coalesce(b.main_cause, 'unknown') as main_cause,
           coalesce(s.label, 'unknown') as size_band,
           case when coalesce(b.ill_or_disabled_members, 0) > 0 then 'true' else 'false' end as has_disabled_or_ill,
           coalesce(cast(b.relocated as varchar), 'unknown') as relocated
    from ref_base as b
    left join ref_size_bands as s on b.size between s.min_size and s.max_size
    where b.income is not null and b.persons is not null
),
long as (
    unpivot units on household_attribute, main_cause, size_band, has_disabled_or_ill, relocated
    into name dimension value group_value
),
sums as (
    select u.dimension, u.group_value, l.line_name, count(*) as n_units, sum(u.w) as w_total,
           sum(case when u.income < l.line_value then u.w else 0.0 end) as w_poor,
           sum(case when u.income < l.line_value then u.w * (l.line_value - u.income) / l.line_value
                    else 0.0 end) as w_gap
    from long as u cross join ref_named_lines as l
    group by all
),
all_poor as (
    select l.line_name, sum(case when u.income < l.line_value then u.w else 0.0 end) as w_poor_all
    from units as u cross join ref_named_lines as l
    group by l.line_name
)
select s.dimension, s.group_value, s.line_name, s.w_poor / s.w_total as fgt0, s.w_gap / s.w_total as fgt1,
       s.w_poor / nullif(a.w_poor_all, 0) as share_of_poor, s.n_units, s.w_total
from sums as s inner join all_poor as a on a.line_name = s.line_name;

-- ---- water: person-weighted shares of households at each 饮水安全 level, county and city -------
create or replace temp table ref_water as
with units as (
    select county_code, cast(household_size as double) as w, coalesce(water_level, 'unknown') as level
    from int_household_deprivations
),
domains as (
    select 'county' as domain_level, county_code as domain_code, level, w from units where county_code is not null
    union all
    select 'city', (select city_code from ref_run), level, w from units
)
select domain_level, domain_code,
       sum(case when level = 'safe' then w else 0.0 end) / nullif(sum(w), 0) as safe,
       sum(case when level = 'basic' then w else 0.0 end) / nullif(sum(w), 0) as basic,
       sum(case when level = 'unsafe' then w else 0.0 end) / nullif(sum(w), 0) as unsafe,
       sum(case when level = 'unknown' then w else 0.0 end) / nullif(sum(w), 0) as unknown,
       count(*) as n_units, sum(w) as w_total
from domains
group by domain_level, domain_code;

-- ---- survey: design-weighted FGT0-2 at every line and mean income with linearised SEs ----------
-- stratified cluster design, with replacement: z_i = w_i (y_i - R) / W for the domain's units (0
-- outside), z_hj = sum over PSU j of stratum h (every PSU of the sample), var = sum_h n_h/(n_h - 1)
-- sum_j (z_hj - mean_h)^2; a stratum with one PSU: centred at the mean of all PSU totals ('adjust')
-- or no variance ('certainty').
create or replace temp table ref_survey as
with units as (
    select cast(county_code as varchar) as stratum, cast(village_code as varchar) as psu,
           cast(design_weight * household_size as double) as w, cast(per_capita_net_income as double) as income,
           cast(county_code as varchar) as county_code
    from survey_households
),
psus as (
    select distinct stratum, psu from units
),
strata as (
    select stratum, count(*) as n_h from psus group by stratum
),
unit_values as (
    select u.stratum, u.psu, u.w, u.county_code, m.measure, l.line_name, l.line_value,
           case when u.income is null then null
                when u.income >= l.line_value then 0.0
                when m.measure = 'fgt0' then 1.0
                when m.measure = 'fgt1' then (l.line_value - u.income) / l.line_value
                else ((l.line_value - u.income) / l.line_value) * ((l.line_value - u.income) / l.line_value)
           end as y
    from units as u
    cross join ref_lines as l
    cross join (values ('fgt0'), ('fgt1'), ('fgt2')) as m(measure)
    union all
    select stratum, psu, w, county_code, 'mean_income', null, null, income from units
),
in_domain as (
    select r.total_level as domain_level, r.total_code as domain_code, v.stratum, v.psu, v.w, v.y,
           v.measure, v.line_name, v.line_value
    from unit_values as v cross join ref_survey_run as r
    where v.y is not null and v.w is not null
    union all
    select 'county', v.county_code, v.stratum, v.psu, v.w, v.y, v.measure, v.line_name, v.line_value
    from unit_values as v
    where v.county_code is not null and v.y is not null and v.w is not null
),
estimates as (
    select domain_level, domain_code, measure, line_name, max(line_value) as line_value, count(*) as n_units,
           sum(w) as w_total, sum(w * y) / nullif(sum(w), 0) as estimate
    from in_domain
    group by domain_level, domain_code, measure, line_name
),
psu_z as (
    select d.domain_level, d.domain_code, d.measure, d.line_name, d.stratum, d.psu,
           sum(d.w * (d.y - e.estimate) / e.w_total) as z
    from in_domain as d
    inner join estimates as e
        on e.domain_level = d.domain_level and e.domain_code = d.domain_code and e.measure = d.measure
       and e.line_name is not distinct from d.line_name
    group by all
),
grid as (
    select e.domain_level, e.domain_code, e.measure, e.line_name, p.stratum, p.psu, coalesce(z.z, 0.0) as z
    from estimates as e
    cross join psus as p
    left join psu_z as z
        on z.domain_level = e.domain_level and z.domain_code = e.domain_code and z.measure = e.measure
       and z.line_name is not distinct from e.line_name
       and z.stratum is not distinct from p.stratum and z.psu is not distinct from p.psu
),
centred as (
    select g.*, s.n_h,
           avg(g.z) over (partition by g.domain_level, g.domain_code, g.measure, g.line_name, g.stratum) as z_mean,
           sum(g.z) over (partition by g.domain_level, g.domain_code, g.measure, g.line_name)
               / (select count(*) from psus) as z_grand
    from grid as g
    inner join strata as s on s.stratum is not distinct from g.stratum
),
variances as (
    select c.domain_level, c.domain_code, c.measure, c.line_name,
           sum(case when c.n_h > 1 then c.n_h / (c.n_h - 1.0) * (c.z - c.z_mean) * (c.z - c.z_mean)
                    when r.lonely_psu = 'adjust' then (c.z - c.z_grand) * (c.z - c.z_grand)
                    else 0.0 end) as variance
    from centred as c cross join ref_survey_run as r
    group by all
),
ratios as (
    select e.domain_level, e.domain_code, e.measure, e.line_name, e.estimate, sqrt(v.variance) as std_error,
           e.n_units, e.w_total
    from estimates as e
    inner join variances as v
        on v.domain_level = e.domain_level and v.domain_code = e.domain_code and v.measure = e.measure
       and v.line_name is not distinct from e.line_name
),
gini_units as (
    select r.total_level as domain_level, r.total_code as domain_code, u.income, u.w
    from units as u cross join ref_survey_run as r
    where u.income is not null and u.w is not null
    union all
    select 'county', county_code, income, w from units
    where county_code is not null and income is not null and w is not null
),
gini_cumulated as (
    select domain_level, domain_code, income, w,
           coalesce(sum(w * income) over (partition by domain_level, domain_code order by income
                                          rows between unbounded preceding and 1 preceding), 0.0) as before
    from gini_units
),
gini as (
    select domain_level, domain_code, 'gini' as measure, cast(null as varchar) as line_name,
           1.0 - sum(w * (2.0 * before + w * income)) / nullif(sum(w) * sum(w * income), 0) as estimate,
           cast(null as double) as std_error, count(*) as n_units, sum(w) as w_total
    from gini_cumulated
    group by domain_level, domain_code
),
published as (
    select * from ratios
    union all
    select domain_level, domain_code, 'incidence_survey', line_name, estimate, std_error, n_units, w_total
    from ratios where measure = 'fgt0' and line_name in (select line_name from ref_named_lines)
    union all
    select * from gini
)
select p.domain_level, p.domain_code, p.measure, p.line_name, p.estimate, p.std_error,
       case when p.std_error is not null then greatest(0, p.estimate - r.ci_z * p.std_error) end as ci_low,
       case when p.std_error is null then null
            when p.measure = 'mean_income' then p.estimate + r.ci_z * p.std_error
            else least(1, p.estimate + r.ci_z * p.std_error) end as ci_high,
       p.n_units, p.w_total,
       (select count(*) from psus) - (select count(*) from strata) as design_df
from published as p cross join ref_survey_run as r;

-- ---- Alkire-Foster over the stored 两不愁三保障 + water flags, person-weighted, county and city ----
-- poor at cutoff k = a/b  <=>  score * b >= a * total weight (integers, as the stage)
-- the indicators' weights as one row (read by the scores and by the contributions)
create or replace temp table ref_af_weight_row as
select max(case when indicator = 'food' then weight end) as w_food,
       max(case when indicator = 'clothing' then weight end) as w_clothing,
       max(case when indicator = 'education' then weight end) as w_education,
       max(case when indicator = 'medical' then weight end) as w_medical,
       max(case when indicator = 'housing' then weight end) as w_housing,
       max(case when indicator = 'water' then weight end) as w_water,
       sum(weight) as total_weight
from ref_af_weights;

create or replace temp table ref_af_units as
with
units as (
    select county_code, cast(household_size as double) as w,
           case when food_deprived then 1 else 0 end as d_food,
           case when clothing_deprived then 1 else 0 end as d_clothing,
           case when education_deprived then 1 else 0 end as d_education,
           case when medical_deprived then 1 else 0 end as d_medical,
           case when housing_deprived then 1 else 0 end as d_housing,
           case when water_deprived then 1 else 0 end as d_water
    from int_household_deprivations
),
scored as (
    select u.*, u.d_food * k.w_food + u.d_clothing * k.w_clothing + u.d_education * k.w_education + u.d_medical * k.w_medical + u.d_housing * k.w_housing + u.d_water * k.w_water as score, k.total_weight
    from units as u cross join ref_af_weight_row as k
)
select 'county' as domain_level, county_code as domain_code, * exclude (county_code) from scored
where county_code is not null
union all
select 'city', (select city_code from ref_run), * exclude (county_code) from scored;

create or replace temp table ref_af as
with
flagged as (
    select u.*, c.k_name, cast(c.k_num as double) / c.k_den as k_value,
           u.score * c.k_den >= c.k_num * u.total_weight as poor
    from ref_af_units as u cross join ref_af_cutoffs as c
),
censored as (
    select domain_level, domain_code, k_name, k_value, count(*) as n_units, sum(w) as w_total,
           sum(case when poor then w else 0 end) as w_poor,
           sum(case when poor then w * score else 0 end) / max(total_weight) as w_poor_score,
           sum(case when poor then w * d_food else 0 end) as c_food,
           sum(case when poor then w * d_clothing else 0 end) as c_clothing,
           sum(case when poor then w * d_education else 0 end) as c_education,
           sum(case when poor then w * d_medical else 0 end) as c_medical,
           sum(case when poor then w * d_housing else 0 end) as c_housing,
           sum(case when poor then w * d_water else 0 end) as c_water
    from flagged
    group by domain_level, domain_code, k_name, k_value
)
select c.domain_level, c.domain_code, c.k_name as line_name, c.k_value as line_value,
       c.w_poor / nullif(c.w_total, 0) as af_h,
       c.w_poor_score / nullif(c.w_poor, 0) as af_a,
       c.w_poor_score / nullif(c.w_total, 0) as af_m0,
       c.c_food / nullif(c.w_total, 0) as censored_food,
       c.c_clothing / nullif(c.w_total, 0) as censored_clothing,
       c.c_education / nullif(c.w_total, 0) as censored_education,
       c.c_medical / nullif(c.w_total, 0) as censored_medical,
       c.c_housing / nullif(c.w_total, 0) as censored_housing,
       c.c_water / nullif(c.w_total, 0) as censored_water,
       k.w_food * c.c_food / nullif(c.w_poor_score * k.total_weight, 0) as contribution_food,
       k.w_clothing * c.c_clothing / nullif(c.w_poor_score * k.total_weight, 0) as contribution_clothing,
       k.w_education * c.c_education / nullif(c.w_poor_score * k.total_weight, 0) as contribution_education,
       k.w_medical * c.c_medical / nullif(c.w_poor_score * k.total_weight, 0) as contribution_medical,
       k.w_housing * c.c_housing / nullif(c.w_poor_score * k.total_weight, 0) as contribution_housing,
       k.w_water * c.c_water / nullif(c.w_poor_score * k.total_weight, 0) as contribution_water,
       c.n_units, c.w_total
from censored as c cross join ref_af_weight_row as k;

create or replace temp table ref_af_uncensored as
select domain_level, domain_code,
       sum(w * d_food) / nullif(sum(w), 0) as uncensored_food,
       sum(w * d_clothing) / nullif(sum(w), 0) as uncensored_clothing,
       sum(w * d_education) / nullif(sum(w), 0) as uncensored_education,
       sum(w * d_medical) / nullif(sum(w), 0) as uncensored_medical,
       sum(w * d_housing) / nullif(sum(w), 0) as uncensored_housing,
       sum(w * d_water) / nullif(sum(w), 0) as uncensored_water,
       count(*) as n_units, sum(w) as w_total
from ref_af_units
group by domain_level, domain_code;

-- ---- risk: the whole risk table of the quarter --------------------------------------------------
-- Written out for the shipped config/risk.toml (its 27 signals, three levels, the category rules,
-- five watch groups and the 风险消除 rules; benchmarks/reference.py refuses another configuration);
-- thresholds, lines, code lists and labels come from the parameter tables.
-- inputs besides the above: households_history (the quarters the rules look back to, with period),
--   ref_quarters(period, year, quarter_index, is_current), ref_roles_by_year(year, role, value),
--   ref_thresholds (one row), ref_labels(domain, code, label), crosscheck_findings
create or replace temp table ref_risk as
with t as (
    select * from ref_thresholds
),
now as (
    select year, quarter_index from ref_quarters where is_current
),
lines_by_year as (
    select year,
           max(case when role = 'national' then value end) as national,
           max(case when role = 'guideline' then value end) as guideline,
           max(case when role = 'monitoring' then value end) as monitoring
    from ref_roles_by_year group by year
),
history as (
    select h.household_key, q.year, q.quarter_index,
           coalesce(h.per_capita_net_income_derived, h.per_capita_net_income) as income, h.net_income
    from households_history as h inner join ref_quarters as q on q.period = h.period
),
previous_quarter as (
    select household_key, income as prev_income from history
    where quarter_index = (select quarter_index - 1 from now)
),
year_ago as (
    select household_key, net_income as year_ago_net_income from history
    where quarter_index = (select quarter_index - 4 from now)
),
stable_quarters as (
    select h.household_key, count(*) filter (where h.income >= l.monitoring) as quarters_above
    from history as h
    inner join lines_by_year as l on l.year = h.year
    cross join t
    where h.quarter_index between (select quarter_index from now) - (t.consecutive_quarters - 1)
                              and (select quarter_index from now)
    group by h.household_key
),
xc as (
    select household_key,
           max(case when rule = 'insured_not_enrolled' then 1 else 0 end) = 1 as xc_insured_not_enrolled,
           max(case when rule = 'high_out_of_pocket' then 1 else 0 end) = 1 as xc_high_out_of_pocket,
           max(case when rule = 'assistance_not_in_registry' then 1 else 0 end) = 1 as xc_assistance_not_in_registry,
           max(case when rule = 'assistance_not_in_civil' then 1 else 0 end) = 1 as xc_assistance_not_in_civil,
           max(case when rule = 'new_disability' then 1 else 0 end) = 1 as xc_new_disability,
           max(case when rule = 'child_not_on_roster' then 1 else 0 end) = 1 as xc_child_not_on_roster,
           max(case when rule = 'unsafe_housing_grade' then 1 else 0 end) = 1 as xc_unsafe_housing_grade,
           max(case when rule = 'water_not_covered' then 1 else 0 end) = 1 as xc_water_not_covered,
           max(case when rule = 'dead_in_registry' then 1 else 0 end) = 1 as xc_dead_in_registry
    from crosscheck_findings where household_key is not null
    group by household_key
),
xc_evidence as (
    select household_key, string_agg(item, '；' order by item) as crosscheck_evidence
    from (select distinct household_key,
                 rule_label || '(' || department_label || ' ' || coalesce(cast(record_date as varchar), '日期不详')
                 || ')' as item
          from crosscheck_findings where household_key is not null) as items
    group by household_key
),
measured as (
    select h.*,
           coalesce(h.per_capita_net_income_derived, h.per_capita_net_income) as income,
           l.national, l.guideline, l.monitoring,
           m.members, m.capable_members, m.migrant_members, m.ill_or_disabled_members,
           p.prev_income,
           coalesce(h.gross_income, coalesce(h.wage_income, 0) + coalesce(h.operating_income, 0)
                    + coalesce(h.property_income, 0) + coalesce(h.transfer_income, 0)) as gross_used,
           y.year_ago_net_income,
           coalesce(s.quarters_above, 0) as quarters_above,
           d.household_key is not null as has_deprivations, d.food_deprived, d.clothing_deprived, d.education_deprived, d.medical_deprived, d.housing_deprived, d.water_deprived,
           x.* exclude (household_key), e.crosscheck_evidence
    from households as h
    cross join now
    left join lines_by_year as l on l.year = now.year
    left join ref_members as m on m.household_key = h.household_key
    left join previous_quarter as p on p.household_key = h.household_key
    left join year_ago as y on y.household_key = h.household_key
    left join stable_quarters as s on s.household_key = h.household_key
    left join int_household_deprivations as d on d.household_key = h.household_key
    left join xc as x on x.household_key = h.household_key
    left join xc_evidence as e on e.household_key = h.household_key
),
positioned as (
    select m.*,
           coalesce(m.member_count, m.members, m.household_size) as persons,
           round(m.income / nullif(m.national, 0), 6) as ratio_national,
           round(m.income / nullif(m.guideline, 0), 6) as ratio_guideline,
           round(m.income / nullif(m.monitoring, 0), 6) as ratio_monitoring,
           case when m.income < m.national then 'national' when m.income < m.guideline then 'guideline'
                when m.income < m.monitoring then 'monitoring' when m.income is not null then '' end as band_role,
           coalesce(m.income < m.guideline, false) as below_guideline,
           coalesce(m.income < m.monitoring, false) as below_monitoring,
           case when m.prev_income > 0 then round((m.prev_income - m.income) / m.prev_income, 6) end as income_drop_pct,
           round(m.transfer_income / nullif(m.gross_used, 0), 6) as transfer_share,
           round(m.wage_income / nullif(m.gross_used, 0), 6) as wage_share,
           coalesce(m.medical_out_of_pocket, 0) + coalesce(m.education_spending, 0) as rigid_spending_amount,
           coalesce(m.year_ago_net_income, m.net_income) as last_year_net_income
    from measured as m
),
flagged as (
    select m.*,
           coalesce(m.band_role = 'national', false) as sig_below_national,
           coalesce(m.band_role = 'guideline', false) as sig_below_guideline,
           coalesce(m.band_role = 'monitoring', false) as sig_near_threshold,
           coalesce(m.income_drop_pct >= t.income_drop_min, false) as sig_income_drop,
           coalesce(m.rigid_spending_amount > t.rigid_spending_ratio * m.last_year_net_income, false)
               as sig_rigid_spending,
           coalesce(m.medical_out_of_pocket > t.large_medical_min, false) as sig_large_medical,
           coalesce(m.return_cause in (select code from ref_codes where list_name = 'shock_causes'), false)
               as sig_disaster_shock,
           coalesce(m.ill_or_disabled_members > 0, false) as sig_illness_disability,
           coalesce(m.members > 0 and m.capable_members = 0, false) as sig_no_labour,
           coalesce(m.transfer_share >= t.transfer_share_min, false) as sig_high_transfer_share,
           coalesce(m.migrant_members = 1 and m.wage_share >= t.single_migrant_wage_share_min, false)
               as sig_single_migrant_income,
           coalesce(m.relocated and not coalesce(m.relocation_settled, false), false) as sig_relocation_unsettled,
           coalesce(m.food_deprived, false) as sig_gap_food,
           coalesce(m.clothing_deprived, false) as sig_gap_clothing,
           coalesce(m.education_deprived, false) as sig_gap_education,
           coalesce(m.medical_deprived, false) as sig_gap_medical,
           coalesce(m.housing_deprived, false) as sig_gap_housing,
           coalesce(m.water_deprived, false) as sig_gap_water,
           coalesce(m.xc_insured_not_enrolled, false) as sig_xc_insured_not_enrolled,
           coalesce(m.xc_high_out_of_pocket, false) as sig_xc_high_out_of_pocket,
           coalesce(m.xc_assistance_not_in_registry, false) as sig_xc_assistance_not_in_registry,
           coalesce(m.xc_assistance_not_in_civil, false) as sig_xc_assistance_not_in_civil,
           coalesce(m.xc_new_disability, false) as sig_xc_new_disability,
           coalesce(m.xc_child_not_on_roster, false) as sig_xc_child_not_on_roster,
           coalesce(m.xc_unsafe_housing_grade, false) as sig_xc_unsafe_housing_grade,
           coalesce(m.xc_water_not_covered, false) as sig_xc_water_not_covered,
           coalesce(m.xc_dead_in_registry, false) as sig_xc_dead_in_registry
    from positioned as m cross join t
),
signal_labels as (
    select max(case when code = 'below_national' then label end) as label_below_national,
           max(case when code = 'below_guideline' then label end) as label_below_guideline,
           max(case when code = 'near_threshold' then label end) as label_near_threshold,
           max(case when code = 'income_drop' then label end) as label_income_drop,
           max(case when code = 'rigid_spending' then label end) as label_rigid_spending,
           max(case when code = 'large_medical' then label end) as label_large_medical,
           max(case when code = 'disaster_shock' then label end) as label_disaster_shock,
           max(case when code = 'illness_disability' then label end) as label_illness_disability,
           max(case when code = 'no_labour' then label end) as label_no_labour,
           max(case when code = 'high_transfer_share' then label end) as label_high_transfer_share,
           max(case when code = 'single_migrant_income' then label end) as label_single_migrant_income,
           max(case when code = 'relocation_unsettled' then label end) as label_relocation_unsettled,
           max(case when code = 'gap_food' then label end) as label_gap_food,
           max(case when code = 'gap_clothing' then label end) as label_gap_clothing,
           max(case when code = 'gap_education' then label end) as label_gap_education,
           max(case when code = 'gap_medical' then label end) as label_gap_medical,
           max(case when code = 'gap_housing' then label end) as label_gap_housing,
           max(case when code = 'gap_water' then label end) as label_gap_water,
           max(case when code = 'xc_insured_not_enrolled' then label end) as label_xc_insured_not_enrolled,
           max(case when code = 'xc_high_out_of_pocket' then label end) as label_xc_high_out_of_pocket,
           max(case when code = 'xc_assistance_not_in_registry' then label end) as label_xc_assistance_not_in_registry,
           max(case when code = 'xc_assistance_not_in_civil' then label end) as label_xc_assistance_not_in_civil,
           max(case when code = 'xc_new_disability' then label end) as label_xc_new_disability,
           max(case when code = 'xc_child_not_on_roster' then label end) as label_xc_child_not_on_roster,
           max(case when code = 'xc_unsafe_housing_grade' then label end) as label_xc_unsafe_housing_grade,
           max(case when code = 'xc_water_not_covered' then label end) as label_xc_water_not_covered,
           max(case when code = 'xc_dead_in_registry' then label end) as label_xc_dead_in_registry
    from ref_labels where domain = 'signal'
),
counted as (
    select s.*,
           cast(sig_below_national as integer) + cast(sig_below_guideline as integer) + cast(sig_near_threshold as integer) + cast(sig_income_drop as integer) + cast(sig_rigid_spending as integer) + cast(sig_large_medical as integer) + cast(sig_disaster_shock as integer) + cast(sig_illness_disability as integer) + cast(sig_no_labour as integer) + cast(sig_high_transfer_share as integer) + cast(sig_single_migrant_income as integer) + cast(sig_relocation_unsettled as integer) + cast(sig_gap_food as integer) + cast(sig_gap_clothing as integer) + cast(sig_gap_education as integer) + cast(sig_gap_medical as integer) + cast(sig_gap_housing as integer) + cast(sig_gap_water as integer) + cast(sig_xc_insured_not_enrolled as integer) + cast(sig_xc_high_out_of_pocket as integer) + cast(sig_xc_assistance_not_in_registry as integer) + cast(sig_xc_assistance_not_in_civil as integer) + cast(sig_xc_new_disability as integer) + cast(sig_xc_child_not_on_roster as integer) + cast(sig_xc_unsafe_housing_grade as integer) + cast(sig_xc_water_not_covered as integer) + cast(sig_xc_dead_in_registry as integer) as n_signals,
           concat_ws('；',
               case when s.sig_below_national then l.label_below_national end,
               case when s.sig_below_guideline then l.label_below_guideline end,
               case when s.sig_near_threshold then l.label_near_threshold end,
               case when s.sig_income_drop then l.label_income_drop end,
               case when s.sig_rigid_spending then l.label_rigid_spending end,
               case when s.sig_large_medical then l.label_large_medical end,
               case when s.sig_disaster_shock then l.label_disaster_shock end,
               case when s.sig_illness_disability then l.label_illness_disability end,
               case when s.sig_no_labour then l.label_no_labour end,
               case when s.sig_high_transfer_share then l.label_high_transfer_share end,
               case when s.sig_single_migrant_income then l.label_single_migrant_income end,
               case when s.sig_relocation_unsettled then l.label_relocation_unsettled end,
               case when s.sig_gap_food then l.label_gap_food end,
               case when s.sig_gap_clothing then l.label_gap_clothing end,
               case when s.sig_gap_education then l.label_gap_education end,
               case when s.sig_gap_medical then l.label_gap_medical end,
               case when s.sig_gap_housing then l.label_gap_housing end,
               case when s.sig_gap_water then l.label_gap_water end,
               case when s.sig_xc_insured_not_enrolled then l.label_xc_insured_not_enrolled end,
               case when s.sig_xc_high_out_of_pocket then l.label_xc_high_out_of_pocket end,
               case when s.sig_xc_assistance_not_in_registry then l.label_xc_assistance_not_in_registry end,
               case when s.sig_xc_assistance_not_in_civil then l.label_xc_assistance_not_in_civil end,
               case when s.sig_xc_new_disability then l.label_xc_new_disability end,
               case when s.sig_xc_child_not_on_roster then l.label_xc_child_not_on_roster end,
               case when s.sig_xc_unsafe_housing_grade then l.label_xc_unsafe_housing_grade end,
               case when s.sig_xc_water_not_covered then l.label_xc_water_not_covered end,
               case when s.sig_xc_dead_in_registry then l.label_xc_dead_in_registry end) as reasons_text
    from flagged as s cross join signal_labels as l
),
categorised as (
    select c.*,
           case
               when sig_below_national or sig_below_guideline or sig_income_drop or sig_rigid_spending
                    or sig_disaster_shock or n_signals >= 3 then 'high'
               when sig_near_threshold or sig_large_medical or sig_relocation_unsettled or sig_gap_food or sig_gap_clothing or sig_gap_education or sig_gap_medical or sig_gap_housing or sig_gap_water
                    or n_signals >= 2 then 'medium'
               when n_signals >= 1 then 'low'
               else 'none'
           end as risk_level,
           case
               when coalesce(poverty_status in (select code from ref_status where group_name = 'poor'), false) then null
               when coalesce(poverty_status in (select code from ref_status where group_name = 'exited'), false)
                    and (below_monitoring or sig_income_drop or sig_rigid_spending or sig_large_medical
                         or sig_disaster_shock or sig_relocation_unsettled or sig_single_migrant_income)
                    then 'unstable_exited'
               when poverty_status is null and below_monitoring then 'marginal'
               when sig_income_drop or sig_rigid_spending or sig_large_medical or sig_disaster_shock then 'sudden_hardship'
               when (household_type = 'marginal' or poverty_status is null)
                    and (sig_income_drop or sig_rigid_spending or sig_large_medical or sig_disaster_shock
                         or sig_relocation_unsettled or sig_single_migrant_income) then 'marginal'
           end as proposed_category
    from counted as c
),
grouped as (
    select c.*,
           monitoring_category is not null or proposed_category is not null as monitored,
           coalesce(poverty_status in (select code from ref_status where group_name = 'poor'), false) as wg_not_exited,
           coalesce(monitoring_category = 'unstable_exited', false) or coalesce(proposed_category = 'unstable_exited', false)
               as wg_monitored_exited,
           coalesce(household_type = 'marginal', false)
               or (coalesce(monitoring_category = 'marginal', false) or coalesce(proposed_category = 'marginal', false))
               as wg_marginal,
           coalesce(poverty_status in (select code from ref_status where group_name = 'exited'), false)
               and coalesce(income < guideline, false) as wg_exited_below_guideline,
           (sig_disaster_shock or sig_income_drop or sig_rigid_spending or sig_large_medical)
               or (coalesce(monitoring_category = 'sudden_hardship', false)
                   or coalesce(proposed_category = 'sudden_hardship', false)) as wg_sudden_shock,
           quarters_above >= t.consecutive_quarters as stably_above,
           sig_rigid_spending or sig_large_medical or sig_gap_food or sig_gap_clothing or sig_gap_education or sig_gap_medical or sig_gap_housing or sig_gap_water as blocked,
           t.consecutive_quarters
    from categorised as c cross join t
),
watch_group_labels as (
    select max(case when code = 'not_exited' then label end) as label_not_exited,
           max(case when code = 'monitored_exited' then label end) as label_monitored_exited,
           max(case when code = 'marginal' then label end) as label_marginal,
           max(case when code = 'exited_below_guideline' then label end) as label_exited_below_guideline,
           max(case when code = 'sudden_shock' then label end) as label_sudden_shock
    from ref_labels where domain = 'watch_group'
)
select
    c.period, c.household_key, c.county_code, c.township_code, c.village_code,
    c.household_type, c.poverty_status, c.exit_year, c.main_cause, c.return_cause, c.monitoring_category,
    c.persons, c.income as income_per_capita, c.national as line_national, c.guideline as line_guideline,
    c.monitoring as line_monitoring, c.ratio_national, c.ratio_guideline, c.ratio_monitoring,
    b.code as income_band, bl.label as income_band_label, c.below_guideline, c.below_monitoring,
    c.prev_income as prev_income_per_capita, c.income_drop_pct, c.transfer_share, c.wage_share,
    c.migrant_members, c.capable_members, c.ill_or_disabled_members, c.rigid_spending_amount,
    c.last_year_net_income,
    case when c.year_ago_net_income is not null then 'year_ago_quarter' else 'current' end as last_year_income_source,
    case when c.has_deprivations then 'shared' end as deprivation_source,
    sig_below_national, sig_below_guideline, sig_near_threshold, sig_income_drop, sig_rigid_spending, sig_large_medical, sig_disaster_shock, sig_illness_disability, sig_no_labour, sig_high_transfer_share, sig_single_migrant_income, sig_relocation_unsettled, sig_gap_food, sig_gap_clothing, sig_gap_education, sig_gap_medical, sig_gap_housing, sig_gap_water, sig_xc_insured_not_enrolled, sig_xc_high_out_of_pocket, sig_xc_assistance_not_in_registry, sig_xc_assistance_not_in_civil, sig_xc_new_disability, sig_xc_child_not_on_roster, sig_xc_unsafe_housing_grade, sig_xc_water_not_covered, sig_xc_dead_in_registry,
    c.n_signals, c.risk_level, rl.label as risk_level_label,
    case when c.n_signals > 0 then string_split(c.reasons_text, '；') else cast([] as varchar[]) end as reasons,
    c.reasons_text, c.crosscheck_evidence,
    c.proposed_category, pl.label as proposed_category_label, c.monitored,
    c.wg_not_exited, c.wg_monitored_exited, c.wg_marginal, c.wg_exited_below_guideline, c.wg_sudden_shock,
    concat_ws('、', case when wg_not_exited then w.label_not_exited end, case when wg_monitored_exited then w.label_monitored_exited end, case when wg_marginal then w.label_marginal end, case when wg_exited_below_guideline then w.label_exited_below_guideline end, case when wg_sudden_shock then w.label_sudden_shock end) as watch_groups_text,
    c.quarters_above as quarters_above_monitoring,
    case
        when c.monitoring_category is null then null
        when c.stably_above and not c.blocked and c.sig_no_labour then 'keep_tracking'
        when c.stably_above and not c.blocked then 'eliminate'
        else 'stay_monitored'
    end as elimination_status,
    case when c.monitoring_category is not null then concat_ws('；',
            case when not c.stably_above then '收入未连续' || cast(c.consecutive_quarters as varchar) || '个季度高于监测线' end,
            case when c.sig_rigid_spending then l.label_rigid_spending end,
            case when c.sig_large_medical then l.label_large_medical end,
            case when c.sig_gap_food then l.label_gap_food end,
            case when c.sig_gap_clothing then l.label_gap_clothing end,
            case when c.sig_gap_education then l.label_gap_education end,
            case when c.sig_gap_medical then l.label_gap_medical end,
            case when c.sig_gap_housing then l.label_gap_housing end,
            case when c.sig_gap_water then l.label_gap_water end,
            case when c.sig_no_labour then l.label_no_labour || '(保持跟踪)' end)
    end as elimination_blockers
from grouped as c
cross join signal_labels as l
cross join watch_group_labels as w
left join ref_bands as b on b.role = c.band_role
left join ref_labels as bl on bl.domain = 'income_band' and bl.code = b.code
left join ref_labels as rl on rl.domain = 'risk_level' and rl.code = c.risk_level
left join ref_labels as pl on pl.domain = 'proposed_category' and pl.code = c.proposed_category;

-- ---- transitions between the two quarters ------------------------------------------------------
create or replace temp table ref_person_moves as
select coalesce(c.person_key, p.person_key) as person_key,
       c.household_key as household_now, p.household_key as household_before
from persons as c full outer join persons_prev as p on p.person_key = c.person_key;

create or replace temp table ref_transitions as
with prev_base as (
    select h.household_key, h.county_code, h.township_code, h.village_code,
           coalesce(h.poverty_status, 'not_registered') as status, h.monitoring_category,
           coalesce(h.per_capita_net_income_derived, h.per_capita_net_income) as income,
           coalesce(h.member_count, m.members, h.household_size) as persons_counted
    from households_prev as h
    left join (select household_key, count(*) as members from persons_prev group by household_key) as m
        on m.household_key = h.household_key
),
moved as (
    select distinct household_now as household_key, 'appeared' as side from ref_person_moves
    where household_before is not null and household_now is not null and household_before <> household_now
    union all
    select distinct household_before, 'disappeared' from ref_person_moves
    where household_before is not null and household_now is not null and household_before <> household_now
),
joined as (
    select coalesce(c.household_key, p.household_key) as household_key,
           coalesce(c.county_code, p.county_code) as county_code,
           coalesce(c.township_code, p.township_code) as township_code,
           coalesce(c.village_code, p.village_code) as village_code,
           case when p.household_key is null then 'appeared' when c.household_key is null then 'disappeared'
                else 'both' end as presence,
           coalesce(p.status, 'absent') as from_status, coalesce(c.status, 'absent') as to_status,
           p.monitoring_category as from_monitoring_category, c.monitoring_category as to_monitoring_category,
           p.persons_counted as persons_from, c.persons_counted as persons_to,
           p.income as income_from, c.income as income_to, c.main_cause, c.return_cause
    from ref_base as c full outer join prev_base as p on p.household_key = c.household_key
),
grouped as (
    select j.*,
           case when j.presence = 'appeared' and m.household_key is not null then 'split'
                when j.presence = 'appeared' then 'new'
                when j.presence = 'disappeared' and m.household_key is not null then 'merged'
                when j.presence = 'disappeared' then 'gone' end as presence_detail,
           (select min(group_name) from ref_status where code = j.from_status) as from_group,
           (select min(group_name) from ref_status where code = j.to_status) as to_group
    from joined as j
    left join moved as m on m.household_key = j.household_key and m.side = j.presence
)
select r.period, r.previous_period, g.household_key, g.county_code, g.township_code, g.village_code,
       g.presence, g.presence_detail, g.from_status, g.to_status,
       case
           when presence = 'appeared' and presence_detail = 'new' and to_group = 'poor' then 'newly_poor'
           when presence = 'appeared' then 'appeared'
           when presence = 'disappeared' then 'disappeared'
           when from_group = 'poor' and to_group = 'poor' then 'stayed_poor'
           when from_group = 'poor' and to_group = 'exited' then 'exited'
           when from_group = 'exited' and to_group = 'poor' then 'returned_to_poverty'
           when from_status = 'not_registered' and to_group = 'poor' then 'newly_poor'
           when from_group = 'exited' and to_group = 'exited' then 'stayed_exited'
           when from_status = 'not_registered' and to_status = 'not_registered' then 'stayed_not_registered'
           else 'other'
       end as status_flow,
       g.from_monitoring_category, g.to_monitoring_category,
       case
           when from_monitoring_category is null and to_monitoring_category is not null then 'entered_monitoring'
           when from_monitoring_category is not null and to_monitoring_category is null
                and presence = 'disappeared' then 'left_monitoring_gone'
           when from_monitoring_category is not null and to_monitoring_category is null
                and to_group = 'poor' then 'left_monitoring_to_poverty'
           when from_monitoring_category is not null and to_monitoring_category is null then 'risk_eliminated'
           when from_monitoring_category <> to_monitoring_category then 'changed_category'
           when from_monitoring_category is not null then 'stayed_monitored'
       end as monitoring_flow,
       g.persons_from, g.persons_to, g.income_from, g.income_to, g.income_to - g.income_from as income_change,
       case when g.income_from > 0 then round((g.income_to - g.income_from) / g.income_from, 6) end
           as income_change_pct,
       g.main_cause, g.return_cause, k.risk_level, k.reasons_text
from grouped as g
cross join ref_periods as r
left join ref_risk as k on k.household_key = g.household_key;

create or replace temp table ref_matrix as
with households_flow as (
    select from_status, to_status, count(*) as households,
           sum(coalesce(persons_from, 0)) as persons_in_households_from,
           sum(coalesce(persons_to, 0)) as persons_in_households_to,
           -- exact decimals, so the mean does not depend on the order of the rows
           cast(avg(cast(income_change as decimal(38, 10))) as double) as mean_income_change
    from ref_transitions group by all
),
persons_flow as (
    select coalesce(hp.poverty_status, case when m.household_before is not null then 'not_registered' end, 'absent')
               as from_status,
           coalesce(hc.poverty_status, case when m.household_now is not null then 'not_registered' end, 'absent')
               as to_status,
           count(*) as persons
    from ref_person_moves as m
    left join households as hc on hc.household_key = m.household_now
    left join households_prev as hp on hp.household_key = m.household_before
    group by all
)
select r.period, r.previous_period,
       coalesce(h.from_status, p.from_status) as from_status, coalesce(h.to_status, p.to_status) as to_status,
       fl.label as from_status_label, tl.label as to_status_label,
       coalesce(h.households, 0) as households, coalesce(p.persons, 0) as persons,
       coalesce(h.persons_in_households_from, 0) as persons_in_households_from,
       coalesce(h.persons_in_households_to, 0) as persons_in_households_to,
       h.mean_income_change
from households_flow as h full outer join persons_flow as p
    on p.from_status = h.from_status and p.to_status = h.to_status
cross join ref_periods as r
left join ref_labels as fl on fl.domain = 'transition_status' and fl.code = coalesce(h.from_status, p.from_status)
left join ref_labels as tl on tl.domain = 'transition_status' and tl.code = coalesce(h.to_status, p.to_status);

-- ---- watch-group counts: households and persons per watch group by township, county and city ---
create or replace temp table ref_watch_counts as
with groups(watch_group, watch_group_order) as (
    values ('not_exited', 1), ('monitored_exited', 2), ('marginal', 3), ('exited_below_guideline', 4),
           ('sudden_shock', 5)
),
long as (
    unpivot (select county_code, township_code, coalesce(persons, 0) as persons, wg_not_exited as not_exited,
                    wg_monitored_exited as monitored_exited, wg_marginal as marginal,
                    wg_exited_below_guideline as exited_below_guideline, wg_sudden_shock as sudden_shock
             from ref_risk)
    on not_exited, monitored_exited, marginal, exited_below_guideline, sudden_shock
    into name watch_group value holds
),
held as (
    select l.county_code, l.township_code, l.persons, l.watch_group, g.watch_group_order, b.label as watch_group_label
    from long as l
    inner join groups as g on g.watch_group = l.watch_group
    left join ref_labels as b on b.domain = 'watch_group' and b.code = l.watch_group
    where l.holds
),
counted as (
    select 'township' as region_level, county_code, township_code, watch_group, watch_group_label,
           watch_group_order, count(*) as households, sum(persons) as persons
    from held group by county_code, township_code, watch_group, watch_group_label, watch_group_order
    union all
    select 'county', county_code, null, watch_group, watch_group_label, watch_group_order, count(*), sum(persons)
    from held group by county_code, watch_group, watch_group_label, watch_group_order
    union all
    select 'city', null, null, watch_group, watch_group_label, watch_group_order, count(*), sum(persons)
    from held group by watch_group, watch_group_label, watch_group_order
)
select r.period, c.region_level, c.county_code, c.township_code, c.watch_group, c.watch_group_label,
       c.watch_group_order, c.households, cast(c.persons as bigint) as persons
from counted as c cross join ref_periods as r;

-- ---- 帮扶责任人 gaps at the end of the quarter (shipped [assistance] requirements) -----------------
-- pairings (the period); ref_cadre_limits(cadre_rank, max_households); ref_thresholds.max_households_per_cadre
create or replace temp table ref_gaps as
with ranks(requirement, cadre_rank) as (
    values ('poor_county_leader', 'county_leader'), ('below_guideline_cadre', 'section_level'),
           ('below_guideline_cadre', 'township_cadre')
),
dated as (
    select p.*,
           (p.start_date is null or p.start_date <= r.period_end)
               and (p.end_date is null or p.end_date >= r.period_end) as active,
           p.end_date is not null and p.end_date < r.period_end as lapsed
    from pairings as p cross join ref_periods as r
),
active as (
    select * from dated where active
),
required as (
    select q.household_key, q.requirement, q.requirement_order, l.label as requirement_label
    from (select household_key, 'poor_county_leader' as requirement, 1 as requirement_order from ref_risk
          where coalesce(poverty_status in (select code from ref_status where group_name = 'poor'), false)
          union all
          select household_key, 'below_guideline_cadre', 2 from ref_risk where coalesce(income_per_capita < line_guideline, false)
          union all
          select household_key, 'monitored_any', 3 from ref_risk where monitored) as q
    left join ref_labels as l on l.domain = 'requirement' and l.code = q.requirement
),
paired as (
    select distinct household_key from active
),
met as (
    select distinct q.household_key, q.requirement
    from required as q
    inner join active as a on a.household_key = q.household_key
    left join ranks as k on k.requirement = q.requirement and k.cadre_rank = a.cadre_rank
    where k.requirement is not null or q.requirement = 'monitored_any'
),
cadres as (
    select cadre_id, max(cadre_rank) as cadre_rank, count(distinct household_key) as cadre_households
    from active group by cadre_id
),
limited as (
    select c.cadre_id, c.cadre_households, coalesce(l.max_households, t.max_households_per_cadre) as max_households
    from cadres as c cross join ref_thresholds as t
    left join ref_cadre_limits as l on l.cadre_rank = c.cadre_rank
),
gaps as (
    select q.household_key, 'no_pairing' as gap, min(q.requirement) as requirement, null as cadre_id,
           null as cadre_rank, cast(null as date) as end_date, cast(null as bigint) as cadre_households,
           string_agg(q.requirement_label, '；' order by q.requirement_order) as detail
    from required as q
    where not exists (select 1 from paired as p where p.household_key = q.household_key)
    group by q.household_key
    union all
    select q.household_key, 'wrong_level', q.requirement, null, null, null, null, q.requirement_label
    from required as q
    where exists (select 1 from paired as p where p.household_key = q.household_key)
      and not exists (select 1 from met as m where m.household_key = q.household_key and m.requirement = q.requirement)
    union all
    select distinct a.household_key, 'cadre_overloaded', null, a.cadre_id, a.cadre_rank, a.end_date, l.cadre_households,
           '结对' || cast(l.cadre_households as varchar) || '户，上限' || cast(l.max_households as varchar) || '户'
    from active as a inner join limited as l on l.cadre_id = a.cadre_id
    where l.cadre_households > l.max_households
    union all
    select distinct household_key, 'pairing_lapsed', null, cadre_id, cadre_rank, end_date, null,
           '帮扶结束时间' || cast(end_date as varchar)
    from dated where lapsed
)
select r.period, g.household_key, k.county_code, k.township_code, k.village_code, g.gap, b.label as gap_label,
       g.requirement, g.detail, g.cadre_id, g.cadre_rank, g.end_date, g.cadre_households,
       k.poverty_status, k.risk_level, k.below_guideline
from gaps as g
cross join ref_periods as r
left join ref_risk as k on k.household_key = g.household_key
left join ref_labels as b on b.domain = 'assistance_gap' and b.code = g.gap;

-- ---- 帮扶 coverage per township ----------------------------------------------------------------
create or replace temp table ref_coverage as
with households_in as (
    select household_key, county_code, township_code,
           coalesce(poverty_status in (select code from ref_status where group_name = 'poor'), false)
               or coalesce(income_per_capita < line_guideline, false) or monitored as needs_assistance
    from ref_risk
),
per_household as (
    select household_key,
           bool_or(gap = 'no_pairing') as no_pairing, bool_or(gap = 'wrong_level') as wrong_level,
           bool_or(gap = 'cadre_overloaded') as cadre_overloaded,
           count(*) filter (where gap = 'pairing_lapsed') as lapsed
    from ref_gaps group by household_key
),
overloaded as (
    select h.county_code, h.township_code, count(distinct g.cadre_id) as overloaded_cadres
    from ref_gaps as g inner join households_in as h on h.household_key = g.household_key
    where g.gap = 'cadre_overloaded'
    group by h.county_code, h.township_code
),
townships as (
    select h.county_code, h.township_code, count(*) as households,
           count(*) filter (where h.needs_assistance) as households_needing_assistance,
           count(*) filter (where h.needs_assistance and not coalesce(g.no_pairing, false)
                                  and not coalesce(g.wrong_level, false)) as households_covered,
           count(*) filter (where g.no_pairing) as households_no_pairing,
           count(*) filter (where g.wrong_level) as households_wrong_level,
           count(*) filter (where g.cadre_overloaded) as households_with_overloaded_cadre,
           coalesce(sum(g.lapsed), 0) as lapsed_pairings
    from households_in as h left join per_household as g on g.household_key = h.household_key
    group by h.county_code, h.township_code
)
select r.period, t.county_code, t.township_code, t.households, t.households_needing_assistance,
       t.households_covered, t.households_no_pairing, t.households_wrong_level,
       t.households_with_overloaded_cadre, coalesce(o.overloaded_cadres, 0) as overloaded_cadres,
       cast(t.lapsed_pairings as bigint) as lapsed_pairings
from townships as t
cross join ref_periods as r
left join overloaded as o on o.county_code = t.county_code and o.township_code = t.township_code;
