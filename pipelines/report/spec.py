"""The quarterly summary as a spec (config/report.toml [[sections]]) and the loop that renders it.

    sections = render_sections(Report(wh, "2020Q2", policy))

A section lists headline cards, definitions, figures and tables; each card reads rows of a
report table and fills text templates ({column:kind}); each figure is one chart function of
charts.py on the table's published frame; each definition is prose from [definitions] whose
rule is filled in from the policy objects (`facts`), so no rule is retyped in the config.
"""

from __future__ import annotations

import html
import math
import string
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from pipelines.measures.nodes import format_incidence
from pipelines.periods import Period
from pipelines.policy import Policy, PolicyError, load_policy
from pipelines.policy.schema import CardSpec, FigureSpec, SectionSpec
from pipelines.report import charts, queries
from pipelines.report.publish import publish, suppression_mask


# ---- the rules, as the policy states them --------------------------------------------------------

def _labels(policy: Policy, domain: str, codes) -> list[str]:
    return [policy.labels.label(domain, c) for c in codes]


def _column(policy: Policy, column: str) -> str:
    """A registry column as the exports head it (its first alias); a derived per-capita income as
    its formula (纯收入 ÷ the configured denominator)."""
    aliases = policy.aliases.get("registry", {})
    if column in aliases:
        return aliases[column].aliases[0]
    if column == "per_capita_net_income_derived":
        return f"{_column(policy, 'net_income')}÷{_column(policy, policy.thresholds.ingest.income_denominator)}"
    return column


def facts(policy: Policy) -> dict[str, str]:
    """Named texts of the rules the definitions cite, generated from the policy objects."""
    t, risk = policy.thresholds, policy.risk
    poor_group = policy.measures.incidence.poor_group
    secured = policy.code_labels.get("housing_secured_by", {})
    return {
        "poor_statuses": "或".join(_labels(policy, "poverty_status", policy.groups[poor_group])),
        "exited_statuses": "或".join(_labels(policy, "poverty_status", policy.groups["exited"])),
        "below_threshold": f"{policy.measures.incidence.below_one_in_ten_thousand * 100:g}%",
        "confidence": f"{policy.measures.survey.confidence_level * 100:g}%",
        "income_columns": "、".join(_column(policy, c) for c in risk.income.columns),
        "compulsory_ages": f"{t.education.compulsory_age_min}–{t.education.compulsory_age_max}周岁",
        "newborn_exempt": f"不满{t.medical.newborn_exempt_below_age}周岁的新生儿除外",
        "unsafe_grades": "/".join(t.housing.unsafe_grades),
        "housing_secured": "、".join(labels[0] for labels in secured.values()),
        "deadlines": "每年" + "、".join(f"{m}月{d}日" for m, d in policy.calendar.month_days),
        "assistance_requirements": "；".join(_labels(policy, "requirement",
                                                    [r.code for r in risk.assistance.requirements])),
        "source_status_groups": "config/policy.toml [status_groups]",
        "source_survey": "config/measures.toml [survey]",
        "source_income": "config/risk.toml [income]、config/thresholds.toml [ingest].income_denominator",
        "source_criteria": "config/thresholds.toml [education] [medical] [housing] [water]",
        "source_calendar": "config/policy.toml [calendar]",
        "source_risk": "config/risk.toml",
        "source_assistance": "config/risk.toml [[assistance.requirements]]",
    }


def base_context(policy: Policy, period: str) -> dict[str, object]:
    """Every name a template may use besides a row's columns: the period, sources, line labels by
    role, labels by domain and code, and the facts."""
    ctx: dict[str, object] = {"period": period, "previous_period": str(Period.parse(period).previous)}
    ctx.update({f"source.{k}": v for k, v in policy.report.sources.items()})
    ctx.update({f"line.{role}": policy.lines.label(name) for role, name in policy.lines.roles.items()})
    for domain, codes in policy.labels.domains.items():
        ctx.update({f"labels.{domain}.{code}": label for code, label in codes.items()})
    ctx.update(facts(policy))
    return ctx


def render_definitions(policy: Policy) -> dict[str, str]:
    """[definitions] with their rules filled in; a name no fact provides is refused (PolicyError)."""
    ctx = base_context(policy, "2020Q1")
    out = {}
    for key, text in policy.report.definitions.items():
        try:
            out[key] = Template().format(text, **ctx)
        except KeyError as exc:
            raise PolicyError(f"config/report.toml [definitions].{key}: unknown name {exc}; expected one of "
                              f"{', '.join(sorted(facts(policy)))}") from None
    return out


