"""Print-time outputs for the household and the township: the 明白卡 (household card) and the
data/raw lookups behind it and behind the 问题清单.

Names, 户编号 and the free text of returned sheets are personal data: no processed table holds
them. They are read from data/raw when a card or ledger is printed, by finding the raw rows whose
户编号 / ID number hash (pipelines.keys, the warehouse's key) to the keys the tables carry:

    raw_roster(period, raw_dir)                 -> Roster: 户编号, 户主, 组 per household_key;
                                                   each member's name per person_key
    raw_rectification_text(raw_dir, refs)       -> 整改措施 / 责任单位 of returned sheet rows

Every raw file goes through `raw_sheets(path, source)`, the one call to the ingest readers.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import jinja2
import pandas as pd

from pipelines import keys, warehouse
from pipelines.config import PROJECT_ROOT, RAW_DIR, hash_key
from pipelines.periods import Period
from pipelines.policy import Policy, load_policy

HeadNames = Callable[[Iterable[str]], dict[str, str]]
ROSTER_COLUMNS = ("household_id", "person_id", "name", "id_number", "relation", "village_group", "natural_village")


# ---- data/raw, read at print time ------------------------------------------------------------------

def raw_sheets(path: Path, source: str, label: str | None = None, policy: Policy | None = None,
               wanted: Iterable[str] | None = None) -> Iterable:
    """Every sheet of one raw export file with a header row of `source` (header_aliases.toml
    section), cells under their headers as written (pipelines.ingest.readers.RawSheet), through
    ingest's one reader `read_sheets`; a file of no export format gives none. `wanted` canonical
    columns: a Parquet file is read in only the columns whose header is one of theirs (what
    canonical_frame picks from is the same)."""
    from pipelines.ingest import readers
    from pipelines.ingest.headers import columns_of, policy_header_finder

    if path.suffix.lower() not in readers.FORMATS:
        return
    policy = policy or load_policy()
    find_header = policy_header_finder(policy, columns_of(policy.aliases[source]))
    picked = None if wanted is None else _header_positions(source, wanted, policy)
    yield from readers.read_sheets(path, find_header, label or str(path), limits=readers.Limits.from_policy(policy),
                                   parquet_columns=picked)


def _header_positions(source: str, wanted: Iterable[str], policy: Policy):
    """parquet_columns for read_sheets: the positions of the headers that name a `wanted` column."""
    from pipelines.ingest.headers import alias_lookup, columns_of, normalise

    lookup = alias_lookup(columns_of(policy.aliases[source]))
    wanted = set(wanted)
    return lambda names: [i for i, name in enumerate(names) if lookup.get(normalise(name)) in wanted]


def canonical_frame(frame: pd.DataFrame, source: str, wanted: Iterable[str], policy: Policy | None = None
                    ) -> pd.DataFrame:
    """The `wanted` canonical columns of a raw frame (first header of a column wins, as in ingest);
    a column the file lacks is all None."""
    from pipelines.ingest.headers import alias_lookup, columns_of, normalise

    policy = policy or load_policy()
    lookup = alias_lookup(columns_of(policy.aliases[source]))
    wanted = list(wanted)
    found: dict[str, int] = {}
    for pos, col in enumerate(frame.columns):
        name = lookup.get(normalise(col))
        if name in wanted and name not in found:
            found[name] = pos
    return pd.DataFrame({name: (frame.iloc[:, found[name]].tolist() if name in found else [None] * len(frame))
                         for name in wanted}, dtype=object)


def _clean(value: object) -> str | None:
    """A cell as ingest cleans it: NFKC (full-width to half-width), white space removed, empty = None."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = "".join(unicodedata.normalize("NFKC", str(value)).split())
    return text or None


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip()
    return text or None


