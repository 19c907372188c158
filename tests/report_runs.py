"""Report runs without Chromium, for tests that are not about figures.

`povmon report` exports every figure as PNG through Chromium (kaleido) when a browser is installed:
seconds per run, the largest fixed cost of a report run in the suite. The tests about figures run it
(tests/report/conftest.py `report_out`, test_report.py's test_pngs_*); every other test that makes a
report passes `policy=without_pngs()`: the project's config with config/report.toml [figures]
png = false, the documented switch. The HTML, the workbooks and the quality page are the same bytes
either way (test_report.py's test_forced_rebuild_gives_the_same_bytes compares them with a PNG run)."""

from __future__ import annotations

from pipelines.policy import Policy, load_policy


def without_pngs(overrides: dict[str, dict] | None = None) -> Policy:
    """load_policy(overrides=...) with [figures] png = false merged into the report overrides."""
    overrides = dict(overrides or {})
    report = dict(overrides.get("report", {}))
    report["figures"] = {**report.get("figures", {}), "png": False}
    return load_policy(overrides={**overrides, "report": report})
