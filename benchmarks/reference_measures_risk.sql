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
--   survey_households (the period), ref_survey_run(total_level, total_code, lonely_psu, ci_z)
--       the shipped design (config/surveys/sample_city.toml): stratum county_code, PSU village_code,
--       person weight design_weight x household_size, income per_capita_net_income, domains by county
-- outputs (tables):
--   ref_incidence    (domain_level, domain_code, poor_persons, rural_population, estimate)
--   ref_fgt          (domain_level, domain_code, line_name, fgt0, fgt1, fgt2, n_units, w_total)
--   ref_gini         (domain_level, domain_code, gini, mean_income)
--   ref_position     one row per household: income position against the lines, members
--   ref_transitions  one row per household in either quarter: presence, statuses, flow
--   ref_matrix       (from_status, to_status, households, persons)
--   ref_profile      (dimension, group_value, line_name, fgt0, fgt1, share_of_poor, n_units, w_total)
--   ref_water        (domain_level, domain_code, safe, basic, unsafe, unknown, n_units, w_total)
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
    h.household_attribute, h.main_cause, h.relocated, coalesce(h.household_size, h.member_count) as size,
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

-- ---- risk: income position of each household --------------------------------------------------
create or replace temp table ref_position as
with lines as (
    select max(case when role = 'national' then value end) as national,
           max(case when role = 'guideline' then value end) as guideline,
           max(case when role = 'monitoring' then value end) as monitoring
    from ref_roles
),
prev as (
    select household_key, coalesce(per_capita_net_income_derived, per_capita_net_income) as prev_income
    from households_prev
),
placed as (
    select b.*, p.prev_income, l.national, l.guideline, l.monitoring,
           case when b.income < l.national then 'national' when b.income < l.guideline then 'guideline'
                when b.income < l.monitoring then 'monitoring' when b.income is not null then '' end as band_role
    from ref_base as b cross join lines as l
    left join prev as p on p.household_key = b.household_key
)
select
    p.household_key, p.persons_counted as persons, p.income as income_per_capita,
    round(p.income / p.national, 6) as ratio_national,
    round(p.income / p.guideline, 6) as ratio_guideline,
    round(p.income / p.monitoring, 6) as ratio_monitoring,
    b.code as income_band,
    coalesce(p.income < p.guideline, false) as below_guideline,
    coalesce(p.income < p.monitoring, false) as below_monitoring,
    p.prev_income as prev_income_per_capita,
    case when p.prev_income > 0 then round((p.prev_income - p.income) / p.prev_income, 6) end as income_drop_pct,
    p.capable_members, p.migrant_members, p.ill_or_disabled_members
from placed as p
left join ref_bands as b on b.role = p.band_role;

-- ---- transitions between the two quarters ------------------------------------------------------
create or replace temp table ref_person_moves as
select coalesce(c.person_key, p.person_key) as person_key,
       c.household_key as household_now, p.household_key as household_before
from persons as c full outer join persons_prev as p on p.person_key = c.person_key;

create or replace temp table ref_transitions as
with prev_base as (
    select h.household_key, coalesce(h.poverty_status, 'not_registered') as status,
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
           case when p.household_key is null then 'appeared' when c.household_key is null then 'disappeared'
                else 'both' end as presence,
           coalesce(p.status, 'absent') as from_status, coalesce(c.status, 'absent') as to_status,
           p.persons_counted as persons_from, c.persons_counted as persons_to
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
select household_key, presence, presence_detail, from_status, to_status, persons_from, persons_to,
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
       end as status_flow
from grouped;

create or replace temp table ref_matrix as
with households_flow as (
    select from_status, to_status, count(*) as households from ref_transitions group by all
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
select coalesce(h.from_status, p.from_status) as from_status, coalesce(h.to_status, p.to_status) as to_status,
       coalesce(h.households, 0) as households, coalesce(p.persons, 0) as persons
from households_flow as h full outer join persons_flow as p
    on p.from_status = h.from_status and p.to_status = h.to_status;

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
