"""The risk benchmark runs end to end at a tiny size (timings are reported, never asserted)."""

from pipelines.risk.bench import bench_risk


def test_bench_risk_reports_ratio_and_memory(tmp_path):
    result = bench_risk(300, tmp_dir=str(tmp_path))
    assert result["households"] == 100 and result["tables"]["risk"] == 100
    assert {"time_ratio", "peak_rss_mb", "seconds", "baseline_seconds"} <= set(result)
