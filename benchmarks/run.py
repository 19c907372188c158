"""`make bench` (`python -m benchmarks.run`): every stage against a simple baseline run in the same
process, as ratios, with peak memory. Each measurement runs in a fresh child process so its peak
RSS is its own. Timings are reported, never asserted. Sizes in persons:
BENCH_SIZES=100000,1000000,10000000 (default); stages: BENCH_STAGES=ingest,validate,measures,risk,measures_risk
(default: all; measures_risk: both stages against the hand-written DuckDB reference and pandas, same outputs); BENCH_TMP: where the benches write their temporary data (default: the system's).
The benches' canonical tables come from benchmarks/factory.py (ingest's from the synthetic city)."""

from __future__ import annotations

import multiprocessing as mp
import os
import resource
import sys
import traceback

DEFAULT_SIZES = (100_000, 1_000_000, 10_000_000)
STAGES = ("ingest", "validate", "measures", "risk", "measures_risk")


def _ingest(n: int) -> dict:
    from benchmarks.ingest import bench_ingest

    return bench_ingest(n, workdir=os.environ.get("BENCH_TMP"))


def _validate(n: int) -> dict:
    from benchmarks.validate import bench_validate

    r = bench_validate(n, tmp_dir=os.environ.get("BENCH_TMP"))
    return {"persons": r["n_persons"], "seconds": r["duckdb_comparable_seconds"],
            "baseline_seconds": r["pandas_comparable_seconds"],
            "baseline": f"same {r['expectations_compared']} expectations on a pandas datasource",
            "note": f"all {r['expectations']} expectations on DuckDB: {r['duckdb_all_suites_seconds']:.1f} s"}


def _measures(n: int) -> dict:
    from benchmarks.measures import bench_measures

    r = bench_measures(n)
    return {"persons": r["n_persons"], "seconds": r["duckdb_seconds"], "baseline_seconds": r["pandas_seconds"],
            "baseline": "pandas groupby FGT by county", "note": f"max |diff| {r['max_abs_difference']:.1e}"}


def _risk(n: int) -> dict:
    from benchmarks.risk import bench_risk

    r = bench_risk(n, tmp_dir=os.environ.get("BENCH_TMP"))
    return {"persons": r["persons"], "seconds": r["seconds"], "baseline_seconds": r["baseline_seconds"],
            "baseline": "pandas income position + transitions"}


def _measures_risk(n: int) -> dict:
    from benchmarks.measures_risk import bench_measures_risk

    r = bench_measures_risk(n, tmp_dir=os.environ.get("BENCH_TMP"))
    agree = "agree" if not (r["reference_differences"] or r["pandas_differences"]) else "DIFFER"
    return {"persons": r["persons"], "seconds": r["seconds"], "baseline_seconds": r["pandas_seconds"],
            "baseline": "pandas, same columns",
            "note": (f"hand-written DuckDB reference {r['reference_seconds']:.2f} s: stages / reference "
                     f"{r['ratio_to_reference']:.2f}x, CPU {r['cpu_seconds']:.1f} / {r['reference_cpu_seconds']:.1f} s = "
                     f"{r['ratio_to_reference_cpu']:.2f}x, pandas CPU / stages CPU {r['speedup_vs_pandas_cpu']:.2f}x "
                     f"(measures {r['measures_seconds']:.2f} s, risk {r['risk_seconds']:.2f} s; the reference "
                     f"computes the core only; outputs {agree}; load {r['load_average'][0]:.1f})")}


RUNNERS = {"ingest": _ingest, "validate": _validate, "measures": _measures, "risk": _risk,
           "measures_risk": _measures_risk}


def _child(stage: str, n: int, queue) -> None:
    try:
        result = RUNNERS[stage](n)
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        queue.put(result)
    except Exception:  # noqa: BLE001 - report and go on with the next measurement
        queue.put({"error": traceback.format_exc(limit=3)})


def measure(stage: str, n: int) -> dict:
    """Run one stage's benchmark at n persons in a fresh process."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(stage, n, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return {"stage": stage, "requested": n, **result}


def format_row(r: dict) -> str:
    if "error" in r:
        return f"{r['stage']:<13}{r['requested']:>12,}  failed: {r['error'].strip().splitlines()[-1]}"
    ratio = r["baseline_seconds"] / r["seconds"] if r["seconds"] else float("nan")
    return (f"{r['stage']:<13}{r['persons']:>12,}{r['seconds']:>10.2f}{r['baseline_seconds']:>11.2f}"
            f"{ratio:>9.2f}x{r['peak_rss_mb']:>10.0f}  vs {r['baseline']}{'; ' + r['note'] if r.get('note') else ''}")


def main() -> int:
    sizes = tuple(int(s) for s in os.environ.get("BENCH_SIZES", "").split(",") if s) or DEFAULT_SIZES
    stages = tuple(s for s in os.environ.get("BENCH_STAGES", "").split(",") if s) or STAGES
    print(f"{'stage':<13}{'persons':>12}{'seconds':>10}{'baseline s':>11}{'speed-up':>10}{'peak MB':>10}")
    for n in sizes:
        for stage in stages:
            print(format_row(measure(stage, n)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
