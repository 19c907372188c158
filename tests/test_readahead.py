"""pipelines/readahead.py: what `povmon quarters` reads from data/raw in a side process — each
quarter's roster (validate's 问题清单) and the audit's raw values — is what the functions return
when called in the process itself; an error reaches the caller; a dead side process means "read it
yourself"."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.audit import AuditError, read_raw_values
from pipelines.readahead import ReadAhead
from pipelines.risk.cards import raw_roster

PERIODS = ["2020Q1", "2020Q2"]


def test_rosters_and_raw_values_read_ahead_equal_those_read_here(small_city):
    raw = small_city / "raw"
    ahead = ReadAhead(raw, PERIODS, raw_values=True)
    try:
        for period in reversed(PERIODS):  # asked out of order: the earlier answer is kept until asked
            got, want = ahead.roster(period, raw), raw_roster(period, raw)
            assert len(want.households) > 100 and len(want.persons) > 300
            pd.testing.assert_frame_equal(got.households, want.households)
            pd.testing.assert_frame_equal(got.persons, want.persons)
        values = ahead.raw_values(raw)
        assert values.table.equals(read_raw_values(raw).table) and values.table.num_rows > 1000
        assert ahead.roster(PERIODS[0], raw) is None  # each answer is handed out once
    finally:
        ahead.close()


def test_another_raw_folder_or_a_dead_side_process_means_read_it_yourself(small_city, tmp_path):
    ahead = ReadAhead(small_city / "raw", PERIODS, raw_values=True)
    try:
        ahead.process.kill()  # at once: a fresh interpreter takes far longer to import what it needs
        ahead.process.join()
        assert ahead.roster(PERIODS[0], tmp_path) is None and ahead.raw_values(tmp_path) is None
        assert ahead.roster(PERIODS[0], small_city / "raw") is None and ahead.raw_values(small_city / "raw") is None
    finally:
        ahead.close()


def test_an_error_in_the_side_process_is_raised_where_the_value_is_taken(tmp_path):
    (tmp_path / "raw" / "registry").mkdir(parents=True)
    ahead = ReadAhead(tmp_path / "raw", [], raw_values=True)
    try:
        with pytest.raises(AuditError, match="no registry export to audit against"):
            ahead.raw_values(tmp_path / "raw")
    finally:
        ahead.close()


def test_the_side_process_reads_everything_without_waiting_to_be_asked(small_city):
    """Its answers (rosters and raw values: far more than a pipe holds) are taken as they come, so
    the side process finishes while nobody has asked for anything yet."""
    raw = small_city / "raw"
    ahead = ReadAhead(raw, PERIODS, raw_values=True)
    try:
        ahead.process.join(timeout=300)
        assert not ahead.process.is_alive() and ahead.process.exitcode == 0
        assert ahead.raw_values(raw).table.num_rows > 1000
        assert len(ahead.roster(PERIODS[1], raw).persons) > 300
    finally:
        ahead.close()


def test_a_stopped_side_process_leaves_no_spill_folder_of_raw_values():
    import os

    from pipelines.audit import raw_spill_folder, spill_folders

    with raw_spill_folder() as folder:
        assert folder in spill_folders(os.getpid()) and oct(folder.stat().st_mode & 0o777) == "0o700"
    assert spill_folders(os.getpid()) == []


@pytest.mark.parametrize(("limit", "half"), [("4GB", "2GB"), ("3.7 GiB", "1.85GiB"), ("80%", "40%"), ("512MB", "256MB")])
def test_the_side_process_gets_half_the_memory_limit(limit, half):
    from pipelines.readahead import half_memory

    assert half_memory(limit) == half


def test_an_unreadable_memory_limit_is_refused():
    from pipelines.readahead import half_memory

    with pytest.raises(ValueError, match="memory_limit 'lots'"):
        half_memory("lots")