@dataclass
class Roster:
    """Personal data of the households of one quarter, read from data/raw at print time; held in
    memory only (registered on a print connection, never written under data/processed)."""

    households: pd.DataFrame  # household_key, household_id, head_name, village_group
    persons: pd.DataFrame  # person_key, household_key, name

    def register(self, con) -> None:
        """Temp tables roster_households and roster_persons (all text) on a DuckDB connection."""
        import pyarrow as pa

        for name, frame in (("roster_households", self.households), ("roster_persons", self.persons)):
            table = pa.table({c: pa.array(frame[c].tolist(), pa.string()) for c in frame.columns})
            con.register(f"{name}_arrow", table)
            con.execute(f"create or replace temp table {name} as select * from {name}_arrow")
            con.unregister(f"{name}_arrow")

    def head_names(self) -> dict[str, str]:
        hh = self.households.dropna(subset=["head_name"])
        return dict(zip(hh["household_key"], hh["head_name"]))

    def missing(self, household_keys: Iterable[str]) -> list[str]:
        """Households with no row in data/raw (the printed cell says so)."""
        known = set(self.households["household_key"])
        return sorted(set(household_keys) - known)


EMPTY_ROSTER_HOUSEHOLDS = {"household_key": [], "household_id": [], "head_name": [], "village_group": []}
EMPTY_ROSTER_PERSONS = {"person_key": [], "household_key": [], "name": []}


def _registry_files(raw_dir: Path, period: str) -> list[Path]:
    folder = Path(raw_dir) / "registry" / period
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith((".", "~$")))


def raw_roster(period: str, raw_dir: Path = RAW_DIR, key: str | None = None, policy: Policy | None = None) -> Roster:
    """户编号, 户主姓名 and 组 (村民小组, else 自然村) per household_key, and each member's name per
    person_key, from data/raw/registry/<period>/ (files in path order; the first row of a household
    or person wins, as in ingest). Keys are computed with `key` (default: $POVMON_HASH_KEY / demo
    key): the caller checks it is the warehouse's."""
    from pipelines.ingest.headers import normalise

    policy = policy or load_policy()
    heads = {normalise(v) for v in policy.code_labels["relation"]["head"]}
    households: dict[str, dict] = {}
    persons: dict[str, dict] = {}
    pseudonyms = keys.Pseudonyms(key)
    household_keys: dict[str, str] = {}  # 户编号 -> household_key: one HMAC per household, not per row
    raw_dir = Path(raw_dir)
    for path in _registry_files(raw_dir, period):
        for sheet in raw_sheets(path, "registry", path.relative_to(raw_dir).as_posix(), policy, ROSTER_COLUMNS):
            frame = canonical_frame(sheet.data, "registry", ROSTER_COLUMNS, policy)
            for hid, pid, name, id_number, relation, group, natural in frame.itertuples(index=False, name=None):
                hid = _clean(hid)
                if hid is None:
                    continue
                hkey = household_keys.get(hid)
                if hkey is None:
                    hkey = household_keys[hid] = pseudonyms.household_key(hid)
                h = households.get(hkey)
                if h is None:
                    h = households[hkey] = {"household_key": hkey, "household_id": hid, "head_name": None,
                                            "village_group": _text(group) or _text(natural)}
                name = _text(name)
                if h["head_name"] is None and name and relation is not None and normalise(relation) in heads:
                    h["head_name"] = name
                id_norm = _clean(id_number)
                if id_norm:
                    pkey = pseudonyms.person_key(id_norm.upper())
                else:
                    pid = _clean(pid)
                    if not pid:
                        continue
                    pkey = pseudonyms.person_key_without_id(hid, pid)
                if pkey not in persons:
                    persons[pkey] = {"person_key": pkey, "household_key": hkey, "name": name}
    hh = pd.DataFrame(list(households.values()) or EMPTY_ROSTER_HOUSEHOLDS, dtype=object)
    pp = pd.DataFrame(list(persons.values()) or EMPTY_ROSTER_PERSONS, dtype=object)
    return Roster(hh, pp)


def raw_head_names(period: str, raw_dir: Path = RAW_DIR, policy: Policy | None = None) -> HeadNames:
    """A lookup (household_keys) -> {household_key: 户主姓名} over data/raw/registry/<period>/."""

    def lookup(wanted: Iterable[str]) -> dict[str, str]:
        names = raw_roster(period, raw_dir, policy=policy).head_names()
        return {k: names[k] for k in wanted if k in names}

    return lookup


