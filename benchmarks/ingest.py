"""Ingest benchmark: a synthetic city's raw registry Parquet (`povmon synth --format parquet`,
all text, Chinese headers) -> canonical tables, against baselines in the same process that only
read the same raw files and write them back: pandas (registry Parquet), DuckDB (registry Parquet:
issue 12's yardstick) and DuckDB over every file ingest reads (Parquet and CSV by DuckDB as text,
the few xlsx / dta / sav lists through pandas, each written back as Parquet).

`python -m benchmarks.ingest --raw DIR [DIR …]` measures raw folders already generated (e.g.
`povmon synth --households 100000 --periods 2020Q2 --format parquet --out DIR`), one JSON line
each; run one folder per process for its own peak RSS."""

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


def copy_files(files: list[Path], out_dir: Path) -> int:
    """Each file read plainly and written back as Parquet: Parquet and UTF-8 CSV by DuckDB (CSV as
    text, its header row as names), xlsx / dta / sav and GB18030 CSV through pandas. Returns rows."""
    import duckdb
    import pandas as pd

    out_dir.mkdir(parents=True, exist_ok=True)
    rows = 0
    with duckdb.connect() as con:
        for i, f in enumerate(files):
            target = str(out_dir / f"{i}.parquet").replace("'", "''")
            suffix = f.suffix.lower()
            if suffix in (".parquet", ".csv") and _utf8(f):
                read = "read_parquet(?)" if suffix == ".parquet" else "read_csv(?, all_varchar = true, header = true)"
                con.execute(f"copy (select * from {read}) to '{target}' (format parquet)", [str(f)])
            else:  # xlsx, dta, sav, and CSV in GB18030 (DuckDB reads UTF-8 only without an extension)
                frames = (pd.read_excel(f, sheet_name=None, dtype=str).values() if suffix == ".xlsx"
                          else [pd.read_csv(f, dtype=str, encoding="gb18030")] if suffix == ".csv"
                          else [pd.read_stata(f) if suffix == ".dta" else pd.read_spss(f)])
                frame = pd.concat([fr.astype(str) for fr in frames], ignore_index=True)
                con.register("frame", frame)
                con.execute(f"copy frame to '{target}' (format parquet)")
                con.unregister("frame")
            rows += con.execute(f"select count(*) from read_parquet('{target}')").fetchall()[0][0]
    return rows


def duckdb_copy(raw_dir: Path, out_dir: Path) -> int:
    """Read every raw registry Parquet file with DuckDB and write it back as Parquet: the plain
    read + write issue 12 measures ingest against (no mapping, no checks)."""
    return copy_files(sorted((raw_dir / "registry").rglob("*.parquet")), out_dir)


def duckdb_copy_all(raw_dir: Path, out_dir: Path) -> int:
    """Every file ingest would read, read plainly and written back as Parquet (copy_files)."""
    from pipelines.ingest.pipeline import discover

    return copy_files([raw.path for raw in discover(raw_dir, None)], out_dir)


def _utf8(path: Path) -> bool:
    """Whether a file's first 64 KB decode as UTF-8 (Parquet: always read by DuckDB)."""
    if path.suffix.lower() == ".parquet":
        return True
    head = path.read_bytes()[:65536]
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > len(head) - 4  # a character cut at the 64 KB boundary
    return True


def measure(raw_dir: Path, work: Path) -> dict:
    """Ingest of raw_dir against the plain DuckDB read + write of the same files, in this process:
    wall and CPU seconds (every thread), the CPU ratios, ingest's own stage timings."""
    import os
    import resource

    from pipelines.ingest.pipeline import run

    def timed(fn, *args):
        started, cpu = time.perf_counter(), time.process_time()
        out = fn(*args)
        return out, time.perf_counter() - started, time.process_time() - cpu

    registry_rows, dd_wall, dd_cpu = timed(duckdb_copy, raw_dir, work / "duckdb_baseline")
    all_rows, all_wall, all_cpu = timed(duckdb_copy_all, raw_dir, work / "duckdb_all_baseline")
    summary, wall, cpu = timed(run, raw_dir, work / "processed")
    return {"stage": "ingest", "raw_dir": str(raw_dir), "persons": registry_rows, "raw_rows": all_rows,
            "seconds": round(wall, 2), "cpu_seconds": round(cpu, 2),
            "duckdb_registry_seconds": round(dd_wall, 2), "duckdb_registry_cpu_seconds": round(dd_cpu, 2),
            "duckdb_all_files_seconds": round(all_wall, 2), "duckdb_all_files_cpu_seconds": round(all_cpu, 2),
            "cpu_ratio_registry": round(cpu / dd_cpu, 1), "cpu_ratio_all_files": round(cpu / all_cpu, 1),
            "wall_ratio_registry": round(wall / dd_wall, 1), "wall_ratio_all_files": round(wall / all_wall, 1),
            "timings": summary.get("timings"), "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >> 10,
            "load": os.getloadavg()[0], "loaded": summary["rows"]["persons"],
            "quarantined": summary["files"]["rows_quarantined"]}


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

    if sys.argv[1:2] == ["--raw"]:
        for folder in sys.argv[2:]:
            work = Path(tempfile.mkdtemp(prefix="povmon-bench-ingest-"))
            try:
                print(json.dumps(measure(Path(folder).resolve(), work), ensure_ascii=False), flush=True)
            finally:
                shutil.rmtree(work, ignore_errors=True)
    else:
        for n in [int(a) for a in sys.argv[1:]] or [100_000]:
            print(json.dumps(bench_ingest(n), ensure_ascii=False))