# ---- templates ------------------------------------------------------------------------------------

class Template(string.Formatter):
    """str.format over a flat namespace ("source.registry" is one name) with the report's kinds:
    {x:count} a published count (small ones suppressed), {x:int}, {x:pct1}, {x:incidence},
    {x:date}; {sum.x:kind} the sum of column x over the card's rows."""

    def __init__(self, count=None, incidence_threshold: float = 0.0001, rows: pd.DataFrame | None = None):
        self.count, self.threshold, self.rows = count, incidence_threshold, rows

    def get_field(self, field_name, args, kwargs):
        if field_name.startswith("sum.") and self.rows is not None:
            return self.rows[field_name[4:]].sum(min_count=1), field_name
        if field_name not in kwargs:
            raise KeyError(field_name)
        return kwargs[field_name], field_name

    def format_field(self, value, spec: str) -> str:
        missing = value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT
        if spec == "count":
            return self.count(value) if self.count else _int(value)
        if spec in ("int", "pct1", "incidence", "date") and missing:
            return "—"
        if spec == "int":
            return _int(value)
        if spec == "pct1":
            return f"{value * 100:.1f}%"
        if spec == "incidence":
            return format_incidence(value, self.threshold)
        if spec == "date":
            return str(pd.Timestamp(value).date())
        return super().format_field(value, spec)


def _int(v) -> str:
    return "—" if v is None or v != v else f"{int(round(v)):,}"


# ---- one period's report --------------------------------------------------------------------------

class Report:
    """Collects the published tables, figures and cards of one period."""

    def __init__(self, wh, period: str, config_dir: Path | None = None, policy: Policy | None = None):
        self.wh, self.period = wh, period
        self.policy = policy or load_policy(config_dir)
        self.cfg = self.policy.raw("report")
        sc = self.policy.report.small_cells
        self.threshold, self.small = int(sc.threshold), sc.label.format(threshold=sc.threshold)
        self.secondary = bool(sc.secondary)
        self.sheets: list[dict] = []
        self.figures: dict[str, object] = {}
        self.missing: dict[str, str] = {}
        self.frames: dict[str, pd.DataFrame] = {}
        self.context = base_context(self.policy, period)
        self.definitions = render_definitions(self.policy)

    def data(self, name: str) -> pd.DataFrame | None:
        """Raw query result (for cards and charts), None when its stage has not run."""
        if name in self.frames:
            return self.frames[name]
        try:
            df = queries.query(self.wh, name)
        except queries.Missing as exc:
            self.missing[name] = str(exc)
            return None
        self.frames[name] = df
        return df

    def masked(self, name: str) -> pd.DataFrame | None:
        """Query result with the counts its published table suppresses set to NaN (the same mask:
        every chart takes its values from here, so no chart shows what its table hides)."""
        df = self.data(name)
        if df is None:
            return None
        spec = self.cfg["tables"][name]
        mask = suppression_mask(df, spec.get("counts", []), self.threshold, spec.get("group"), self.secondary)
        out = df.copy()
        for col in mask.columns:
            out[col] = out[col].astype(float).where(~mask[col])
        return out

    def count_text(self, v) -> str:
        """A published count: suppressed when small."""
        if v is None or v != v:
            return "—"
        return self.small if 0 < v < self.threshold else f"{int(round(v)):,}"

    def text(self, template: str, row: Mapping | None = None, rows: pd.DataFrame | None = None) -> str:
        fmt = Template(self.count_text, self.policy.measures.incidence.below_one_in_ten_thousand, rows)
        return fmt.format(template, **{**self.context, **dict(row or {})})

    def table(self, name: str) -> dict:
        spec = self.cfg["tables"][name]
        source = spec.get("source", "").format(**self.cfg["sources"])
        df = self.data(name)
        if df is None:
            self.sheets.append({"spec": spec, "frame": pd.DataFrame(columns=list(spec["columns"].values())),
                                "source": source, "empty_note": "未运行：" + self.missing[name]})
            return {"sheet": spec["sheet"], "title": spec["title"], "missing": self.missing[name]}
        frame = publish(df, spec, self.threshold, self.small, self.secondary)
        self.sheets.append({"spec": spec, "frame": frame, "source": source, "totals": "is_total" in df.columns})
        return {"title": spec["title"], "source": source, "html": html_table(frame, spec, df)}

    def figure(self, key: str, fig) -> str:
        self.figures[key] = fig
        return fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"fig-{key}",
                           config={"displaylogo": False, "responsive": True})


