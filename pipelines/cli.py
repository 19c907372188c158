"""`povmon` command line: one subcommand per stage. Wiring only; stages live in pipelines/<stage>/."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pipelines import config


def _periods(text: str | None) -> list[str] | None:
    return [p.strip() for p in text.split(",") if p.strip()] if text else None


def cmd_synth(args: argparse.Namespace) -> int:
    from pipelines.synth.pipeline import run

    summary = run(
        out_dir=Path(args.out),
        households=args.households,
        seed=args.seed,
        periods=_periods(args.periods),
        fmt=args.format,
    )
    print(json.dumps(summary, ensure_ascii=False, indent=2, default=str))
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    from pipelines.ingest.pipeline import run

    summary = run(
        raw_dir=Path(args.raw),
        processed_dir=Path(args.processed),
        periods=_periods(args.periods),
    )
    print(json.dumps(summary, ensure_ascii=False, indent=2, default=str))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="povmon", description="povmon poverty-monitoring pipeline")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("synth", help="generate a synthetic city's raw exports into data/raw (+ truth)")
    p.add_argument("--out", default=str(config.DATA_DIR), help="data directory (raw/ and truth/ go under it)")
    p.add_argument("--households", type=int, default=20_000, help="registered households (default: a city)")
    p.add_argument("--seed", type=int, default=20201231)
    p.add_argument("--periods", help="comma-separated quarters, e.g. 2019Q4,2020Q2 (default: config)")
    p.add_argument("--format", default="auto", choices=["auto", "county", "parquet"],
                   help="county: each county's own file format; parquet: chunked Parquet for large runs")
    p.set_defaults(func=cmd_synth)

    p = sub.add_parser("ingest", help="raw exports -> canonical tables in data/processed")
    p.add_argument("--raw", default=str(config.RAW_DIR))
    p.add_argument("--processed", default=str(config.PROCESSED_DIR))
    p.add_argument("--periods", help="comma-separated quarters (default: every period found)")
    p.set_defaults(func=cmd_ingest)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
