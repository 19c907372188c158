"""Benchmark (issue #12 part 3): the measures and risk stages of one quarter together, against the
hand-written DuckDB reference (benchmarks/reference_measures_risk.sql) and a plain pandas baseline
computing the same columns (benchmarks/reference.py), in one process, over the same canonical Parquet.

    bench_measures_risk(n_persons) -> dict     (`make bench`; alone: python -m benchmarks.measures_risk 1000000)

Two quarters of canonical tables come from the shared factory (benchmarks/factory.py, with the risk
bench's shocks and lapses), with validate's stored deprivation models. Timed: `povmon measures` +
`povmon risk` of the second quarter (stage functions, warehouse writes included); the reference (read
Parquet, compute, write its tables as Parquet sorted by key, under the same [engine] DuckDB settings
as the stages); pandas (read Parquet, compute, write its tables as Parquet). The reference's outputs are
checked against the pipeline's at the end (max |diff| reported). Wall and CPU seconds (this process,
every thread) are reported for each, and the ratios on both; under load compare the CPU ratios.
The reference and pandas compute every number the two stages publish: every measure (administrative
incidence, registry FGT / Gini / profile, Alkire-Foster, water levels, the survey with its SEs) and
every risk table (risk, watch_group_counts, assistance_gaps, assistance_coverage, transitions,
transition_matrix); REFERENCE_OMITS lists what they still leave out. Timings are reported, never asserted.
"""

from __future__ import annotations

import contextlib
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from benchmarks import factory, reference
from benchmarks import risk as risk_bench

PERIODS = risk_bench.PERIODS
# what the stages publish and the reference does not compute (so its ratio is not like for like:
# the stages do more; see the README's note on the measures + risk bench)
REFERENCE_OMITS = ("measures' long table itself (its numbers are all computed, in wide tables; region names "
                   "and measures.csv are not)",)
TABLES = ("households", "persons", "pairings", "regions", "population", "survey_households")


def synthesise(processed_dir: Path, n_persons: int) -> int:
    """Two quarters (risk bench's columns) with population, survey and stored deprivations;
    returns the households of a quarter."""
    for n, period in enumerate(PERIODS):
        counts = factory.write_generated(processed_dir, n_persons, period, pci=risk_bench.pci(400 * n),
                                         overrides=risk_bench.OVERRIDES, tables=TABLES)
        factory.store_deprivations(processed_dir, period)
    return counts["households"]


