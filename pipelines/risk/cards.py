"""明白卡: one printable HTML card per watched household of one village, written to
cards/<village_code>/ (git-ignored), never under data/processed.

The household head's name is personal data: it is not in any processed table. It is looked up at
print time from the raw registry export (data/raw/registry/<period>/), finding the 户主 row whose
户编号 hashes (pipelines.keys.household_key) to the household_key. The lookup is injectable:
`write_village_cards(..., head_names=callable)` takes any `(household_keys) -> {key: name}`,
so tests and other deployments can supply their own; the default is `raw_head_names`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import duckdb
import jinja2
import pandas as pd

from pipelines import keys, warehouse
from pipelines.config import CONFIG_DIR, PROJECT_ROOT, RAW_DIR, hash_key
from pipelines.keys import household_key
from pipelines.periods import Period
from pipelines.policy import Policy, load_policy
from pipelines.risk.pipeline import card_households

CARDS_DIR = PROJECT_ROOT / "cards"
HeadNames = Callable[[Iterable[str]], dict[str, str]]


# ---- the head's name, from data/raw ------------------------------------------------------------------

def _registry_rows(path: Path, policy: Policy) -> Iterable[pd.DataFrame]:
    """Raw registry cells of one file as frames with canonical column names (ingest's one reader,
    read_sheets); a file of no export format is skipped."""
    from pipelines.ingest import readers
    from pipelines.ingest.headers import alias_lookup, columns_of, normalise, policy_header_finder

    if path.suffix.lower() not in readers.FORMATS:
        return
    columns = columns_of(policy.aliases["registry"])
    lookup = alias_lookup(columns)
    find_header = policy_header_finder(policy, columns)
    for sheet in readers.read_sheets(path, find_header, limits=readers.Limits.from_policy(policy)):
        frame = sheet.data
        renamed = {}
        for col in frame.columns:  # first header of a canonical column wins, as in ingest
            name = lookup.get(normalise(col))
            if name in ("household_id", "name", "relation") and name not in renamed.values():
                renamed[col] = name
        if len(renamed) == 3:
            yield frame[list(renamed)].rename(columns=renamed)


def raw_head_names(period: str, raw_dir: Path = RAW_DIR, policy: Policy | None = None) -> HeadNames:
    """A lookup reading data/raw/registry/<period>/ for the 户主 rows of the requested households."""
    policy = policy or load_policy()

    def lookup(keys: Iterable[str]) -> dict[str, str]:
        from pipelines.ingest.headers import normalise

        wanted, found = set(keys), {}
        head_labels = {normalise(v) for v in policy.code_labels["relation"]["head"]}
        for path in sorted((Path(raw_dir) / "registry" / period).glob("*")):
            for frame in _registry_rows(path, policy):
                for hid, name, relation in frame.itertuples(index=False, name=None):
                    if hid is None or name is None or relation is None or normalise(relation) not in head_labels:
                        continue
                    key = household_key(str(hid))
                    if key in wanted and key not in found:
                        found[key] = str(name).strip()
            if len(found) == len(wanted):
                break
        return found

    return lookup


# ---- cards ----------------------------------------------------------------------------------------

def _measures(row: dict, risk_cfg: dict) -> list[str]:
    """Suggested measures of the household's signals, in signal order, unique, at most max_measures."""
    out: list[str] = []
    for s in risk_cfg["signal"]:
        text = risk_cfg["measures"].get(s["code"])
        if row.get(f"sig_{s['code']}") and text and text not in out:
            out.append(text)
    return out[: risk_cfg["cards"]["max_measures"]]


def card_rows(processed_dir: Path, period: str, village_code: str, policy: Policy | None = None) -> list[dict]:
    """One dict per household to print (watched / flagged / monitored), cadres gathered in a list."""
    per = Period.parse(period)
    policy = policy or load_policy()
    snap = warehouse.snapshot(processed_dir)  # one snapshot for every table read here
    con = duckdb.connect()
    try:
        risk = warehouse.scan(snap, "risk", period)
        if risk is None:
            raise FileNotFoundError(f"cards {period}: {warehouse.stable_path(processed_dir, 'risk', period)} "
                                    "not found (run the risk stage first)")
        con.execute(f"create view risk as select * from {risk}")
        pairings = warehouse.scan(snap, "pairings", period)
        if pairings is not None:
            con.execute(f"create view pairings as select * from {pairings}")
        else:
            con.execute("create table pairings (household_key varchar, cadre_id varchar, cadre_name varchar, "
                        "cadre_phone varchar, cadre_unit varchar, cadre_rank varchar, start_date date, end_date date)")
        cards = card_households(con, policy, str(per), village_code)
        records = cards.order("household_key, cadre_rank, cadre_id").to_arrow_table()
    finally:
        con.close()
    households: dict[str, dict] = {}
    for row in records.to_pylist():
        h = households.setdefault(row["household_key"], row | {"cadres": []})
        if isinstance(row.get("cadre_id"), str):
            h["cadres"].append({"name": row["cadre_name"], "phone": row["cadre_phone"], "unit": row["cadre_unit"]})
    return list(households.values())


def write_village_cards(processed_dir: Path, period: str, village_code: str, *,
                        head_names: HeadNames | None = None, raw_dir: Path = RAW_DIR,
                        out_dir: Path = CARDS_DIR, config_dir: Path = CONFIG_DIR) -> list[Path]:
    """Write <out_dir>/<village_code>/<household_key>.html for one village; returns the paths."""
    if not village_code.isdigit():
        raise ValueError(f"village_code {village_code!r}: expected the 12-digit code")
    if head_names is None:  # the raw lookup keys 户编号 with our key: it must be the warehouse's
        keys.check_warehouse_key(keys.recorded_fingerprints(Path(processed_dir)), hash_key())
    policy = load_policy(config_dir)
    rows = card_rows(Path(processed_dir), period, village_code, policy)
    lookup = head_names or raw_head_names(period, raw_dir, policy)
    names = lookup([r["household_key"] for r in rows]) if rows else {}
    risk_cfg = policy.raw("risk")
    labels = {**policy.labels.of("poverty_status"), "not_registered": policy.risk.transitions.not_registered_label}
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    template = env.get_template("card.html.j2")
    target = Path(out_dir) / village_code
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for row in rows:
        income = row["income_per_capita"]
        html = template.render(
            row | {"head_name": names.get(row["household_key"]), "reasons": list(row["reasons"]),
                   "measures": _measures(row, risk_cfg), "policies": risk_cfg["cards"]["policies"],
                   "status_label": labels.get(row["poverty_status"] or "not_registered", ""),
                   "income": "—" if income is None else f"{income:,.0f}",
                   "income_band_label": row["income_band_label"] or "收入未记录",
                   "watch_groups_text": row["watch_groups_text"],
                   "proposed_category_label": row["proposed_category_label"],
                   "persons": row["persons"], "village_code": village_code})
        path = target / f"{row['household_key']}.html"
        with warehouse.atomic_path(path) as tmp:
            tmp.write_text(html, encoding="utf-8")
        written.append(path)
    return written
