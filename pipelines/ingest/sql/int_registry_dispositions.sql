-- int_registry_dispositions: one row per registry raw row with its quarantine reason (NULL =
-- loaded), in the contract's order. Narrow on purpose (keys and reasons only): int_registry_rows
-- joins it back to stg_registry. A re-ingest that reads only some counties' files (pipeline.py,
-- docs/data_contract.md §5) passes the other counties' valid IDs as ext_person_ids (person key,
-- file, rows): an ID counts as loaded earlier when a file of theirs sorts before this row's.
-- key: file_id, source_row
with

staged as (
    select * from {{ ref('stg_registry') }}
),

regions_known as (
    select code from {{ ref('param_regions') }}
),

external_ids as (
    select * from {{ ref('ext_person_ids') }}
),

row_checks as (
    select
        r.period,
        r.file_id,
        r.file_order,
        r.source_file,
        r.source_row,
        r.id18,
        r.person_key,
        r.shift_fails,
        r.village_code,
        r.damaged_detail,
        r.place_detail,
        case
            when r.is_blank_row then 'blank_row'
            when r.is_shifted then 'column_shift'
            -- before the key checks: a damaged ID is neither a person nor a duplicate of one
            when r.damaged_column is not null then 'id_damaged_by_spreadsheet'
            -- a totals row (合计) under the data: no keys, a total label where 序号 or a place goes
            when r.household_key_source is null and r.person_id_present is null
                and (list_contains(tl.labels, r.row_no) or list_contains(tl.labels, r.county_name)
                     or list_contains(tl.labels, r.township_name) or list_contains(tl.labels, r.village_name))
                then 'total_row'
            when r.household_key_source is null then 'missing_key'
            when r.person_id_present is null then 'missing_key'
            when r.village_code is null and r.place_reason is not null then r.place_reason
            when r.village_code is null then 'missing_village_code'
            when length(r.village_code) <> 12 or translate(r.village_code, '0123456789', '') <> ''
                or c.code is null or t.code is null then 'bad_village_code'
        end as row_reason,
        case
            when r.is_blank_row or r.is_shifted then null
            when r.damaged_column is null and r.household_key_source is null and r.person_id_present is null
                and (list_contains(tl.labels, r.row_no) or list_contains(tl.labels, r.county_name)
                     or list_contains(tl.labels, r.township_name) or list_contains(tl.labels, r.village_name))
                then null
            when r.damaged_column is not null then r.damaged_column
            when r.household_key_source is null then 'household_id'
            when r.person_id_present is null then 'person_id'
            when r.village_code is null and r.place_reason is not null then r.place_column
            else 'village_code'
        end as row_reason_column
    from staged as r
    left join regions_known as c on c.code = r.county_code
    left join regions_known as t on t.code = r.township_code
    cross join {{ ref('param_total_rows') }} as tl
),

external as (
    -- rows of the same ID in the files of counties this run did not read (none in a full run)
    select
        r.file_id,
        r.source_row,
        sum(case when e.source_file < r.source_file then e.rows else 0 end) as earlier,
        sum(e.rows) as total
    from row_checks as r
    inner join external_ids as e
        on e.period = r.period and e.person_key = r.person_key
    where r.row_reason is null and r.id18 is not null
    group by r.file_id, r.source_row
),

duplicates as (
    -- same ID (first 18 characters) already loaded for this period: files in path order, then rows
    select
        c.*,
        case when c.row_reason is null and c.id18 is not null
            then row_number() over (
                partition by c.period, (case when c.row_reason is null then c.id18 end)
                order by c.file_order, c.source_row) + coalesce(x.earlier, 0)
        end as id_rank,
        case when c.row_reason is null and c.id18 is not null
            then count(*) over (partition by c.period, (case when c.row_reason is null then c.id18 end))
                + coalesce(x.total, 0)
        end as id_count
    from row_checks as c
    left join external as x
        on x.file_id = c.file_id and x.source_row = c.source_row
),

final as (
    select
        period,
        file_id,
        source_file,
        source_row,
        person_key,
        id_rank,
        id_count,
        coalesce(row_reason, case when id_rank > 1 then 'duplicate_person' end) as reason,
        case when row_reason is not null then row_reason_column
             when id_rank > 1 then 'id_number' end as reason_column,
        case
            when row_reason = 'column_shift' then cast(shift_fails as varchar) || ' typed cells fail in place and parse one cell over'
            when row_reason = 'id_damaged_by_spreadsheet' then damaged_detail
            when row_reason in ('unknown_place_name', 'ambiguous_place_name') then place_detail
            -- the code itself only when it has a code's shape (12 digits): a misplaced phone or ID never
            when row_reason = 'bad_village_code' then 'village code '
                || case when length(village_code) = 12 and translate(village_code, '0123456789', '') = '' then village_code
                        else '(' || cast(length(village_code) as varchar) || ' characters, not shown)' end
                || ' is not 12 digits of a known county/township'
            when id_rank > 1 then 'same ID number as an earlier row of this period (first 18 characters)'
        end as reason_detail
    from duplicates
)

select * from final