def cpu_seconds() -> float:
    """CPU seconds of this process so far, user + system, every thread (DuckDB's included)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Clock:
    """Wall and CPU seconds of a block: `with Clock() as c: ...` then c.wall, c.cpu. Under load
    the wall time swings 2-3x with the other processes; the CPU seconds much less."""

    def __enter__(self) -> "Clock":
        self._wall, self._cpu = time.perf_counter(), cpu_seconds()
        return self

    def __exit__(self, *exc) -> None:
        self.wall, self.cpu = time.perf_counter() - self._wall, cpu_seconds() - self._cpu


@contextlib.contextmanager
def model_clock():
    """Record the wall and CPU seconds of every model the graph runner creates and of every
    warehouse write while inside: yields a list of (name, kind, wall, cpu, temp MB after), kind
    'table' / 'view' / 'write' (a write is named after its table's folder). How the per-model
    figures in the README were found: `python -m benchmarks.measures_risk 1000000 --models`."""
    from pipelines import graph, warehouse

    records: list[tuple[str, str, float, float, float]] = []
    run, write = graph.Graph.run, warehouse.write_parquet

    def spilled(con) -> float:
        if not isinstance(con, duckdb.DuckDBPyConnection):
            return 0.0
        return con.execute("select coalesce(sum(size), 0) from duckdb_temporary_files()").fetchall()[0][0] / 1e6

    def timed_run(self, con, targets, *, built=(), **kwargs):
        done, made = set(built), []
        for model in self.upstream(list(targets)):
            if model.name in done:
                continue
            with Clock() as clock:
                run(self, con, [model.name], built=done, **kwargs)
            records.append((model.name, model.materialized, clock.wall, clock.cpu, spilled(con)))
            done.add(model.name)
            made.append(model.name)
        return made

    def timed_write(con, query, path, **kwargs):
        with Clock() as clock:
            rows = write(con, query, path, **kwargs)
        records.append((Path(path).parent.parent.name, "write", clock.wall, clock.cpu, spilled(con)))
        return rows

    graph.Graph.run, warehouse.write_parquet = timed_run, timed_write
    try:
        yield records
    finally:
        graph.Graph.run, warehouse.write_parquet = run, write


def run_stages(processed_dir: Path, policy) -> dict[str, float]:
    """Measures then risk of the second quarter; wall and CPU seconds of each."""
    from pipelines.measures.pipeline import run as measures
    from pipelines.risk.pipeline import run as risk

    with Clock() as m:
        measures(processed_dir, PERIODS[1], policy=policy)
    with Clock() as r:
        risk(processed_dir, PERIODS[1], previous=PERIODS[0], policy=policy)
    return {"measures_seconds": m.wall, "risk_seconds": r.wall,
            "measures_cpu_seconds": m.cpu, "risk_cpu_seconds": r.cpu}


def time_reference(processed_dir: Path, policy, out_dir: Path) -> tuple[Clock, dict]:
    """Wall and CPU seconds of the hand-written script (bind + run + write its outputs as Parquet)
    and its outputs. It runs under the stages' DuckDB settings (config/warehouse.toml [engine]:
    memory_limit, threads, spilling to out_dir): the same machine budget, not DuckDB's default of
    80 % of the RAM."""
    from pipelines import warehouse

    out_dir.mkdir(parents=True, exist_ok=True)  # DuckDB creates the spill folder only, not its parents
    with warehouse.connect(policy, spill=out_dir / "spill") as con:
        with Clock() as clock:
            reference.bind(con, processed_dir, PERIODS[1], PERIODS[0], policy)
            reference.run_reference(con)
            reference.write_outputs(con, out_dir)
        outputs = {t: con.table(t).df() for t in reference.OUTPUTS}
    return clock, outputs


def time_pandas(processed_dir: Path, policy, out_dir: Path) -> tuple[Clock, dict]:
    """Wall and CPU seconds of the pandas baseline (read Parquet, compute, write its outputs as Parquet)."""
    with Clock() as clock:
        outputs = reference.run_pandas(processed_dir, PERIODS[1], PERIODS[0], policy)
        reference.write_pandas_outputs(outputs, out_dir)
    return clock, outputs


def bench_measures_risk(n_persons: int, tmp_dir: str | None = None, models: bool = False) -> dict:
    """Time measures + risk vs the reference vs pandas on n_persons per quarter (two quarters).
    models: also each model's and write's seconds in the stages ("models", see model_clock)."""
    from pipelines.policy import load_policy

    policy = load_policy()
    with tempfile.TemporaryDirectory(prefix="povmon-mr-bench-", dir=tmp_dir) as tmp:
        processed = Path(tmp) / "processed"
        households = synthesise(processed, n_persons)
        load_before = os.getloadavg()
        with model_clock() if models else contextlib.nullcontext([]) as records:
            stages = run_stages(processed, policy)
        ref, ref_out = time_reference(processed, policy, Path(tmp) / "reference")
        pandas, pandas_out = time_pandas(processed, policy, Path(tmp) / "pandas")
        pipe_out = reference.pipeline_outputs(processed, PERIODS[1])
        seconds = stages["measures_seconds"] + stages["risk_seconds"]
        cpu = stages["measures_cpu_seconds"] + stages["risk_cpu_seconds"]
        return {
            "stage": "measures+risk", "persons": households * factory.PERSONS_PER_HOUSEHOLD,
            "households": households, "seconds": seconds, "cpu_seconds": cpu, **stages,
            "reference_seconds": ref.wall, "pandas_seconds": pandas.wall,
            "reference_cpu_seconds": ref.cpu, "pandas_cpu_seconds": pandas.cpu,
            "ratio_to_reference": seconds / ref.wall, "speedup_vs_pandas": pandas.wall / seconds,
            "ratio_to_reference_cpu": cpu / ref.cpu, "speedup_vs_pandas_cpu": pandas.cpu / cpu,
            "reference_omits": REFERENCE_OMITS,
            "reference_differences": reference.differences(pipe_out, ref_out, tolerance=1e-6),
            "pandas_differences": reference.differences(ref_out, pandas_out, tolerance=1e-6),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "load_average_before": load_before, "load_average": os.getloadavg(),
            **({"models": records} if models else {}),
        }


if __name__ == "__main__":
    per_model = "--models" in sys.argv[1:]
    for size in [int(a) for a in sys.argv[1:] if a != "--models"] or [100000]:
        result = bench_measures_risk(size, tmp_dir=os.environ.get("BENCH_TMP"), models=per_model)
        for name, kind, wall, cpu, temp in sorted(result.pop("models", []), key=lambda r: -r[3]):
            print(f"{name:32s} {kind:6s} wall {wall:8.2f} s  cpu {cpu:8.2f} s  temp files {temp:8.0f} MB")
        print(result, flush=True)
