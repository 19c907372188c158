"""Ingest's memory split (config/warehouse.toml [engine] reader_share): the rows its readers hold in
Python are loaded as soon as they pass the budget, and a batch loaded early gives the same raw rows
and the same decisions (per-file spreadsheet damage included) as one batch of every file."""

from __future__ import annotations

import duckdb
import pytest

from pipelines import config
from pipelines.ingest import nodes
from pipelines.ingest.pipeline import Ingest, discover, memory_limit, reader_budget, scratch_settings
from pipelines.policy import load_policy
from tests.ingest.conftest import household, make_id, write_csv

LIFTED = load_policy(overrides={"thresholds": {"ingest": {"max_quarantined_share": 1.0}}})


@pytest.mark.parametrize("text, expected", [
    ("4GB", 4_000_000_000), ("400MB", 400_000_000), ("1.5GB", 1_500_000_000), ("512MiB", 512 * 1024 * 1024),
    ("953.6 MiB", int(953.6 * 1024 * 1024)), ("2 GiB", 2 * 1024 ** 3), ("1000B", 1000),
])
def test_memory_sizes_in_bytes(text, expected):
    assert nodes.memory_bytes(text) == expected


def test_an_unknown_memory_unit_is_refused():
    with pytest.raises(ValueError, match="unknown unit 'gigs'"):
        nodes.memory_bytes("4 gigs")


def test_duckdb_gets_the_limit_less_the_readers_share(monkeypatch):
    monkeypatch.setenv("POVMON_DUCKDB_MEMORY", "1GB")
    policy = load_policy(overrides={"warehouse": {"engine": {"reader_share": 0.25}}})
    assert memory_limit(policy) == 1_000_000_000
    assert reader_budget(policy) == 250_000_000
    con = duckdb.connect()
    assert scratch_settings(con, policy) == 250_000_000
    # DuckDB shows 750 000 000 bytes as 715.2 MiB (1 MiB = 1 048 576 bytes)
    assert con.execute("select current_setting('memory_limit')").fetchone()[0] == "715.2 MiB"


def _raw(tmp_path):
    """Three registry files of one header layout; the third shows spreadsheet damage in its ID
    column, which makes its 18-digit ID ending in 000 damaged (a per-file decision)."""
    real = next(i for i in (make_id("140525", "19800101", f"{s:03d}") for s in range(1000)) if i.endswith("000"))
    write_csv(tmp_path / "raw/registry/2020Q4/140524_a.csv", household("H1"))
    write_csv(tmp_path / "raw/registry/2020Q4/140581_b.csv", household("H2", seq0=20, names=("钱一", "钱二", "钱三")))
    damaged = household("H3", seq0=30, names=("孙一", "孙二", "孙三"))
    damaged[0]["证件号码"] = real
    damaged[1]["证件号码"] = "1.40525198202E+17"
    write_csv(tmp_path / "raw/registry/2020Q4/140525_c.csv", damaged)
    return tmp_path / "raw"


def _ingest(raw, batch_bytes):
    con = duckdb.connect()
    ingest = Ingest(con, LIFTED, batch_bytes=batch_bytes)
    ingest.create_inputs(config.DEMO_KEY)
    flushed = []
    flush = ingest._flush

    def counting(key):
        flushed.append((key[0], ingest.held))
        flush(key)

    ingest._flush = counting
    ingest.load_all(discover(raw, None))
    ingest.run_models()
    return con, ingest, flushed


def test_a_batch_loaded_at_the_budget_gives_the_same_rows_and_decisions(tmp_path):
    raw = _raw(tmp_path)
    one, _ingest_one, flushed_once = _ingest(raw, 1 << 40)
    each, ingest_each, flushed_each = _ingest(raw, 1)
    # one budget holds all three files: one load of the registry layout at the end (with the
    # other sources' empty layouts none); a budget of one byte loads each file as it is read
    assert [src for src, _held in flushed_once].count("registry") == 1
    assert [src for src, _held in flushed_each].count("registry") == 3
    assert ingest_each.held == 0
    rows = "select * from raw_registry order by file_id, source_row"
    assert each.execute(rows).fetchall() == one.execute(rows).fetchall()
    decisions = "select source_file, source_row, reason, column_name, detail from quarantine order by all"
    got = each.execute(decisions).fetchall()
    assert got == one.execute(decisions).fetchall()
    # the per-file damage: the ID ending in 000 beside a scientific-notation ID of its file
    assert [(f, r, reason) for f, r, reason, _c, _d in got] == [
        ("registry/2020Q4/140525_c.csv", 2, "id_damaged_by_spreadsheet"),
        ("registry/2020Q4/140525_c.csv", 3, "id_damaged_by_spreadsheet"),
    ]


def test_a_memory_limit_duckdb_takes_in_another_form_is_resolved_or_refused(monkeypatch):
    """POVMON_DUCKDB_MEMORY bypasses the config schema: '80%' and 'none' are DuckDB's own forms
    (resolved by DuckDB, never above the machine's memory); anything else is one error naming
    the setting and what is expected."""
    import os

    from pipelines.ingest.pipeline import IngestError

    machine = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    policy = load_policy()
    monkeypatch.setenv("POVMON_DUCKDB_MEMORY", "50%")
    assert 0.45 * machine < memory_limit(policy) <= 0.5 * machine
    for unlimited in ("none", "-1"):
        monkeypatch.setenv("POVMON_DUCKDB_MEMORY", unlimited)
        assert memory_limit(policy) == machine
    monkeypatch.setenv("POVMON_DUCKDB_MEMORY", "lots")
    with pytest.raises(IngestError, match=r"memory_limit 'lots' \(\$POVMON_DUCKDB_MEMORY.*expected a size such as 4GB"):
        memory_limit(policy)


def test_the_models_and_writes_keep_duckdb_under_the_limit_less_the_readers_share(tmp_path, monkeypatch):
    """After the load DuckDB is not given the readers' share back: it stays the headroom for the
    memory DuckDB does not count against its limit (a 1 GB cap, share 0.25: 750 000 000 bytes =
    715.2 MiB while the models run and the tables are written, not 953.6 MiB)."""
    from pipelines.ingest import pipeline

    monkeypatch.setenv("POVMON_DUCKDB_MEMORY", "1GB")
    policy = load_policy(overrides={"warehouse": {"engine": {"reader_share": 0.25}},
                                    "thresholds": {"ingest": {"max_quarantined_share": 1.0}}})
    seen = {}
    run_models, write_outputs = Ingest.run_models, Ingest.write_outputs

    def models(self, *args, **kwargs):
        seen["models"] = self.con.execute("select current_setting('memory_limit')").fetchone()[0]
        return run_models(self, *args, **kwargs)

    def write(self, *args, **kwargs):
        seen["write"] = self.con.execute("select current_setting('memory_limit')").fetchone()[0]
        return write_outputs(self, *args, **kwargs)

    monkeypatch.setattr(Ingest, "run_models", models)
    monkeypatch.setattr(Ingest, "write_outputs", write)
    summary = pipeline.run(_raw(tmp_path), tmp_path / "processed", policy=policy)
    assert summary["rows"]["persons"] == 7  # the three households' members but the two damaged IDs
    assert seen == {"models": "715.2 MiB", "write": "715.2 MiB"}
