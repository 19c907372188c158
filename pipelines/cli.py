"""`povmon` command line: one subcommand per stage. Wiring only; stages live in pipelines/<stage>/."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
from pathlib import Path

from pipelines import config


def _periods(text: str | None) -> list[str] | None:
    return [p.strip() for p in text.split(",") if p.strip()] if text else None


def cmd_synth(args: argparse.Namespace) -> int:
    from pipelines.synth.pipeline import run, write_village_reference

    if args.villages:  # the sample city's village reference (config/regions/villages.csv), nothing else
        print(write_village_reference(Path(args.villages), args.seed))
        return 0
    summary = run(
        out_dir=Path(args.out),
        households=args.households,
        seed=args.seed,
        periods=_periods(args.periods),
        fmt=args.format,
    )
    text = json.dumps(summary, ensure_ascii=False, indent=2, default=str)
    if not args.log_file:
        print(text)
        return 0
    log = Path(args.log_file)
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(text + "\n", encoding="utf-8")
    print(synth_line(summary, log))
    return 0


def synth_line(summary: dict, log: Path) -> str:
    """One line for `make demo`: what the generator wrote, and where its full summary is."""
    last = max(summary["households"]) if summary["households"] else None
    size = (f"{summary['households'][last]:,} households, {summary['persons'][last]:,} persons in {last}"
            if last else "no quarter")
    n = len(summary["households"])
    return (f"povmon synth: {n} quarter{'' if n == 1 else 's'}, {size}; {summary['files_written']} files "
            f"({summary['mode']} formats), {summary['defects']} planted defects, {summary['seconds']} s; "
            f"summary: {log}")


def cmd_ingest(args: argparse.Namespace) -> int:
    from pipelines.ingest.pipeline import check, check_report, run

    if args.check:  # one table for the whole raw folder; writes nothing
        result = check(Path(args.raw), _periods(args.periods))
        print(check_report(result))
        return EXIT_BAD_INPUT if result["problems"] or result["quarantine_failures"] else 0
    from pipelines import engines

    with engines.use(args.engine):
        summary = run(
            raw_dir=Path(args.raw),
            processed_dir=Path(args.processed),
            periods=_periods(args.periods),
            full=args.full,
        )
    print(json.dumps(summary, ensure_ascii=False, indent=2, default=str))
    for warning in summary.get("warnings", []):
        print(f"povmon ingest: warning: {warning}", file=sys.stderr)
    return 0


def cmd_periods(args: argparse.Namespace) -> int:
    from pipelines.periods import make_fragment, quarters_in

    quarters = quarters_in(Path(args.raw))
    if args.make:
        print(make_fragment(quarters), end="")
    else:
        print(" ".join(str(q) for q in quarters))
    return 0


def cmd_raw_state(args: argparse.Namespace) -> int:
    from pipelines.rawstate import update_stamp

    changed = update_stamp(Path(args.raw), Path(args.stamp))
    if changed:
        print(f"povmon raw-state: {args.raw} changed; {args.stamp} rewritten", file=sys.stderr)
    return 0


def _print(summary: dict) -> None:
    print(json.dumps(summary, ensure_ascii=False, indent=2, default=str))


def cmd_validate(args: argparse.Namespace) -> int:
    from pipelines.validate.pipeline import DataQualityError, run

    from pipelines import engines

    try:
        with engines.use(args.engine):
            summary = run(Path(args.processed), args.period, reports_dir=Path(args.reports), raw_dir=Path(args.raw),
                          allow_failed_gate=args.allow_failed_gate)
    except DataQualityError as exc:
        print(exc, file=sys.stderr)
        return 1
    _print(summary)
    for line in _validate_warnings(summary, args.raw, args.period):
        print(f"povmon validate: warning: {line}", file=sys.stderr)
    return 0


def _validate_warnings(summary: dict, raw: str, period: str) -> list[str]:
    out = []
    if summary.get("gate") == "overridden":
        failed = summary["data_quality"]["failed"]
        out.append(f"{summary['period']}: data-quality gate failed ({len(failed)} expectations) "
                   "and was overridden (--allow-failed-gate); every later stage and the report say so")
    printed = summary["ledger"]["printed"]
    if printed["households_not_in_raw"]:
        out.append(f"{printed['households_not_in_raw']} household(s) of the 问题清单 have no row "
                   f"in {raw}/registry/{period}: printed without 户主 and 户编号")
    if printed["reports_not_found"]:
        out.append(f"{printed['reports_not_found']} returned-sheet row(s) the 问题清单 cites are "
                   f"no longer under {raw}/rectification: cited by file and row only")
    return out


MAX_WARNINGS = 5  # povmon quarters prints this many of ingest's warnings, the rest go to its log


def cmd_quarters(args: argparse.Namespace) -> int:
    """Ingest + every stage of every quarter in one process; a short summary on stdout, each
    stage's JSON in the log, progress and warnings on stderr."""
    from pipelines import progress, quarters
    from pipelines.validate.pipeline import DataQualityError

    processed, reports = Path(args.processed), Path(args.reports)
    log = Path(args.log_file) if args.log_file else processed.parent / "logs" / "quarters.jsonl"
    warn = lambda text: print(f"povmon quarters: warning: {text}", file=sys.stderr)  # noqa: E731

    steps: list = []  # logged even when a stage fails: what ran before it

    def on_step(step) -> None:
        steps.append(step)
        r = step.result
        if step.stage == "ingest":  # the first few; all of them are in the log
            shown = r.get("warnings", [])[:MAX_WARNINGS]
            for w in shown:
                warn(w)
            if len(r.get("warnings", [])) > len(shown):
                warn(f"… {len(r['warnings']) - len(shown)} more ingest warnings: {log} (stage ingest, result.warnings)")
        elif step.stage == "validate":
            for w in _validate_warnings(r, args.raw, step.period):
                warn(w)
        elif step.stage == "crosscheck" and "note" in r:
            warn(r["note"])

    if args.raw_state:  # as make records data/raw before ingest, so a later `make quarters` finds all done
        from pipelines.rawstate import update_stamp
        update_stamp(Path(args.raw), Path(args.raw_state))
    # validate's rosters and the audit's raw values, read meanwhile in a side process
    from pipelines.periods import quarters_in
    from pipelines.readahead import ReadAhead
    ahead = ReadAhead(Path(args.raw), [str(q) for q in quarters_in(Path(args.raw))], args.audit_cards is not None)
    try:
        done = quarters.run(Path(args.raw), processed, reports, ingest=not args.no_ingest,
                            allow_failed_gate=args.allow_failed_gate, on_step=on_step, read_ahead=ahead)
        audit, code = io.StringIO(), 0
        if args.audit_cards is not None:
            with progress.step("audit-pii"), contextlib.redirect_stdout(audit):
                code = cmd_audit_pii(argparse.Namespace(raw=args.raw, processed=args.processed, reports=args.reports,
                                                        cards=args.audit_cards, read_ahead=ahead))
    except DataQualityError as exc:
        print(exc, file=sys.stderr)
        return 1
    finally:
        ahead.close()
        if steps:
            quarters.write_log(log, steps)
    lines = quarters.summary_lines(done, Path(args.raw), processed, reports, log, args.since)
    print("\n".join(lines[:-1]), audit.getvalue().rstrip(), lines[-1], sep="\n") if audit.getvalue() \
        else print("\n".join(lines))
    return code


