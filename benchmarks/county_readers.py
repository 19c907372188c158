"""The county-format readers at scale (issue 12 part 4): every registry file of one quarter of a city
written in county formats (`povmon synth --format county`, e.g. 1 000 000 households: ten chunks,
one file per county and chunk) read through ingest's own readers (pipelines/ingest/readers.py
read_sheets, with ingest's header finders and limits), one file at a time: format, rows, MB, seconds,
rows/s and peak RSS per file, and totals per format.

    python -m benchmarks.county_readers /tmp/povmon-county/raw 2020Q2 [--json out.json]

Reading only (no mapping, no checks, no models): the raw edge of ingest. Timings are reported,
never asserted.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from benchmarks.national import measure


def reader_setup(policy=None):
    """Ingest's registry header finder, text-column finder and limits."""
    from pipelines.ingest import headers as hdr
    from pipelines.ingest import readers
    from pipelines.policy import load_policy

    policy = policy or load_policy()
    columns = hdr.columns_of(policy.aliases["registry"])
    return hdr.policy_header_finder(policy, columns), hdr.text_column_finder(columns), readers.Limits.from_policy(policy)


def read_file(path: Path, setup) -> dict[str, int]:
    """Data rows of every sheet ingest's readers return for `path` (sheet name, '' for a CSV / .dta /
    .sav): the data sheet, and in a names-only workbook also its code-list sheet, which ingest
    reads and then sets aside."""
    from pipelines.ingest import readers

    find_header, text_columns, limits = setup
    return {sheet.sheet or "": len(sheet.data)
            for sheet in readers.read_sheets(path, find_header, path.name, limits=limits, text_columns=text_columns)}


def bench_readers(raw: Path, period: str) -> dict:
    setup = reader_setup()
    files = []
    for path in sorted((Path(raw) / "registry" / period).iterdir()):
        sheets, t = measure(lambda path=path: read_file(path, setup))
        rows = sum(sheets.values())
        files.append({"file": path.name, "format": path.suffix.lstrip("."), "rows": rows, "sheets": sheets,
                      "mb": round(path.stat().st_size / 2**20, 1), **t,
                      "rows_per_second": round(rows / t["seconds"]) if t["seconds"] else None})
    by_format: dict[str, dict] = {}
    for f in files:
        agg = by_format.setdefault(f["format"], {"files": 0, "rows": 0, "mb": 0.0, "seconds": 0.0, "cpu_seconds": 0.0,
                                                 "peak_rss_mb": 0.0})
        agg["files"] += 1
        for k in ("rows", "mb", "seconds", "cpu_seconds"):
            agg[k] = round(agg[k] + f[k], 3)
        agg["peak_rss_mb"] = max(agg["peak_rss_mb"], f["peak_rss_mb"])
    for agg in by_format.values():
        agg["rows_per_second"] = round(agg["rows"] / agg["seconds"]) if agg["seconds"] else None
    return {"raw": str(raw), "period": period, "files": files, "by_format": by_format,
            "rows": sum(f["rows"] for f in files), "seconds": round(sum(f["seconds"] for f in files), 1)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("raw")
    ap.add_argument("period")
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    result = bench_readers(Path(args.raw), args.period)
    text = json.dumps(result, ensure_ascii=False, indent=1)
    if args.json:
        Path(args.json).write_text(text + "\n", encoding="utf-8")
    print(json.dumps(result["by_format"], ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
