"""Benchmark: FGT by county in DuckDB SQL (nodes.fgt) vs a plain pandas groupby, same process.

    bench_measures(n_persons) -> dict   (`make bench`; alone: python -m benchmarks.measures 1000000)

Households come from the shared factory (benchmarks/factory.py), generated in DuckDB with
hash-based pseudo-random columns: size 1-5 (mean 3, so n_persons / 3 households), six counties,
income per capita 0-19 999.99 yuan; the four columns the FGT needs are held in memory. Timings
are wall-clock seconds of the computation only (data already in memory on both sides). Memory:
tracemalloc peak of the pandas computation; DuckDB's buffer-manager usage right after its query
(duckdb_memory()) and the process peak RSS (getrusage, which includes everything the process did
before).
"""

from __future__ import annotations

import resource
import time
import tracemalloc

import duckdb
import numpy as np
import pandas as pd

from benchmarks import factory
from pipelines.measures import nodes

LINES = {"national": 4000.0, "provincial_guideline": 4500.0, "monitoring": 6000.0}
PERIOD = "2020Q2"
SIZE = "1 + h(i, 2) % 5"  # persons per household, 1-5
INCOME = "cast(hash(i, 3) % 2000000 as double) / 100.0"  # yuan per person per year, 0-19 999.99


def synthesise_households(con: duckdb.DuckDBPyConnection, n_persons: int) -> int:
    """Table bench_households(household_key, county_code, size, income) on `con`: the columns
    the FGT needs of the factory's canonical households; returns its row count."""
    factory.generate(con, n_persons, PERIOD, size=SIZE, pci=INCOME, tables=("households",), views=True)
    con.execute("create or replace table bench_households as select household_key, county_code, "
                "household_size as size, per_capita_net_income_derived as income from households")
    return con.execute("select count(*) from bench_households").fetchall()[0][0]


def fgt_by_county_pandas(df: pd.DataFrame, lines: dict[str, float]) -> pd.DataFrame:
    """Baseline: person-weighted P0, P1, P2 by county and line with a pandas groupby."""
    out = []
    for name, z in lines.items():
        gap = np.where(df["income"] < z, (z - df["income"]) / z, 0.0)
        frame = pd.DataFrame({"county_code": df["county_code"], "w": df["size"],
                              "p0": df["size"] * (df["income"] < z), "p1": df["size"] * gap,
                              "p2": df["size"] * gap * gap})
        sums = frame.groupby("county_code", sort=True).sum()
        res = sums[["p0", "p1", "p2"]].div(sums["w"], axis=0)
        res["line_name"] = name
        out.append(res.reset_index())
    return pd.concat(out, ignore_index=True)


def bench_measures(n_persons: int = 1_000_000, threads: int | None = None) -> dict:
    """Time DuckDB FGT-by-county vs pandas on n_persons synthetic persons; check they agree."""
    con = duckdb.connect()
    if threads:
        con.execute(f"set threads = {int(threads)}")
    n_households = synthesise_households(con, n_persons)

    t0 = time.perf_counter()
    rel = nodes.fgt(con, "bench_households", LINES, weight="size", by="county_code", by_level="county",
                    total=None)
    duck = rel.filter("measure in ('fgt0', 'fgt1', 'fgt2')").df()
    duck_seconds = time.perf_counter() - t0
    duck_bytes = con.execute("select sum(memory_usage_bytes) from duckdb_memory()").fetchall()[0][0] or 0

    df = con.sql("select county_code, size, income from bench_households").df()
    tracemalloc.start()
    t0 = time.perf_counter()
    pdf = fgt_by_county_pandas(df, LINES)
    pandas_seconds = time.perf_counter() - t0
    _, pandas_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    # the two paths agree
    wide = duck.pivot_table(index=["domain_code", "line_name"], columns="measure", values="estimate")
    other = pdf.set_index(["county_code", "line_name"])[["p0", "p1", "p2"]]
    other.index.names = wide.index.names
    max_diff = float(np.abs(wide[["fgt0", "fgt1", "fgt2"]].to_numpy()
                            - other.loc[wide.index].to_numpy()).max())
    persons = con.execute("select sum(size) from bench_households").fetchall()[0][0]
    con.close()
    return {
        "n_persons_requested": n_persons,
        "n_households": n_households,
        "n_persons": int(persons),
        "duckdb_seconds": round(duck_seconds, 4),
        "pandas_seconds": round(pandas_seconds, 4),
        "ratio_pandas_over_duckdb": round(pandas_seconds / duck_seconds, 3) if duck_seconds else None,
        "pandas_peak_bytes_tracemalloc": pandas_peak,
        "duckdb_memory_bytes_after_query": int(duck_bytes),
        "process_peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "max_abs_difference": max_diff,
    }


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(bench_measures(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000), indent=2))
