"""Ingest benchmark: a synthetic city's raw registry Parquet (`povmon synth --format parquet`,
all text, Chinese headers) -> canonical tables, against a baseline in the same process that only
reads the same raw Parquet with pandas and writes it back."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

PERSONS_PER_HOUSEHOLD = 3.2  # the generator's mean household size, near enough for sizing


def baseline_copy(raw_dir: Path, out_dir: Path) -> int:
    """Read every raw registry Parquet file with pandas and write it back: no mapping, no checks."""
    import pandas as pd

    out_dir.mkdir(parents=True, exist_ok=True)
    rows = 0
    for i, f in enumerate(sorted((raw_dir / "registry").rglob("*.parquet"))):
        frame = pd.read_parquet(f)
        rows += len(frame)
        frame.to_parquet(out_dir / f"{i}.parquet")
    return rows


def duckdb_copy(raw_dir: Path, out_dir: Path) -> int:
    """Read every raw registry Parquet file with DuckDB and write it back as Parquet: the plain
    read + write issue 12 measures ingest against (no mapping, no checks)."""
    import duckdb

    out_dir.mkdir(parents=True, exist_ok=True)
    rows = 0
    with duckdb.connect() as con:
        for i, f in enumerate(sorted((raw_dir / "registry").rglob("*.parquet"))):
            target = out_dir / f"{i}.parquet"
            con.execute("copy (select * from read_parquet(?)) to '" + str(target).replace("'", "''") + "' (format parquet)",
                        [str(f)])
            rows += con.execute("select count(*) from read_parquet(?)", [str(target)]).fetchone()[0]
    return rows


def bench_ingest(n_persons: int, workdir: str | None = None) -> dict:
    """Seconds for the full ingest of one quarter of ~n_persons, and for the baseline copy."""
    from pipelines.ingest.pipeline import run
    from pipelines.synth.pipeline import run as synth

    base = Path(tempfile.mkdtemp(prefix="povmon-bench-ingest-", dir=workdir))
    try:
        synth(out_dir=base, households=max(1, round(n_persons / PERSONS_PER_HOUSEHOLD)), seed=1,
              periods=["2020Q2"], fmt="parquet")
        started = time.perf_counter()
        rows = baseline_copy(base / "raw", base / "baseline")
        baseline = time.perf_counter() - started
        started, cpu = time.perf_counter(), time.process_time()
        duckdb_copy(base / "raw", base / "duckdb_baseline")
        duckdb_baseline, duckdb_cpu = time.perf_counter() - started, time.process_time() - cpu
        started, cpu = time.perf_counter(), time.process_time()
        summary = run(raw_dir=base / "raw", processed_dir=base / "processed")
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        # CPU seconds (every thread of the process) beside wall seconds: on a shared, loaded
        # machine they are the comparable figure
        return {"stage": "ingest", "persons": rows, "seconds": seconds, "baseline_seconds": baseline,
                "baseline": "pandas read + write of the raw Parquet",
                "cpu_seconds": cpu, "duckdb_baseline_seconds": duckdb_baseline, "duckdb_baseline_cpu_seconds": duckdb_cpu,
                "timings": summary.get("timings"),
                "loaded": summary["rows"]["persons"], "quarantined": summary["files"]["rows_quarantined"]}
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    import json
    import sys

    for n in [int(a) for a in sys.argv[1:]] or [100_000]:
        print(json.dumps(bench_ingest(n), ensure_ascii=False))
