"""Quarters come from the data (data/raw/registry/<YYYYQn>/), in the CLI and the Makefile alike;
raw files are ingest's input by content (povmon raw-state)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pipelines.periods import Period, make_fragment, quarters_in
from pipelines.rawstate import update_stamp

ROOT = Path(__file__).resolve().parents[1]


def _raw(tmp_path: Path, quarters: list[str]) -> Path:
    raw = tmp_path / "data" / "raw"
    for q in quarters:
        (raw / "registry" / q).mkdir(parents=True)
        (raw / "registry" / q / "140521_沁水县.csv").write_text(f"rows of {q}\n", encoding="utf-8")
    return raw


def test_quarters_are_the_registry_folders_with_files_any_year(tmp_path):
    raw = _raw(tmp_path, ["2021Q1", "2020Q4", "2016Q1"])
    (raw / "registry" / "2022Q3").mkdir()  # empty: nothing to cover yet
    (raw / "registry" / "notes").mkdir()
    assert [str(q) for q in quarters_in(raw)] == ["2016Q1", "2020Q4", "2021Q1"]
    text = make_fragment(quarters_in(raw))
    assert "QUARTERS := 2016Q1 2020Q4 2021Q1" in text
    assert "PREV_2021Q1 := 2020Q4" in text and "PREV_2016Q1 := 2015Q4" in text


def test_raw_state_changes_with_content_only(tmp_path):
    raw = _raw(tmp_path, ["2020Q1"])
    stamp = tmp_path / "state.json"
    assert update_stamp(raw, stamp) is True
    first = stamp.stat().st_mtime_ns
    f = raw / "registry" / "2020Q1" / "140521_沁水县.csv"
    os.utime(f, ns=(f.stat().st_atime_ns, f.stat().st_mtime_ns + 10**9))  # touched, same bytes
    assert update_stamp(raw, stamp) is False and stamp.stat().st_mtime_ns == first
    f.write_text("a corrected export\n", encoding="utf-8")  # re-sent by the county
    assert update_stamp(raw, stamp) is True
    (raw / "registry" / "2020Q1" / "140522_阳城县.csv").write_text("new county\n", encoding="utf-8")
    assert update_stamp(raw, stamp) is True
    (raw / "registry" / "2020Q1" / "140522_阳城县.csv").unlink()
    assert update_stamp(raw, stamp) is True


@pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
def test_makefile_covers_the_quarters_found_in_data_raw(tmp_path):
    raw = _raw(tmp_path, ["2020Q4", "2021Q1"])
    out = subprocess.run(["make", "-n", "quarters", f"DATA={raw.parent}", f"REPORTS={tmp_path / 'reports'}"],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    commands = set(re.findall(r"povmon (validate|measures|risk|report) --period (\d{4}Q\d)", out))
    assert commands == {(s, q) for s in ("validate", "measures", "risk", "report") for q in ("2020Q4", "2021Q1")}
    # the stage gate: measures of a quarter waits for its validate (the problems partition)
    assert out.index("validate --period 2021Q1") < out.index("measures --period 2021Q1")
    missing = subprocess.run(["make", "quarterly", "Q=2019Q1", f"DATA={raw.parent}"], cwd=ROOT,
                             capture_output=True, text=True)
    assert missing.returncode != 0 and "Q=2019Q1: data/raw/registry has no such quarter (found: 2020Q4 2021Q1)" in missing.stderr
    assert str(Period.parse("2021Q1").previous) == "2020Q4"


@pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
def test_installing_chromium_remakes_the_reports_once(tmp_path):
    """Whether PNGs can be made is an input of every report: the state file changes (and so the
    reports are remade) when a browser appears, and only then."""
    raw = _raw(tmp_path, ["2020Q4"])
    state = raw.parent / ".figures-state"
    bare = tmp_path / "bin"  # a PATH with the shell's tools and no browser
    bare.mkdir()
    for tool in ("bash", "mkdir", "cat", "head"):
        (bare / tool).symlink_to(shutil.which(tool))

    def remake() -> None:
        subprocess.run([shutil.which("make"), str(state), f"DATA={raw.parent}", "BROWSER_PATH="], cwd=ROOT,
                       check=True, capture_output=True, env={**os.environ, "PATH": str(bare)})

    remake()
    assert state.read_text() == "\n"  # no browser: no PNGs
    state_then = state.stat().st_mtime_ns
    remake()
    assert state.stat().st_mtime_ns == state_then  # nothing changed: the reports stay up to date
    (bare / "chromium").write_text("#!/bin/sh\n")
    (bare / "chromium").chmod(0o755)
    remake()
    assert state.read_text() == f"{bare / 'chromium'}\n"
    out = subprocess.run(["make", "-n", "-p", "quarters", f"DATA={raw.parent}", f"REPORTS={tmp_path / 'reports'}"],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    rule = next(line for line in out.splitlines() if line.startswith(f"{tmp_path / 'reports'}/2020Q4/summary.html:"))
    assert str(state) in rule  # the report of every quarter depends on it