RECTIFICATION_TEXT = ("source_file", "sheet", "source_row", "measure", "responsible_unit")


def raw_rectification_text(raw_dir: Path, refs: Iterable[tuple[str, str | None, int]],
                           policy: Policy | None = None) -> pd.DataFrame:
    """整改措施 and 责任单位 of the returned-sheet rows `refs` ((source_file relative to raw_dir, sheet,
    source_row)), read from data/raw/rectification at print time. A file no longer there gives no
    row (the ledger says the report was not found)."""
    wanted: dict[str, set[tuple[str | None, int]]] = {}
    for source_file, sheet, row in refs:
        wanted.setdefault(source_file, set()).add((sheet, int(row)))
    out = []
    for source_file, rows in sorted(wanted.items()):
        path = Path(raw_dir) / source_file
        if not path.is_file():
            continue
        for sheet in raw_sheets(path, "rectification", source_file, policy):
            frame = canonical_frame(sheet.data, "rectification", ("measure", "responsible_unit"), policy)
            for source_row, measure, unit in zip(sheet.source_row, frame["measure"], frame["responsible_unit"]):
                if (sheet.sheet, source_row) in rows:
                    out.append((source_file, sheet.sheet, source_row, _text(measure), _text(unit)))
    return pd.DataFrame(out, columns=list(RECTIFICATION_TEXT), dtype=object)


# ---- 明白卡 ------------------------------------------------------------------------------------------

CARDS_DIR = PROJECT_ROOT / "cards"
TEMPLATES = Path(__file__).parent / "templates"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
                  "--no-pdf-header-footer")
_UNSAFE = re.compile(r'[\\/:*?"<>|\s]+')


@dataclass
class Region:
    """The village or township cards are printed for."""

    level: str  # village | township
    code: str
    name: str


@dataclass
class VillageCards:
    """What one village's folder holds."""

    folder: Path
    cards: list[Path]
    index: Path
    pdf: Path | None
    not_in_raw: int  # households printed without their raw row (names / 户编号 not found)


def resolve_region(processed_dir: Path, period: str, code: str) -> Region:
    """A 12-digit village or 9-digit township code of the warehouse's regions table or of the
    period's households (a village the population reference lacks: named by its code), else a
    ValueError naming the code and what was expected (one line)."""
    code = str(code).strip()
    levels = {12: "village", 9: "township"}
    if not code.isdigit() or len(code) not in levels:
        raise ValueError(f"cards {period}: region {code!r} is not a 12-digit village or 9-digit township code")
    level = levels[len(code)]
    snap = warehouse.snapshot(processed_dir)
    regions, households = warehouse.scan(snap, "regions"), warehouse.scan(snap, "households", period)
    row = None
    with warehouse.connect() as con:
        if regions is not None:
            row = con.execute(f"select name from {regions} where level = ? and code = ?", [level, code]).fetchone()
        if row is None and households is not None:
            row = con.execute(f"select ? from {households} where {level}_code = ? limit 1", [code, code]).fetchone()
    if row is None:
        label = "村" if level == "village" else "乡镇"
        raise ValueError(f"cards {period}: {level} ({label}) {code} is neither in the regions table of "
                         f"{warehouse.stable_path(processed_dir, 'regions')} nor among the households of {period}; "
                         "expected a code the registry export has")
    return Region(level, code, row[0])


def _bind_tables(con: duckdb.DuckDBPyConnection, snap: Path, period: str) -> None:
    """Views over the period's risk, households, persons, pairings and the regions (pinned snapshot)."""
    for table in ("risk", "households", "persons"):
        source = warehouse.scan(snap, table, period)
        if source is None:
            stage = "the risk stage" if table == "risk" else "ingest"
            raise FileNotFoundError(f"cards {period}: {table} for {period} not found (run {stage} for {period} first)")
        con.execute(f"create view {table} as select * from {source}")
    pairings = warehouse.scan(snap, "pairings", period)
    con.execute(f"create view pairings as select * from {pairings}" if pairings is not None else
                "create table pairings (household_key varchar, cadre_id varchar, cadre_name varchar, cadre_phone varchar,"
                " cadre_unit varchar, start_date date, end_date date, resident_team boolean)")
    con.execute(f"create view regions as select * from {warehouse.scan(snap, 'regions')}")