def cmd_crosscheck(args: argparse.Namespace) -> int:
    from pipelines.crosscheck.pipeline import run

    summary = run(Path(args.processed), args.period)
    if "note" in summary:
        print(f"povmon crosscheck: {summary['note']}", file=sys.stderr)
    _print(summary)
    return 0


def cmd_measures(args: argparse.Namespace) -> int:
    from pipelines import engines
    from pipelines.measures.pipeline import run

    with engines.use(args.engine):
        _print(run(Path(args.processed), args.period))
    return 0


def cmd_survey(args: argparse.Namespace) -> int:
    from pipelines.measures.survey import run

    _print(run(Path(args.raw), Path(args.processed), args.design, args.period, previous=args.previous))
    return 0


def cmd_risk(args: argparse.Namespace) -> int:
    from pipelines import engines
    from pipelines.risk.pipeline import run, summary

    with engines.use(args.engine):
        result = run(Path(args.processed), args.period, previous=args.previous)
    print(summary(Path(args.processed), args.period))
    if args.verbose:
        _print(result)
    return 0


def cmd_tasks(args: argparse.Namespace) -> int:
    from pipelines.tasks.pipeline import run, summary_line

    print(summary_line(run(Path(args.processed), args.period, Path(args.reports))))
    return 0


def cmd_cards(args: argparse.Namespace) -> int:
    from pipelines.risk.cards import write_cards

    villages = write_cards(Path(args.processed), args.period, args.village or args.township, raw_dir=Path(args.raw),
                           out_dir=Path(args.out), pdf=not args.no_pdf)
    for v in villages:
        pdf = f", {v.pdf.name}" if v.pdf else ""
        print(f"{len(v.cards)} 明白卡 in {v.folder} (index.html{pdf})")
        if v.not_in_raw:
            print(f"povmon cards: warning: {v.not_in_raw} household(s) of {v.folder.name} have no row in "
                  f"{args.raw}/registry/{args.period}: printed without names and 户编号", file=sys.stderr)
    if not villages:
        print("no registered or monitored household to card")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from pipelines.report.pipeline import run

    default = config.REPORTS_DIR / args.period
    out = Path(args.out) if args.out else (default if args.audience == "internal" else default / args.audience)
    _print(run(Path(args.processed), args.period, out, force=args.force, audience=args.audience))
    return 0


