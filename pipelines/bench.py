"""`make bench`: each stage's speed and memory, as ratios against a simple baseline.

Every measurement runs in a fresh child process so its peak resident memory (ru_maxrss) is its
own. Timings are reported, never asserted. Sizes: BENCH_SIZES=100000,1000000 (persons).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_SIZES = (100_000, 1_000_000, 10_000_000)
PERSONS_PER_HOUSEHOLD = 3.0  # the generator's mean household size, near enough for sizing


def _in_child(fn, args, queue):
    t0 = time.perf_counter()
    result = fn(*args) or {}
    result["seconds"] = time.perf_counter() - t0
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put(result)


def measure(fn, *args) -> dict:
    """Run fn(*args) in a fresh process; return its dict plus seconds and peak RSS (MB)."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_in_child, args=(fn, args, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def synth_raw(data_dir: str, persons: int) -> dict:
    from pipelines.synth.pipeline import run

    households = max(1, int(persons / PERSONS_PER_HOUSEHOLD))
    run(out_dir=Path(data_dir), households=households, seed=1, periods=["2020Q2"], fmt="parquet")
    return {}


def ingest(data_dir: str) -> dict:
    from pipelines.ingest.pipeline import run

    summary = run(raw_dir=Path(data_dir) / "raw", processed_dir=Path(data_dir) / "processed", periods=None)
    return {"persons": summary.get("tables", {}).get("persons")}


def baseline_copy(data_dir: str) -> dict:
    """Baseline: read every raw registry Parquet file with pandas and write it back, nothing else."""
    import pandas as pd

    out = Path(data_dir) / "baseline"
    out.mkdir(exist_ok=True)
    rows = 0
    for i, f in enumerate(sorted((Path(data_dir) / "raw" / "registry").rglob("*.parquet"))):
        frame = pd.read_parquet(f)
        rows += len(frame)
        frame.to_parquet(out / f"{i}.parquet")
    return {"rows": rows}


def bench_ingest(sizes) -> list[dict]:
    rows = []
    for n in sizes:
        with tempfile.TemporaryDirectory(prefix="povmon-bench-", dir=os.environ.get("BENCH_TMP")) as tmp:
            measure(synth_raw, tmp, n)
            base = measure(baseline_copy, tmp)
            ing = measure(ingest, tmp)
            rows.append({
                "stage": "ingest", "persons": n,
                "seconds": ing["seconds"], "peak_rss_mb": ing["peak_rss_mb"],
                "baseline_seconds": base["seconds"], "baseline_peak_rss_mb": base["peak_rss_mb"],
                "time_ratio": ing["seconds"] / base["seconds"],
                "memory_ratio": ing["peak_rss_mb"] / base["peak_rss_mb"],
            })
            print(_row(rows[-1]), flush=True)
    return rows


HEADER = f"{'stage':<10}{'persons':>12}{'seconds':>10}{'peak MB':>10}{'base s':>9}{'base MB':>9}{'t ratio':>9}{'m ratio':>9}"


def _row(r: dict) -> str:
    return (f"{r['stage']:<10}{r['persons']:>12,}{r['seconds']:>10.1f}{r['peak_rss_mb']:>10.0f}"
            f"{r['baseline_seconds']:>9.1f}{r['baseline_peak_rss_mb']:>9.0f}{r['time_ratio']:>9.2f}{r['memory_ratio']:>9.2f}")


def main() -> int:
    sizes = tuple(int(s) for s in os.environ.get("BENCH_SIZES", "").split(",") if s) or DEFAULT_SIZES
    print("ingest: full ingest vs baseline (pandas read + write of the same raw Parquet)")
    print(HEADER, flush=True)
    bench_ingest(sizes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
