"""The text `povmon risk --period` prints, read back from the written Parquet (no rules here)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines import warehouse
from pipelines.periods import Period
from pipelines.policy import Policy


def _line_text(policy: Policy, year: int) -> tuple[str, str]:
    """('lines 2020: 国家扶贫标准 4,000; …', label of the guideline line)."""
    lines = policy.lines
    parts = []
    for role in ("national", "guideline", "monitoring"):
        name = lines.name_of(role)
        value = lines.value(name, year)
        parts.append(f"{lines.label(name)} {value.value:,.0f}" if value else f"{lines.label(name)} (no value for {year})")
    return f"  lines {year}: " + "; ".join(parts), lines.label(lines.name_of("guideline"))


def summary_text(processed_dir: Path, period: str, policy: Policy) -> str:
    """Below-guideline 户/人, households by risk level and proposed category, by county."""
    per = Period.parse(period)
    snap = warehouse.snapshot(processed_dir)  # one snapshot for every table read here
    risk = warehouse.scan(snap, "risk", period)
    if risk is None:
        return (f"risk {period}: no output yet ({warehouse.stable_path(processed_dir, 'risk', period)}); "
                "run the risk stage first")
    con = warehouse.connect()
    con.execute(f"create view risk as select * from {risk}")
    lines_text, guideline = _line_text(policy, per.year)
    out = [f"povmon risk {period}", lines_text]
    hh, persons = con.execute(
        "select count(*), coalesce(sum(persons), 0) from risk where below_guideline").fetchone()
    out.append(f"  低于{guideline}: {hh}户、{persons}人")
    out.append("  风险等级:")
    order = [lv.code for lv in policy.risk.levels] + ["none"]
    by_level = con.execute("select risk_level, risk_level_label, count(*), coalesce(sum(persons), 0) from risk "
                           "group by risk_level, risk_level_label").fetchall()
    for _, label, n, p in sorted(by_level, key=lambda r: order.index(r[0]) if r[0] in order else len(order)):
        out.append(f"    {label}: {n}户、{p}人")
    out.append("  监测对象类别建议:")
    for label, n, p in con.execute(
            "select coalesce(proposed_category_label, '(不建议纳入监测)'), count(*), coalesce(sum(persons), 0) "
            "from risk group by 1 order by 1").fetchall():
        out.append(f"    {label}: {n}户、{p}人")
    elim = con.execute("select elimination_status, count(*) from risk where elimination_status is not null "
                       "group by 1 order by 1").fetchall()
    if elim:
        out.append("  风险消除: " + "；".join(f"{policy.labels.label('elimination_status', s)} {n}户" for s, n in elim))
    out += _by_county(con, policy)
    gaps = warehouse.scan(snap, "assistance_gaps", period)
    if gaps is not None:
        rows = con.execute(f"select gap_label, count(*) from {gaps} group by 1 order by 1").fetchall()
        out.append("  帮扶缺口: " + (", ".join(f"{g} {n}" for g, n in rows) or "无"))
    trans = warehouse.scan(snap, "transitions", period)
    if trans is not None:
        rows = con.execute(f"select any_value(previous_period), status_flow, count(*) from {trans} "
                           "group by status_flow order by status_flow").fetchall()
        if rows:
            out.append(f"  变动 {rows[0][0]} -> {period}: "
                       + ", ".join(f"{policy.labels.label('status_flow', f)} {n}户" for _, f, n in rows))
    con.close()
    return "\n".join(out)


def _by_county(con: duckdb.DuckDBPyConnection, policy: Policy) -> list[str]:
    """Per county: households / persons below the guideline; households at each risk level."""
    levels = policy.risk.levels
    names = {r.code: r.name for r in policy.regions if r.level == "county"}
    out = [f"  按县 (低于指导线户/人; {'/'.join(lv.label for lv in levels)}风险户):"]
    below = con.execute("select county_code, sum(case when below_guideline then 1 else 0 end), "
                        "sum(case when below_guideline then persons else 0 end) "
                        "from risk group by county_code order by county_code").fetchall()
    at_level = {(c, lv): n for c, lv, n in con.execute(
        "select county_code, risk_level, count(*) from risk group by county_code, risk_level").fetchall()}
    for county, b_h, b_p in below:
        counts = "/".join(str(at_level.get((county, lv.code), 0)) for lv in levels)
        out.append(f"    {county} {names.get(county or '', '')}: {b_h}户/{b_p or 0}人; {counts}")
    return out
