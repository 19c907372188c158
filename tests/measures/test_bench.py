"""bench_measures runs and both paths agree (no timing assertions)."""

from pipelines.measures.bench import bench_measures


def test_bench_smoke():
    result = bench_measures(3_000, threads=1)
    assert result["n_households"] == 1_000
    assert result["max_abs_difference"] < 1e-12
    assert result["duckdb_seconds"] > 0 and result["pandas_peak_bytes_tracemalloc"] > 0