def cmd_audit_pii(args: argparse.Namespace) -> int:
    from pipelines.audit import AuditError, audit

    try:
        ahead = getattr(args, "read_ahead", None)
        report = audit(Path(args.raw), Path(args.processed), Path(args.reports), Path(args.cards),
                       raw_values=ahead.raw_values(Path(args.raw)) if ahead is not None else None)
    except AuditError as exc:
        raise ValueError(str(exc)) from exc
    for hit in report.hits:  # where and what kind, never the value
        print(f"personal data: {hit.line()}")
    s = report.summary()
    files = ", ".join(f"{n} {k}" for k, n in s["scanned"].items() if k != "cells")
    excused = ", ".join(f"{n} {k.replace('_', ' ')} cells" for k, n in s["excused_cells"].items()) or "none"
    skipped = ", ".join(f"{n} {k}" for k, n in sorted(s["skipped_files"].items())) or "none"
    print(f"povmon audit-pii: {s['hit_cells']} cells in {s['hits']} places hold personal data from {args.raw} "
          f"(scanned {s['scanned'].get('cells', 0):,} cells: {files}; excused as documented: {excused}; "
          f"file types not read: {skipped}"
          + "".join(f"; unchanged library code not read: {n} × {k}" for k, n in sorted(s["library_scripts_skipped"].items()))
          + ")")
    return 0 if report.ok else 1


def _wait_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--wait", type=float, metavar="SECONDS",
                   help="how long to wait while another run writes the warehouse "
                        "(default: config/warehouse.toml [lock] wait_seconds)")