def card_data(processed_dir: Path, period: str, region: Region, policy: Policy) -> dict[str, list[dict]]:
    """The card models for the region as lists of rows: households, members, policies, cadres."""
    from pipelines.risk.pipeline import card_tables

    snap = warehouse.snapshot(processed_dir)  # one snapshot for every table read here
    with warehouse.connect() as con:
        _bind_tables(con, snap, period)
        card_tables(con, policy, period, region.level, region.code)
        order = {"card_households": "village_code, household_key", "card_members": "household_key, relation_order, "
                 "age desc, person_key", "card_policies": "household_key, sort_order",
                 "card_cadres": "household_key, role, cadre_id"}
        return {name.removeprefix("card_"): con.sql(f"select * from {name} order by {by}").to_arrow_table()
                .to_pylist() for name, by in order.items()}


def _measures(row: dict, policy: Policy) -> list[str]:
    """Suggested measures of the household's signals, in signal order, unique, at most max_measures."""
    out: list[str] = []
    for s in policy.risk.signal:
        text = policy.risk.measures.get(s.code)
        if row.get(f"sig_{s.code}") and text and text not in out:
            out.append(text)
    return out[: policy.risk.cards.max_measures]


def safe_name(text: str) -> str:
    """A file-name part: characters file systems refuse (and white space) become '_'."""
    return _UNSAFE.sub("_", text).strip("_") or "_"


