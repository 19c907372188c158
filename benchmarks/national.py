"""The national benchmark (issue #12 part 2): raw exports -> report for one quarter at 1 M, 10 M and
100 M persons, in Parquet and CSV, per stage, against hand-written DuckDB in the same process.

    make bench-national                      (NATIONAL_SIZES=1000000,10000000 NATIONAL_FORMATS=parquet,csv)
    python -m benchmarks.national --sizes 1000000 --formats parquet --data /tmp/povmon-national

For each size and format: the generator writes (or a previous run's copy is reused: same persons,
format and seed) the raw exports of one quarter under the data folder (outside the repo by default);
then ingest, crosscheck, validate, measures, risk, tasks and report run through the functions
`povmon quarters` calls (pipelines/quarters.py), each timed: wall and CPU seconds, peak memory (the
process's high-water mark, reset per stage, and the sampled RSS of the process with its children,
e.g. the report's Chromium), rows and rows/s (rows: the quarter's registry rows read for ingest, the
quarter's persons in the warehouse for the stages after it). In the same process, the hand-written
references: a plain DuckDB read + write of the same raw registry files (ingest's yardstick, as in
benchmarks/ingest.py) and benchmarks/reference_measures_risk.sql over the warehouse's canonical
Parquet (the yardstick of measures + risk; no previous quarter here, so its transition part runs
against an empty quarter as the risk stage runs without one). Crosscheck, validate, tasks and report
have no hand-written reference.

Results accumulate in a JSON file (benchmarks/national.json: one entry per size and format, a
rerun replaces its entry) and as a Markdown table in the README between the markers below. A size
whose run would not fit is not started: with `--budget-seconds`, a size whose time projected
linearly from the largest measured run of that format exceeds the budget, or whose projected raw
data exceeds the free disk, is recorded as skipped with the projection (the measured reason why not).
Timings are reported, never asserted; the table states the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

PERIOD = "2020Q2"
PERSONS_PER_HOUSEHOLD = 3.2  # the generator's mean household size, near enough for sizing
STAGES = ("ingest", "crosscheck", "validate", "measures", "risk", "tasks", "report")
BEGIN, END = "<!-- bench-national:begin -->", "<!-- bench-national:end -->"
REPO = Path(__file__).resolve().parents[1]
DEFAULT_JSON = REPO / "benchmarks" / "national.json"
DEFAULT_DATA = Path(os.environ.get("TMPDIR", "/tmp")) / "povmon-national"


# ---------------------------------------------------------------- memory and time


def _hwm_kb() -> int | None:
    """This process's peak RSS (VmHWM, kB) since the last reset; None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_hwm() -> None:
    """Reset the peak-RSS mark (Linux >= 4.0: '5' > /proc/self/clear_refs); else a no-op."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


class TreeSampler:
    """Peak RSS of this process and all its children, sampled every `interval` seconds (psutil)."""

    def __init__(self, interval: float = 0.2):
        self.interval, self.peak, self._stop = interval, 0, threading.Event()
        # CPU seconds of the children (user + system), at the start and last seen, by pid: a child's
        # CPU during the call (the report's Chromium, a side process). A child already running at the
        # start counts from its CPU then; a child born during the call counts from 0 (not from when
        # it was first sampled, up to `interval` later); a child that ends between two samples loses
        # at most its last `interval`
        self._entered = False
        self.child_cpu_first: dict[int, float] = {}
        self.child_cpu_last: dict[int, float] = {}
        try:
            import psutil

            self._proc = psutil.Process()
        except ImportError:  # no psutil: the process's own high-water mark stands alone
            self._proc = None
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _sample(self) -> int:
        total = self._proc.memory_info().rss
        for child in self._proc.children(recursive=True):
            try:
                total += child.memory_info().rss
                times = child.cpu_times()
            except Exception:  # a child that ended between listing and reading
                continue
            self.child_cpu_first.setdefault(child.pid, times.user + times.system if not self._entered else 0.0)
            self.child_cpu_last[child.pid] = times.user + times.system
        return total

    @property
    def children_cpu(self) -> float:
        """CPU seconds the children spent while sampled (a child already running at the start
        counts from then on)."""
        return sum(self.child_cpu_last[pid] - self.child_cpu_first[pid] for pid in self.child_cpu_last)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(self.interval)

    def __enter__(self):
        if self._proc is not None:
            self._sample()  # the children already running: their CPU counts from here
            self._entered = True
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._proc is not None:
            self._thread.join()
            self.peak = max(self.peak, self._sample())


def measure(call: Callable[[], object]) -> tuple[object, dict]:
    """Run `call`; its result and {seconds, cpu_seconds, peak_rss_mb}: CPU of this process and of
    its children during the call (sampled: the report's Chromium, a side process); peak RSS the
    larger of the process's high-water mark over the call and the sampled RSS of the process with
    its children."""
    _reset_hwm()
    cpu, wall = time.process_time(), time.perf_counter()
    with TreeSampler() as tree:
        result = call()
    seconds, cpu = time.perf_counter() - wall, time.process_time() - cpu + tree.children_cpu
    hwm = (_hwm_kb() or 0) * 1024
    return result, {"seconds": round(seconds, 3), "cpu_seconds": round(cpu, 3),
                    "peak_rss_mb": round(max(hwm, tree.peak) / 2**20, 1)}


# ---------------------------------------------------------------- data


def households_for(n_persons: int) -> int:
    return max(1, round(n_persons / PERSONS_PER_HOUSEHOLD))


def generate(root: Path, n_persons: int, fmt: str, seed: int) -> dict:
    """Raw exports of one quarter under root/raw (reused when root/stamp.json says they match);
    returns the stamp: persons asked, format, seed, households, bytes, synth seconds."""
    from pipelines.synth.pipeline import run as synth

    want = {"persons_asked": n_persons, "format": fmt, "seed": seed, "period": PERIOD}
    stamp_path = root / "stamp.json"
    if stamp_path.exists():
        stamp = json.loads(stamp_path.read_text(encoding="utf-8"))
        if {k: stamp.get(k) for k in want} == want and (root / "raw" / "SYNTHETIC.json").exists():
            return {**stamp, "reused": True}
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    summary, timing = measure(lambda: synth(out_dir=root, households=households_for(n_persons), seed=seed,
                                            periods=[PERIOD], fmt=fmt))
    stamp = {**want, "households": summary["households"][PERIOD], "persons": summary["persons"][PERIOD],
             "raw_bytes": folder_bytes(root / "raw" / "registry"), "synth": timing}
    stamp_path.write_text(json.dumps(stamp, indent=2), encoding="utf-8")
    return {**stamp, "reused": False}


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


# ---------------------------------------------------------------- the references


def registry_files(raw: Path) -> list[Path]:
    return sorted(p for p in (raw / "registry" / PERIOD).iterdir() if p.suffix in (".parquet", ".csv"))


def duckdb_copy(raw: Path, out: Path) -> int:
    """Plain read + write of every raw registry file of the quarter to Parquet (benchmarks/ingest.py
    copy_files): no mapping, no checks. Rows copied."""
    from benchmarks.ingest import copy_files

    try:
        return copy_files(registry_files(raw), out)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def duckdb_copy_all(raw: Path, out: Path) -> int:
    """Plain read + write of every file ingest reads (registry, pairing, survey, department lists,
    …: benchmarks/ingest.py duckdb_copy_all): ingest's like-for-like yardstick. Rows copied."""
    from benchmarks.ingest import duckdb_copy_all as copy_all

    try:
        return copy_all(raw, out)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def reference_sql(processed: Path, policy) -> dict[str, int]:
    """benchmarks/reference_measures_risk.sql over the warehouse's canonical Parquet of the quarter;
    the previous quarter is bound empty (the pipeline runs this quarter without one). Output rows."""
    from benchmarks import reference
    from pipelines import warehouse

    with warehouse.connect(policy) as con:
        reference.bind(con, processed, PERIOD, PERIOD, policy)
        for name in ("households", "persons"):
            con.execute(f"create or replace temp view {name}_prev as select * from {name} where false")
        return reference.run_reference(con)


# ---------------------------------------------------------------- the run


def warehouse_rows(processed: Path) -> dict[str, int]:
    """Rows the stages see, read back from the warehouse: the quarter's persons, and its registry
    rows read by ingest (loaded + quarantined, from ingest_manifest)."""
    from pipelines import warehouse

    with warehouse.connect() as con:
        persons = con.execute(f"select count(*) from {warehouse.scan(processed, 'persons', PERIOD)}").fetchone()[0]
        read = con.execute(f"select coalesce(sum(rows_read), 0) from {warehouse.scan(processed, 'ingest_manifest')} "
                           "where source_kind = 'registry' and period = ?", [PERIOD]).fetchone()[0]
    return {"persons": int(persons), "registry_rows_read": int(read)}


def run_stages(raw: Path, processed: Path, reports: Path, policy) -> dict[str, dict]:
    """Ingest, then the quarter's stages as `povmon quarters` runs them; per stage its timing."""
    from pipelines.ingest.pipeline import run as ingest
    from pipelines.quarters import STAGES as QUARTER_STAGES
    from pipelines.quarters import stage_runner
    from pipelines.report.pipeline import browser_session

    out = {}
    _, out["ingest"] = measure(lambda: ingest(raw, processed, policy=policy))
    with browser_session(policy):
        for stage in QUARTER_STAGES:
            runner = stage_runner(stage, raw, processed, reports, policy, allow_failed_gate=True)
            _, out[stage] = measure(lambda runner=runner: runner(PERIOD))
    return out


def bench_one(root: Path, n_persons: int, fmt: str, seed: int = 20201231, keep: bool = True,
              keep_run: bool = False) -> dict:
    """One size and format: generate (or reuse), run every stage and both references; the entry.
    keep: keep the raw data for the next run; keep_run: keep the run's warehouse (root/run)."""
    from pipelines.policy import load_policy

    policy = load_policy()
    load_before = os.getloadavg()
    data = generate(root, n_persons, fmt, seed)
    raw, work = root / "raw", root / "run"
    shutil.rmtree(work, ignore_errors=True)
    stages = run_stages(raw, work / "processed", work / "reports", policy)
    rows = warehouse_rows(work / "processed")
    copied, copy_timing = measure(lambda: duckdb_copy(raw, work / "copy"))
    copied_all, copy_all_timing = measure(lambda: duckdb_copy_all(raw, work / "copy"))
    ref_rows, ref_timing = measure(lambda: reference_sql(work / "processed", policy))
    for stage, t in stages.items():
        t["rows"] = rows["registry_rows_read"] if stage == "ingest" else rows["persons"]
        t["rows_per_second"] = round(t["rows"] / t["seconds"]) if t["seconds"] else None
    copy_timing.update(rows=copied, rows_per_second=round(copied / copy_timing["seconds"]) if copy_timing["seconds"] else None)
    copy_all_timing.update(rows=copied_all,
                           rows_per_second=round(copied_all / copy_all_timing["seconds"]) if copy_all_timing["seconds"] else None)
    ref_timing.update(rows=rows["persons"], outputs=ref_rows,
                      rows_per_second=round(rows["persons"] / ref_timing["seconds"]) if ref_timing["seconds"] else None)
    pair = stages["measures"]["seconds"] + stages["risk"]["seconds"]
    entry = {
        "persons": rows["persons"], "persons_asked": n_persons, "households": data["households"], "format": fmt,
        "raw_bytes": data["raw_bytes"], "synth": data["synth"], "synth_reused": data["reused"],
        "stages": stages, "references": {"duckdb_copy": copy_timing, "duckdb_copy_all": copy_all_timing,
                                                    "reference_sql": ref_timing},
        "ratios": {"ingest": round(stages["ingest"]["seconds"] / copy_timing["seconds"], 2),
                   "ingest_all_files": round(stages["ingest"]["seconds"] / copy_all_timing["seconds"], 2),
                   "measures+risk": round(pair / ref_timing["seconds"], 2)},
        "total_seconds": round(sum(t["seconds"] for t in stages.values()), 1),
        "peak_rss_mb": max(t["peak_rss_mb"] for t in stages.values()),
        "load_average": {"before": [round(x, 2) for x in load_before], "after": [round(x, 2) for x in os.getloadavg()]},
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    if not keep:
        shutil.rmtree(root, ignore_errors=True)
    elif not keep_run:
        shutil.rmtree(work, ignore_errors=True)
    return entry


# ---------------------------------------------------------------- projections: sizes not run


def projection(entries: list[dict], n_persons: int, fmt: str, free_bytes: int) -> dict | None:
    """Time, rows/s and raw bytes of a size not run, linear in persons from the largest measured
    run of the format (per-row costs as measured; None without one)."""
    done = [e for e in entries if e["format"] == fmt and "stages" in e]
    if not done:
        return None
    base = max(done, key=lambda e: e["persons"])
    scale = n_persons / base["persons"]
    synth_seconds = base["synth"]["seconds"] * scale if base.get("synth") else None
    return {"persons_asked": n_persons, "format": fmt, "from_persons": base["persons"],
            "projected_seconds": round(base["total_seconds"] * scale),
            "projected_cpu_seconds": round(sum(t.get("cpu_seconds", 0) for t in base["stages"].values()) * scale),
            "projected_synth_seconds": round(synth_seconds) if synth_seconds else None,
            "projected_raw_bytes": round(base["raw_bytes"] * scale),
            "projected_stage_seconds": {s: round(t["seconds"] * scale) for s, t in base["stages"].items()},
            "free_disk_bytes": free_bytes}


def should_skip(proj: dict | None, budget: float | None) -> str | None:
    """Why a size is not started (projected time over the budget, or raw data over the free disk)."""
    if proj is None:
        return None
    total = proj["projected_seconds"] + (proj["projected_synth_seconds"] or 0)
    if budget is not None and total > budget:
        cpu = proj.get("projected_cpu_seconds")
        return (f"projected {total / 60:.0f} min (synth + stages, linear from {proj['from_persons']:,} persons"
                + (f"; stages {cpu / 60:.0f} CPU min" if cpu else "") + f") > budget {budget / 60:.0f} min")
    if proj["projected_raw_bytes"] > proj["free_disk_bytes"]:
        return f"projected raw data {proj['projected_raw_bytes'] / 2**30:.1f} GiB > free disk {proj['free_disk_bytes'] / 2**30:.1f} GiB"
    return None


# ---------------------------------------------------------------- outputs


def machine() -> dict:
    import duckdb

    mem = None
    try:
        mem = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError):
        pass
    return {"cores": os.cpu_count(), "memory_gib": mem, "python": platform.python_version(),
            "duckdb": duckdb.__version__, "system": platform.platform()}


def _num(x, digits=1) -> str:
    if x is None:
        return "—"
    return f"{x:,.{digits}f}" if isinstance(x, float) and digits else f"{round(x):,}"


def _ref_cells(ref: dict, seconds: float, cpu: float) -> tuple[str, str]:
    """'wall / CPU' seconds of a reference, and the ratio cells 'wall× (CPU×)'."""
    cells = f"{_num(ref['seconds'], 2)} / {_num(ref['cpu_seconds'], 2)}"
    ratio = f"{seconds / ref['seconds']:.2f}" if ref["seconds"] else "—"
    if ref.get("cpu_seconds"):
        ratio += f" ({cpu / ref['cpu_seconds']:.2f})"
    return cells, ratio


def table(results: dict) -> str:
    """The Markdown table: one row per stage and reference per size and format; skipped sizes
    with their projection."""
    m = results.get("machine", {})
    lines = [f"Machine: {m.get('cores')} cores, {m.get('memory_gib')} GiB, DuckDB {m.get('duckdb')}, Python "
             f"{m.get('python')}; one quarter ({PERIOD}); load average (1/5/15 min) before → after each run in its "
             "row's *load* column. Reference: wall / CPU seconds. Ratio: the stage's wall seconds over its "
             "hand-written reference's, same process, and in brackets the same for CPU seconds "
             "(ingest: a plain DuckDB read + write of the quarter's raw registry files, and on the next row "
             "of every file ingest reads — registry, pairing, survey, department lists —, its like-for-like "
             "yardstick; measures + risk together: benchmarks/reference_measures_risk.sql). Peak RSS: "
             "process + children, MB.",
             "",
             "| persons | format | stage | rows | wall s | CPU s | peak RSS MB | rows/s | reference s | ratio | load |",
             "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for e in sorted(results.get("entries", []), key=lambda e: (e.get("persons_asked", 0), e["format"])):
        size = f"{e.get('persons', e['persons_asked']):,}"
        if "stages" not in e:
            lines.append(f"| {e['persons_asked']:,} | {e['format']} | not run | | | | | | | | {e['skipped']} |")
            continue
        load = f"{e['load_average']['before'][0]} → {e['load_average']['after'][0]}"
        refs = e["references"]
        synth = e["synth"]
        lines.append(f"| {size} | {e['format']} | synth (generator) | {e['persons']:,} | {_num(synth['seconds'])} | "
                     f"{_num(synth['cpu_seconds'])} | {_num(synth['peak_rss_mb'], 0)} | "
                     f"{_num(e['persons'] / synth['seconds'] if synth['seconds'] else None, 0)} | | | "
                     f"{'reused' if e['synth_reused'] else ''} |")
        for stage in STAGES:
            t = e["stages"][stage]
            ref, ratio = ("", "")
            if stage == "ingest":
                ref, ratio = _ref_cells(refs["duckdb_copy"], t["seconds"], t["cpu_seconds"])
            lines.append(f"| {size} | {e['format']} | {stage} | {t['rows']:,} | {_num(t['seconds'])} | {_num(t['cpu_seconds'])} | "
                         f"{_num(t['peak_rss_mb'], 0)} | {_num(t['rows_per_second'], 0)} | {ref} | {ratio} | "
                         f"{load if stage == 'ingest' else ''} |")
            if stage == "ingest" and "duckdb_copy_all" in refs:  # entries recorded before it have none
                all_files = refs["duckdb_copy_all"]
                ref, ratio = _ref_cells(all_files, t["seconds"], t["cpu_seconds"])
                lines.append(f"| {size} | {e['format']} | ingest vs every file it reads | {all_files['rows']:,} | | | | | "
                             f"{ref} | {ratio} | |")
        pair = e["stages"]["measures"]["seconds"] + e["stages"]["risk"]["seconds"]
        pair_cpu = e["stages"]["measures"]["cpu_seconds"] + e["stages"]["risk"]["cpu_seconds"]
        ref, ratio = _ref_cells(refs["reference_sql"], pair, pair_cpu)
        lines.append(f"| {size} | {e['format']} | measures + risk | {e['persons']:,} | {_num(pair)} | {_num(pair_cpu)} | | "
                     f"{_num(e['persons'] / pair if pair else None, 0)} | {ref} | {ratio} | |")
        lines.append(f"| {size} | {e['format']} | **raw → report** | {e['persons']:,} | **{_num(e['total_seconds'])}** | | "
                     f"{_num(e['peak_rss_mb'], 0)} | {_num(e['persons'] / e['total_seconds'] if e['total_seconds'] else None, 0)} | | | |")
    return "\n".join(lines)


def write_readme(readme: Path, text: str) -> None:
    """Replace what stands between the markers (both must be there: never append blindly)."""
    body = readme.read_text(encoding="utf-8")
    if BEGIN not in body or END not in body:
        raise ValueError(f"{readme}: markers {BEGIN} / {END} not found")
    head, rest = body.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    tmp = readme.with_name(f".{readme.name}.tmp")
    tmp.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}", encoding="utf-8")
    os.replace(tmp, readme)


def load_results(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"entries": []}


def save_results(path: Path, results: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def merge(results: dict, entry: dict) -> dict:
    """A rerun of a size and format replaces its entry."""
    keep = [e for e in results.get("entries", [])
            if (e["persons_asked"], e["format"]) != (entry["persons_asked"], entry["format"])]
    return {**results, "entries": keep + [entry]}


def main(argv: list[str] | None = None) -> int:
    env = os.environ
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default=env.get("NATIONAL_SIZES", "1000000,10000000,100000000"))
    ap.add_argument("--formats", default=env.get("NATIONAL_FORMATS", "parquet,csv"))
    ap.add_argument("--data", default=env.get("NATIONAL_DIR", str(DEFAULT_DATA)),
                    help="where raw exports are generated (and reused); outside the repo by default")
    ap.add_argument("--json", default=str(DEFAULT_JSON))
    ap.add_argument("--readme", default=str(REPO / "README.md"))
    ap.add_argument("--budget-seconds", type=float, default=float(env["NATIONAL_BUDGET"]) if env.get("NATIONAL_BUDGET") else None,
                    help="do not start a size projected (from a measured smaller run) to take longer")
    ap.add_argument("--drop-data", action="store_true", help="delete each size's raw data after its run")
    ap.add_argument("--keep-run", action="store_true", help="keep each run's warehouse and reports (<data>/<format>-<n>/run)")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    json_path, readme = Path(args.json), Path(args.readme)
    results = {**load_results(json_path), "machine": machine()}
    for n in sizes:
        for fmt in formats:
            root = Path(args.data) / f"{fmt}-{n}"
            root.parent.mkdir(parents=True, exist_ok=True)
            proj = projection(results["entries"], n, fmt, shutil.disk_usage(root.parent).free)
            why = should_skip(proj, args.budget_seconds) if n > max((e["persons_asked"] for e in results["entries"]
                                                                      if e["format"] == fmt and "stages" in e), default=0) else None
            if why:
                entry = {"persons_asked": n, "format": fmt, "skipped": why, "projection": proj}
            else:
                print(f"bench-national: {n:,} persons, {fmt} ...", file=sys.stderr, flush=True)
                entry = bench_one(root, n, fmt, keep=not args.drop_data, keep_run=args.keep_run)
            results = merge(results, entry)
            save_results(json_path, results)
            write_readme(readme, table(results))
            print(json.dumps({k: entry.get(k) for k in ("persons_asked", "format", "total_seconds", "ratios", "skipped")}),
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
