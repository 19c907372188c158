"""The text `povmon risk --period` prints, read back from the written Parquet (no rules here)."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb

from pipelines import warehouse
from pipelines.config import CONFIG_DIR, load_toml
from pipelines.periods import Period
from pipelines.risk.rules import line_labels, line_table


def _county_names(config_dir: Path) -> dict[str, str]:
    with open(config_dir / "regions" / "counties.csv", encoding="utf-8") as fh:
        return {row["code"]: row["name"] for row in csv.DictReader(fh)}


def summary_text(processed_dir: Path, period: str, config_dir: Path = CONFIG_DIR) -> str:
    """Below-guideline 户/人, households by risk level and proposed category, by county."""
    per = Period.parse(period)
    risk = warehouse.scan(processed_dir, "risk", period)
    if risk is None:
        return (f"risk {period}: no output yet ({warehouse.partition_path(processed_dir, 'risk', period)}); "
                "run the risk stage first")
    con = duckdb.connect()
    con.execute(f"create view risk as select * from {risk}")
    labels = line_labels(config_dir)
    values = {role: v for y, role, v in line_table(config_dir) if y == per.year}
    out = [f"povmon risk {period}"]
    out.append("  lines " + str(per.year) + ": " + "; ".join(
        f"{labels[r]} {values[r]:,.0f}" if r in values else f"{labels[r]} (no value for {per.year})"
        for r in ("national", "guideline", "monitoring")))
    hh, persons = con.execute(
        "select count(*), coalesce(sum(persons), 0) from risk where below_guideline").fetchone()
    out.append(f"  低于{labels['guideline']}: {hh}户、{persons}人")
    out.append("  风险等级:")
    for label, n, p in con.execute(
            "select risk_level_label, count(*), coalesce(sum(persons), 0) from risk "
            "group by risk_level, risk_level_label order by case risk_level when 'high' then 1 "
            "when 'medium' then 2 when 'low' then 3 else 4 end").fetchall():
        out.append(f"    {label}: {n}户、{p}人")
    out.append("  监测对象类别建议:")
    for label, n, p in con.execute(
            "select coalesce(proposed_category_label, '(不建议纳入监测)'), count(*), coalesce(sum(persons), 0) "
            "from risk group by 1 order by 1").fetchall():
        out.append(f"    {label}: {n}户、{p}人")
    elim = con.execute("select elimination_status, count(*) from risk where elimination_status is not null "
                       "group by 1 order by 1").fetchall()
    if elim:
        labels = load_toml("risk", config_dir)["elimination_labels"]
        out.append("  风险消除: " + "；".join(f"{labels.get(s, s)} {n}户" for s, n in elim))
    out.append("  按县 (低于指导线户/人; 高/中/低风险户):")
    names = _county_names(config_dir)
    for county, b_h, b_p, hi, me, lo in con.execute(
            "select county_code, sum(case when below_guideline then 1 else 0 end), "
            "sum(case when below_guideline then persons else 0 end), "
            "sum(case when risk_level = 'high' then 1 else 0 end), "
            "sum(case when risk_level = 'medium' then 1 else 0 end), "
            "sum(case when risk_level = 'low' then 1 else 0 end) "
            "from risk group by county_code order by county_code").fetchall():
        out.append(f"    {county} {names.get(county or '', '')}: {b_h}户/{b_p or 0}人; {hi}/{me}/{lo}")
    gaps = warehouse.scan(processed_dir, "assistance_gaps", period)
    if gaps is not None:
        rows = con.execute(f"select gap_label, count(*) from {gaps} group by 1 order by 1").fetchall()
        out.append("  帮扶缺口: " + (", ".join(f"{g} {n}" for g, n in rows) or "无"))
    trans = warehouse.scan(processed_dir, "transitions", period)
    if trans is not None:
        rows = con.execute(f"select any_value(previous_period), status_flow, count(*) from {trans} "
                           "group by status_flow order by status_flow").fetchall()
        if rows:
            out.append(f"  变动 {rows[0][0]} -> {period}: " + ", ".join(f"{f} {n}户" for _, f, n in rows))
    con.close()
    return "\n".join(out)