def money(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def _cards_env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["money"] = money
    return env


def _card_context(h: dict, data: dict, roster: Roster, policy: Policy, period: str) -> dict:
    """What card.html.j2 prints for one household (names and 户编号 from the roster)."""
    key = h["household_key"]
    rh = roster.households.set_index("household_key") if len(roster.households) else None
    found = rh is not None and key in rh.index
    names = dict(zip(roster.persons["person_key"], roster.persons["name"]))
    lines = policy.lines
    return {
        **h,
        "head_name": rh.at[key, "head_name"] if found else None,
        "household_id": rh.at[key, "household_id"] if found else None,
        "village_group": rh.at[key, "village_group"] if found else None,
        "members": [m | {"name": names.get(m["person_key"])} for m in data["members"] if m["household_key"] == key],
        "policies": [p for p in data["policies"] if p["household_key"] == key],
        "pair_cadres": [c for c in data["cadres"] if c["household_key"] == key and c["role"] == "pair"],
        "team": [c for c in data["cadres"] if c["household_key"] == key and c["role"] == "team"],
        "measures": _measures(h, policy),
        "line_labels": {role: lines.label(lines.name_of(role)) for role in ("national", "guideline", "monitoring")},
        "footer": policy.risk.cards.policies,
        "not_in_export": policy.risk.cards.not_in_export,
        "period": period,
        "period_end": Period.parse(period).end_date.isoformat(),
        "year": Period.parse(period).year,
    }


def card_file_name(ctx: dict, seq: int) -> str:
    """<户编号>_<户主>.html (户编号 alone without a head; a numbered placeholder without a raw row)."""
    if not ctx["household_id"]:
        return f"未找到户编号_{seq:03d}.html"
    parts = [ctx["household_id"], *([ctx["head_name"]] if ctx["head_name"] else [])]
    return safe_name("_".join(parts)) + ".html"


def print_pdf(html: Path, pdf: Path, chromium: str) -> None:
    """A4 PDF of a page through headless chromium; OSError naming the file when it fails."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="povmon-chromium-") as profile:
        cmd = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={pdf}", html.as_uri()]
        done = subprocess.run(cmd, capture_output=True, timeout=300, check=False)
    if done.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
        tail = " ".join(done.stderr.decode("utf-8", "replace").split())[-200:]
        raise OSError(f"{pdf}: chromium could not print {html.name} (exit {done.returncode}): {tail}")


def find_chromium() -> str | None:
    import shutil

    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _write_village(out: Path, village: dict, households: list[dict], data: dict, roster: Roster, policy: Policy,
                   period: str, chromium: str | None) -> VillageCards:
    """One village folder, built beside and swapped in whole: a card per household, index.html and
    (with chromium) the A4 PDF of every card."""
    env = _cards_env()
    folder = out / safe_name(f"{village['village_code']}_{village['village_name'] or ''}")
    contexts = [_card_context(h, data, roster, policy, period) for h in households]
    contexts.sort(key=lambda c: (c["village_group"] or "", c["household_id"] or "~", c["household_key"]))
    names = [card_file_name(c, i) for i, c in enumerate(contexts, start=1)]
    pdf_name = safe_name(f"明白卡_{village['village_name'] or village['village_code']}_{period}") + ".pdf"
    with warehouse.atomic_folder(folder) as built:
        for ctx, name in zip(contexts, names):
            (built / name).write_text(env.get_template("card.html.j2").render(card=ctx, standalone=True),
                                      encoding="utf-8")
        index = env.get_template("index.html.j2").render(
            village=village, rows=list(zip(contexts, names)), period=period,
            period_end=Period.parse(period).end_date.isoformat(), pdf=pdf_name if chromium else None)
        (built / "index.html").write_text(index, encoding="utf-8")
        if chromium:
            book = built / ".print.html"
            book.write_text(env.get_template("print.html.j2").render(cards=contexts, village=village, period=period),
                            encoding="utf-8")
            print_pdf(book, built / pdf_name, chromium)
            book.unlink()
    return VillageCards(folder, [folder / n for n in names], folder / "index.html",
                        folder / pdf_name if chromium else None, sum(1 for c in contexts if not c["household_id"]))


def write_cards(processed_dir: Path, period: str, region_code: str, *, raw_dir: Path = RAW_DIR,
                out_dir: Path = CARDS_DIR, roster: Roster | None = None, pdf: bool = True,
                chromium: str | None = None, policy: Policy | None = None) -> list[VillageCards]:
    """明白卡 of every registered and monitored household of a village (12 digits) or township
    (9 digits), into out_dir/<period>/<township>/<village>/ — never under processed_dir. Names and
    户编号 come from raw_dir (or an injected `roster`); pdf=True prints each village's cards into one
    A4 PDF with headless chromium (FileNotFoundError when there is none)."""
    period = str(Period.parse(period))
    processed_dir, out_dir = Path(processed_dir).resolve(), Path(out_dir).absolute()
    if out_dir.resolve().is_relative_to(processed_dir):
        raise ValueError(f"cards: {out_dir} is inside {processed_dir}; cards hold names and go elsewhere (cards/)")
    policy = policy or load_policy()
    if roster is None:  # the raw lookup keys 户编号 with our key: it must be the warehouse's
        keys.check_warehouse_key(keys.recorded_fingerprints(processed_dir), hash_key())
    region = resolve_region(processed_dir, period, region_code)
    if pdf:
        chromium = chromium or find_chromium()
        if chromium is None:
            raise FileNotFoundError("cards: chromium not found for the A4 PDF (make system-deps installs it); "
                                    "or pass --no-pdf for the HTML cards only")
    else:
        chromium = None
    if roster is None:
        roster = raw_roster(period, raw_dir, policy=policy)
    data = card_data(processed_dir, period, region, policy)
    villages: dict[str, dict] = {}
    for h in data["households"]:
        villages.setdefault(h["village_code"], h)
    base = out_dir / period
    written = []
    for code in sorted(villages):
        v = villages[code]
        township = base / safe_name(f"{v['township_code']}_{v['township_name'] or ''}")
        households = [h for h in data["households"] if h["village_code"] == code]
        written.append(_write_village(township, v, households, data, roster, policy, period, chromium))
    if region.level == "township" and written:
        _write_township_index(written[0].folder.parent, region, written, period)
    return written


def _write_township_index(folder: Path, region: Region, villages: list[VillageCards], period: str) -> Path:
    env = _cards_env()
    path = folder / "index.html"
    with warehouse.atomic_path(path) as tmp:
        tmp.write_text(env.get_template("township_index.html.j2").render(
            region=region, period=period, villages=[(v.folder.name, len(v.cards)) for v in villages]),
            encoding="utf-8")
    return path
