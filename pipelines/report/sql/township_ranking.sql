-- township_ranking: which townships lag — the county_ranking columns per township (乡镇), ranked
-- (1 = lags most), with the city total. Sources: `risk`, `measures`, `problems`, `assistance_coverage`.
-- key: is_total, township_code?
{% import '_macros.sql' as m %}
with

{{ m.ranking('township', ref('param_run'), ref('risk'), ref('problems'), ref('param_ledger'), ref('assistance_coverage'),
             ref('measures'), {'poor_statuses': ref('param_poor_statuses'), 'settings': ref('param_report')},
             ref('region_names')) }}

select * from final
order by is_total, lag_rank, township_code