def _engine_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engine", default="duckdb", choices=["duckdb", "spark"],
                   help="duckdb: this machine (a city, a province); spark: Spark SQL on the same models "
                        "(local[2] from config/spark.toml, or the cluster spark-submit configured)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="povmon", description="povmon poverty-monitoring pipeline")
    parser.add_argument("--debug", action="store_true",
                        help="on an error, show the full traceback instead of one line")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("synth", help="generate a synthetic city's raw exports into data/raw (+ truth)")
    p.add_argument("--out", default=str(config.DATA_DIR), help="data directory (raw/ and truth/ go under it)")
    p.add_argument("--households", type=int, default=20_000, help="registered households (default: a city)")
    p.add_argument("--seed", type=int, default=20201231)
    p.add_argument("--periods", help="comma-separated quarters, e.g. 2019Q4,2020Q2 (default: config)")
    p.add_argument("--format", default="auto", choices=["auto", "county", "parquet", "csv"],
                   help="county: each county's own file format; parquet: chunked Parquet for large runs; "
                   "csv: the same chunks as UTF-8 CSV")
    p.add_argument("--villages", metavar="CSV", help="only write the villages the seed draws (code, name, township_code, "
                   "urban_rural_code, synthetic) to CSV: how config/regions/villages.csv was made")
    p.add_argument("--log-file", help="write the JSON summary here and print one line instead (make demo)")
    p.set_defaults(func=cmd_synth)

    p = sub.add_parser("ingest", help="raw exports -> canonical tables in data/processed")
    p.add_argument("--raw", default=str(config.RAW_DIR))
    p.add_argument("--processed", default=str(config.PROCESSED_DIR))
    p.add_argument("--periods", help="comma-separated quarters (default: every period found)")
    p.add_argument("--check", action="store_true", help="read every file, write nothing: print one table of "
                   "mapped and unmapped headers, refused columns, unknown code labels and row counts (exit 2 "
                   "when a run would be refused)")
    p.add_argument("--full", action="store_true", help="read every registry county again (by default a county "
                   "whose files are unchanged since the last ingest is kept: docs/data_contract.md §5)")
    _wait_option(p)
    _engine_option(p)
    p.set_defaults(func=cmd_ingest)

    def stage(name: str, func, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--period", required=True, help="quarter, e.g. 2020Q2")
        p.add_argument("--processed", default=str(config.PROCESSED_DIR))
        p.set_defaults(func=func)
        return p

    p = stage("validate", cmd_validate, "data-quality gate + 两不愁三保障 checks, Data Docs, problem ledger")
    p.add_argument("--reports", default=str(config.REPORTS_DIR), help="where Data Docs and ledger xlsx go")
    p.add_argument("--allow-failed-gate", action="store_true",
                   help="publish the ledger and criteria models even when a blocking data-quality check fails "
                        "(recorded in validation_status; the report states it on its first page)")
    _engine_option(p)
    p.add_argument("--raw", default=str(config.RAW_DIR),
                   help="raw exports (the 问题清单 prints 户主, 户编号 and members' names read from here)")
    _wait_option(p)
    _wait_option(stage("crosscheck", cmd_crosscheck, "department lists (医保, 民政, 残联, 教育, 住建, 水利, 公安) "
                       "against the registry -> crosscheck_findings"))
    p = stage("measures", cmd_measures, "incidence, FGT with survey SEs, Gini, Alkire-Foster -> measures")
    _wait_option(p)
    _engine_option(p)
    p = stage("survey", cmd_survey, "one survey on its own (config/surveys/<design>.toml) -> measures, "
              "data_source survey:<design>")
    p.add_argument("--design", required=True, help="survey design name: config/surveys/<design>.toml")
    p.add_argument("--raw", default=str(config.RAW_DIR), help="raw exports (the design's file pattern is under it)")
    p.add_argument("--previous", help="also estimate the change from this quarter's survey (FGT, mean; with SEs)")
    _wait_option(p)
    p = stage("risk", cmd_risk, "risk levels, categories, watch groups, transitions, assistance gaps")
    _wait_option(p)
    _engine_option(p)
    p.add_argument("--previous", help="quarter to compare with (default: the preceding one)")
    p.add_argument("--verbose", action="store_true", help="also print the run's JSON summary")
    p = stage("tasks", cmd_tasks, "rectification tracker: status of the task list and instructions (指令), "
              "per-unit workbook reports/<period>/整改清单/")
    p.add_argument("--reports", default=str(config.REPORTS_DIR), help="where the per-unit workbook goes")
    _wait_option(p)
    p = stage("cards", cmd_cards, "print 明白卡 (household cards) of a village or township, outside data/processed")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--village", help="12-digit village code")
    where.add_argument("--township", help="9-digit township code (every village of it)")
    p.add_argument("--raw", default=str(config.RAW_DIR), help="raw exports (names and 户编号 are read from here)")
    p.add_argument("--out", default=str(config.PROJECT_ROOT / "cards"), help="output folder (git-ignored cards/)")
    p.add_argument("--no-pdf", action="store_true", help="HTML cards only (the A4 PDF needs chromium)")
    p = stage("report", cmd_report, "quarterly summary: summary.html, summary.xlsx, figures")
    p.add_argument("--audience", default="internal", choices=["internal", "public"],
                   help="internal: exact counts (the office); public: small counts withheld (default: internal)")
    p.add_argument("--out", help="output directory (default: reports/<period>, public: reports/<period>/public)")
    p.add_argument("--force", action="store_true", help="rebuild even when up to date")

    p = sub.add_parser("quarters", help="ingest, then every stage of every quarter in data/raw in one process "
                                        "(what `make quarters` runs command by command); prints a short summary")
    p.add_argument("--raw", default=str(config.RAW_DIR))
    p.add_argument("--processed", default=str(config.PROCESSED_DIR))
    p.add_argument("--reports", default=str(config.REPORTS_DIR))
    p.add_argument("--allow-failed-gate", action="store_true", help="as validate --allow-failed-gate, every quarter")
    p.add_argument("--no-ingest", action="store_true", help="skip ingest (the warehouse already holds data/raw)")
    p.add_argument("--log-file", help="where every stage's JSON result goes (default: <processed>/../logs/quarters.jsonl)")
    p.add_argument("--audit-cards", metavar="DIR", help="then run audit-pii over processed, reports and DIR (明白卡)")
    p.add_argument("--raw-state", metavar="STAMP", help="first update make's record of data/raw (as `povmon "
                   "raw-state --stamp STAMP`), so `make quarters` afterwards has nothing to redo")
    p.add_argument("--since", type=float, metavar="EPOCH", help="count the total seconds from this time "
                   "(make demo passes when it started, so synth is included)")
    _wait_option(p)
    p.set_defaults(func=cmd_quarters)

    p = sub.add_parser("periods", help="the quarters data/raw holds registry exports for (what make and the stages cover)")
    p.add_argument("--raw", default=str(config.RAW_DIR))
    p.add_argument("--make", action="store_true", help="print a Makefile fragment (QUARTERS, PREV_<quarter>)")
    p.set_defaults(func=cmd_periods)

    p = sub.add_parser("raw-state", help="record data/raw's files by content; the stamp changes only when content does")
    p.add_argument("--raw", default=str(config.RAW_DIR))
    p.add_argument("--stamp", default=str(config.DATA_DIR / ".raw-state.json"))
    p.set_defaults(func=cmd_raw_state)

    p = sub.add_parser("audit-pii", help="search every output for names, IDs, phones and 户编号 from data/raw "
                                         "(exit 1 naming each place found)")
    p.add_argument("--raw", default=str(config.RAW_DIR), help="raw exports: the personal values searched for")
    p.add_argument("--processed", default=str(config.PROCESSED_DIR))
    p.add_argument("--reports", default=str(config.REPORTS_DIR))
    p.add_argument("--cards", default=str(config.PROJECT_ROOT / "cards"), help="明白卡 folder")
    p.set_defaults(func=cmd_audit_pii)
    return parser


EXIT_BAD_INPUT = 2  # bad input, a missing stage, an unreadable or unwritable path: one line names it
EXIT_INTERNAL = 3  # anything else is a bug in povmon: one line, the traceback with --debug


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _os_error_line(exc: OSError) -> str:
    what = exc.strerror or _one_line(exc)
    return f"{exc.filename}: {what}" if exc.filename else what


def main(argv: list[str] | None = None) -> int:
    """Run a subcommand. Any error ends it with ONE line on stderr, never a traceback (unless
    `povmon --debug …`): exit 2 for bad input (a file, a column, a period, a missing stage, the
    configuration) or an unusable path (disk full, permissions), naming what and where; exit 3 for
    an internal error (a bug: rerun with --debug and report it). validate's data-quality gate exits 1."""
    from pipelines.engines import EngineError
    from pipelines.ingest.readers import IngestError
    from pipelines.policy import PolicyError, load_policy
    from pipelines.warehouse import LOCK_WAIT_ENV, WarehouseError

    args = build_parser().parse_args(argv)
    if getattr(args, "wait", None) is not None:
        os.environ[LOCK_WAIT_ENV] = str(args.wait)
    try:
        load_policy()  # a bad configuration stops every command before it reads any data
        return args.func(args)
    except (IngestError, PolicyError, FileNotFoundError, ValueError, WarehouseError, EngineError) as exc:
        if args.debug:
            raise
        line, code = f"error: {_os_error_line(exc) if isinstance(exc, OSError) else _one_line(exc)}", EXIT_BAD_INPUT
    except OSError as exc:
        if args.debug:
            raise
        line, code = f"error: {_os_error_line(exc)}", EXIT_BAD_INPUT
    except Exception as exc:  # noqa: BLE001 - the one place an unexpected error becomes one line
        if args.debug:
            raise
        line = (f"internal error: {type(exc).__name__}: {_one_line(exc)[:300]} "
                f"(a bug in povmon: rerun with povmon --debug for the traceback and report it)")
        code = EXIT_INTERNAL
    print(f"povmon {args.command}: {line}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
