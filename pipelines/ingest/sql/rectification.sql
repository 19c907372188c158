-- rectification: what a township reported on each problem of the
-- 问题清单 of `period` in the sheet it returned (data/raw/rectification/<period>/): the completion
-- date and whether a measure and a responsible unit were given. The measure and unit themselves
-- stay in data/raw (free text may name people); source_file, sheet and source_row point to them.
-- key: period, household_key, criterion
with

loaded as (
    select * from {{ ref('int_rectification_rows') }}
    where reason is null
),

final as (
    select
        -- keys
        period,
        household_key,
        criterion,
        -- the report
        completed_on,
        measure_given,
        unit_given,
        -- provenance
        source_file,
        sheet,
        source_row
    from loaded
)

select * from final
