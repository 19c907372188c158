-- county_ranking: which counties lag — remaining poor households and persons, incidence, households
-- below the guideline, open and overdue problems, missing 帮扶责任人, ranked (1 = lags most), with
-- the city total. Sources: `risk`, `measures`, `problems`, `assistance_coverage`.
-- key: is_total, county_code?
{% import '_macros.sql' as m %}
with

{{ m.ranking('county', ref('param_run'), ref('risk'), ref('problems'), ref('param_ledger'), ref('assistance_coverage'),
             ref('measures'), {'poor_statuses': ref('param_poor_statuses'), 'settings': ref('param_report')},
             ref('region_names')) }}

select * from final
order by is_total, lag_rank, county_code