def html_table(frame: pd.DataFrame, spec: dict, raw: pd.DataFrame) -> str:
    shares, money, months = set(spec.get("shares", [])), set(spec.get("money", [])), set(spec.get("months", []))
    keys = [k for k in spec["columns"] if spec["columns"][k] in frame.columns]
    rows = ["<table><thead><tr>" + "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns) + "</tr></thead><tbody>"]
    totals = raw["is_total"].tolist() if "is_total" in raw.columns else [0] * len(frame)
    for total, row in zip(totals, frame.itertuples(index=False)):
        cells = []
        for key, v in zip(keys, row):
            if v is None or (isinstance(v, float) and v != v):
                text, num = "—", True
            elif isinstance(v, str):
                text, num = v, v.startswith("<")
            elif key in shares:
                text, num = (format_incidence(v) if key == "incidence" else f"{v * 100:.2f}%"), True
            elif key in money:
                text, num = f"{v:,.0f}", True
            elif key in months:
                text, num = f"{v:.1f}", True
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                text, num = f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}", True
            else:
                text, num = str(v), False
            cells.append(f'<td class="n">{html.escape(text)}</td>' if num else f"<td>{html.escape(text)}</td>")
        rows.append(('<tr class="total">' if total == 1 else "<tr>") + "".join(cells) + "</tr>")
    return "\n".join(rows) + "</tbody></table>"


# ---- the loop -------------------------------------------------------------------------------------

def _selected(r: Report, df: pd.DataFrame, where: Mapping[str, object]) -> pd.DataFrame:
    keep = pd.Series(True, index=df.index)
    for col, value in where.items():
        value = r.text(value) if isinstance(value, str) else value
        keep &= df[col] == value
    return df[keep]


def render_cards(r: Report, card: CardSpec) -> list[dict]:
    """The card(s) of one spec: none when its table is missing or empty, or no row matches (and
    no default is given), or a required column is null."""
    df = r.data(card.table)
    if df is None or not len(df):
        return []
    rows = _selected(r, df, card.where)
    if not len(rows) and card.default is not None:
        rows = pd.DataFrame([card.default])
    extra = {}
    if "previous_period" in df.columns and df["previous_period"].notna().any():
        extra["previous_period"] = df["previous_period"].dropna().iloc[0]
    out = []
    for _, row in (rows.iterrows() if card.each else list(rows.iterrows())[:1]):
        if any(pd.isna(row.get(c)) for c in card.requires):
            continue
        values = {**extra, **row.to_dict()}
        out.append({"value": r.text(card.value, values, rows), "label": r.text(card.label, values, rows),
                    "definition": r.text(card.note, values, rows)})
    return out


def render_figure(r: Report, fig: FigureSpec) -> list[str]:
    """The figure of one spec, drawn from its table's published frame; none when the table is
    missing or empty."""
    df = r.data(fig.table)
    if df is None or not len(df):
        return []
    frame = r.masked(fig.table)
    drawn = charts.from_spec(fig.chart, frame, title=r.text(fig.title), y_title=fig.y_title,
                             series={c: r.text(s) for c, s in fig.series.items()},
                             category=fig.category, value=fig.value)
    return [r.figure(fig.key, drawn)]


def render_section(r: Report, spec: SectionSpec) -> dict:
    section = {
        "key": spec.key,
        "title": r.text(spec.title),
        "kpis": [c for card in spec.cards for c in render_cards(r, card)],
        "definitions": [r.definitions[d] for d in spec.definitions],
        "figures": [f for fig in spec.figures for f in render_figure(r, fig)],
        "tables": [r.table(t) for t in spec.tables],
        "links": [link.model_dump() for link in spec.links],
    }
    missing = [t["missing"] for t in section["tables"] if t.get("missing")]
    if missing and len(missing) == len(section["tables"]):
        section["missing"] = "；".join(missing)
    return section


def render_sections(r: Report) -> list[dict]:
    return [render_section(r, spec) for spec in r.policy.report.sections]
