"""The quarterly summary as a spec (config/report.toml [[sections]]) and the loop that renders it.

    sections = render_sections(Report(wh, "2020Q2", policy=policy, audience="public"))

A section lists headline cards, definitions, figures and tables; each card reads rows of a
report table and fills text templates ({column:kind}); each figure is one chart function of
charts.py on the table's published frame; each definition is prose from [definitions] whose
rule is filled in from the policy objects (`facts`), so no rule is retyped in the config.
"""

from __future__ import annotations

import html
import string
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from pipelines.measures.nodes import format_incidence
from pipelines.periods import Period
from pipelines.policy import LineValue, Policy, PolicyError, load_policy
from pipelines.policy.schema import CardSpec, FigureSpec, SectionSpec
from pipelines.report import charts, formats, queries
from pipelines.report.publish import HIDDEN, SHOWN, SMALL, adopt, bounds, protect


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

class Withheld:
    """A count (or a value computed from one) not published to this audience."""

    def __init__(self, label: str):
        self.label = label

    def __repr__(self) -> str:
        return f"Withheld({self.label!r})"


class Template(string.Formatter):
    """str.format over a flat namespace ("source.registry" is one name) with the report's kinds:
    {x:count} / {x:int} a whole number, {x:signed} a change (+3, −2), {x:pct1} / {x:pct2} a
    share, {x:pp} a change of a share in percentage points, {x:incidence}, {x:date},
    {x:choice:yes|no}; {sum.x:kind} the sum of column x over the card's rows. A withheld value
    reads as its label ("<5", "x") whatever the kind."""

    def __init__(self, incidence_threshold: float = 0.0001, rows: pd.DataFrame | None = None, hidden: str = "x"):
        self.threshold, self.rows, self.hidden = incidence_threshold, rows, hidden

    def get_field(self, field_name, args, kwargs):
        if field_name.startswith("sum.") and self.rows is not None:
            values = self.rows[field_name[4:]]
            if any(isinstance(v, Withheld) for v in values):
                return Withheld(self.hidden), field_name
            return pd.to_numeric(values).sum(min_count=1), field_name
        if field_name not in kwargs:
            raise KeyError(field_name)
        return kwargs[field_name], field_name

    def format_field(self, value, spec: str) -> str:
        if isinstance(value, Withheld):
            return value.label
        if spec.startswith("choice:"):
            yes, _, no = spec[7:].partition("|")
            return yes if value else no
        kinds = {"count": formats.whole, "int": formats.whole, "signed": formats.signed, "pp": formats.points,
                 "pct1": lambda v: formats.share(v, 1), "pct2": formats.share, "date": formats.a_date,
                 "incidence": lambda v: "—" if formats.missing(v) else format_incidence(v, self.threshold)}
        if spec in kinds:
            return kinds[spec](value)
        return super().format_field(value, spec)


# ---- one period's report --------------------------------------------------------------------------

class Report:
    """Collects the published tables, figures and cards of one period for one audience."""

    def __init__(self, wh, period: str, config_dir: Path | None = None, policy: Policy | None = None,
                 audience: str = "internal"):
        self.wh, self.period = wh, period
        self.policy = policy or load_policy(config_dir)
        if audience not in self.policy.report.audiences:
            raise ValueError(f"audience {audience!r}: expected one of {', '.join(self.policy.report.audiences)}")
        self.audience_name, self.audience = audience, self.policy.report.audiences[audience]
        self.cfg = self.policy.raw("report")
        sc = self.policy.report.small_cells
        self.threshold = int(sc.threshold)
        self.small, self.hidden = sc.label.format(threshold=sc.threshold), sc.hidden_label
        self.complementary = bool(sc.complementary)
        self.sheets: list[dict] = []
        self.figures: dict[str, object] = {}
        self.missing: dict[str, str] = {}
        self.frames: dict[str, pd.DataFrame] = {}
        self._codes: dict[str, pd.DataFrame] = {}
        self.context = base_context(self.policy, period)
        self.definitions = render_definitions(self.policy)
        year = Period.parse(period).year
        self.lines = {role: v for role, name in self.policy.lines.roles.items()
                      if (v := self.policy.lines.value(name, year)) is not None}

    # ---- data -------------------------------------------------------------------------------
    def data(self, name: str) -> pd.DataFrame | None:
        """Query result (row index 0..n-1), None when its stage has not run."""
        if name in self.frames:
            return self.frames[name]
        try:
            df = queries.query(self.wh, name).reset_index(drop=True)
        except queries.Missing as exc:
            self.missing[name] = str(exc)
            return None
        self.frames[name] = df
        return df

    def codes(self, name: str) -> pd.DataFrame:
        """Per cell SHOWN / SMALL / HIDDEN (publish.protect) — all SHOWN for an audience that sees
        exact counts."""
        if name not in self._codes:
            df = self.data(name)
            spec = self.cfg["tables"][name]
            if df is None or not self.audience.suppress:
                self._codes[name] = pd.DataFrame(index=(df.index if df is not None else []), dtype="int64")
            else:
                codes = protect(df, spec, self.threshold, complementary=self.complementary)
                for column, source in spec.get("same_as", {}).items():
                    table, source_column = source.split(".")
                    if self.data(table) is not None:
                        adopt(codes, df, column, self.data(table), self.codes(table), source_column, spec["same_key"])
                for rate, sources in spec.get("linked", {}).items():  # again: an adopted count may withhold more
                    sources = [sources] if isinstance(sources, str) else sources
                    if rate in codes.columns and all(s in codes.columns for s in sources):
                        codes[rate] = (codes[sources] != SHOWN).any(axis=1).map({True: HIDDEN, False: SHOWN})
                self._codes[name] = codes
        return self._codes[name]

    def label_of(self, code: int) -> str:
        return self.small if code == SMALL else self.hidden

    def published(self, name: str, i: int, column: str):
        """One cell as this audience sees it: the value, or Withheld."""
        df, codes = self.data(name), self.codes(name)
        if column in codes.columns and codes.at[i, column] != SHOWN:
            return Withheld(self.label_of(int(codes.at[i, column])))
        return df.at[i, column]

    def chart_frame(self, name: str) -> pd.DataFrame | None:
        """The table for its chart: withheld counts NaN, with `<col>__lo`, `<col>__hi` (the
        interval a reader can work out anyway; hi NaN = open) and `<col>__mark` ("<5", "x") so the
        chart draws a marked band there instead of a gap."""
        df = self.data(name)
        if df is None:
            return None
        codes, spec = self.codes(name), self.cfg["tables"][name]
        out = df.copy()
        if codes.columns.empty:
            return out
        lower, upper = bounds(df, codes, spec, self.threshold)
        for col in lower.columns:
            hidden = codes[col] != SHOWN
            out[col] = out[col].astype(float).where(~hidden)
            out[f"{col}__lo"], out[f"{col}__hi"] = lower[col], upper[col]
            out[f"{col}__mark"] = codes[col].map({SMALL: self.small, HIDDEN: self.hidden, SHOWN: None})
        return out

    # ---- warnings ---------------------------------------------------------------------------
    def unconfirmed(self, roles) -> list[LineValue]:
        """The lines among `roles` whose value this year is a placeholder or unverified."""
        seen, out = set(), []
        for role in roles:
            v = self.lines.get(role)
            if v is not None and not v.confirmed and v.name not in seen:
                seen.add(v.name)
                out.append(v)
        return out

    def line_warnings(self, roles=None) -> list[str]:
        template = self.policy.report.page_one.line_warning
        return [template.format(label=v.label, year=v.year, value=f"{v.value:,.0f}",
                                status=self.policy.labels.label("line_status", v.status))
                for v in self.unconfirmed(roles if roles is not None else self.lines)]

    def validation_banner(self) -> tuple[str, str]:
        """(status, text) of the quarter's data-quality gate: passed | overridden | failed | not_run."""
        p1 = self.policy.report.page_one
        df = self.data("validation")
        if df is None or not len(df):
            return "not_run", p1.validation_not_run
        row = df.iloc[0]
        titles = str(row["failed_titles"] or "—")
        if bool(row["gate_passed"]):
            return "passed", p1.validation_passed
        template = p1.validation_overridden if bool(row["overridden"]) else p1.validation_failed
        status = "overridden" if bool(row["overridden"]) else "failed"
        return status, template.format(failed=formats.whole(row["failed_expectations"]), titles=titles)

    def banners(self) -> list[dict]:
        """Page one's first lines: the audience, the data-quality gate, placeholder lines."""
        small = self.threshold - 1
        out = [{"kind": "audience", "text": self.audience.note.format(small=small, label=self.small,
                                                                     hidden=self.hidden)}]
        status, text = self.validation_banner()
        out.append({"kind": f"validation {status}", "text": text})
        out += [{"kind": "warning", "text": w} for w in self.line_warnings()]
        return out

    # ---- text and tables -----------------------------------------------------------------------
    def text(self, template: str, row: Mapping | None = None, rows: pd.DataFrame | None = None) -> str:
        fmt = Template(self.policy.measures.incidence.below_one_in_ten_thousand, rows, self.hidden)
        return fmt.format(template, **{**self.context, **dict(row or {})})

    def table(self, name: str) -> dict:
        spec = self.cfg["tables"][name]
        source = spec.get("source", "").format(**self.cfg["sources"])
        warnings = self.line_warnings(spec.get("lines", []))
        if spec.get("audiences") and self.audience_name not in spec["audiences"]:  # e.g. internal only
            return {"key": name, "absent": True}
        df = self.data(name)
        if df is None:
            self.sheets.append({"name": name, "spec": spec, "frame": None, "codes": None, "source": source,
                                "warnings": warnings, "empty_note": "未运行：" + self.missing[name]})
            return {"sheet": spec["sheet"], "title": spec["title"], "missing": self.missing[name]}
        if df.empty and spec.get("only_with_rows"):  # optional data the quarter does not have
            return {"key": name, "absent": True}
        codes = self.codes(name)
        self.sheets.append({"name": name, "spec": spec, "frame": df, "codes": codes, "source": source,
                            "warnings": warnings})
        return {"key": name, "title": spec["title"], "source": source, "warnings": warnings,
                "hidden": not spec.get("on_page", True), "html": html_table(df, codes, spec, self)}

    def workbook_sheets(self, tables: list[str]) -> list[dict]:
        """The sheets of a one-workbook output ([workbooks.*]: 交总账), in its order: each table's
        published sheet, or an empty one saying why there is none (not run, or no rows this quarter)."""
        made = {s["name"]: s for s in self.sheets}
        out = []
        for name in tables:
            if name not in made:
                self.table(name)
                made = {s["name"]: s for s in self.sheets}
            if name in made:
                out.append(made[name])
                continue
            spec = self.cfg["tables"][name]
            out.append({"name": name, "spec": spec, "frame": None, "codes": None,
                        "source": spec.get("source", "").format(**self.cfg["sources"]), "warnings": [],
                        "empty_note": self.cfg["labels"]["report_text"]["no_rows"]})
        return out

    def figure(self, key: str, fig) -> str:
        self.figures[key] = fig
        return fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"fig-{key}",
                           config={"displaylogo": False, "responsive": True})


def html_table(df: pd.DataFrame, codes: pd.DataFrame, spec: dict, r: Report) -> str:
    """The table as published: Chinese headers, one text per kind, withheld cells as their label
    (class "sup"), totals rows bold, rows coloured by their status column, at most page_rows rows
    besides the totals (the workbook has them all)."""
    kinds = formats.column_kinds(spec)
    columns = [c for c in spec["columns"] if c in df.columns]
    head = "".join(f"<th>{html.escape(spec['columns'][c])}</th>" for c in columns)
    rows = [f'<table class="t-{html.escape(spec.get("sheet", ""))}"><thead><tr>{head}</tr></thead><tbody>']
    limit = spec.get("page_rows")
    shown = 0
    for i in df.index:
        total = "is_total" in df.columns and df.at[i, "is_total"] == 1
        if limit is not None and not total:
            if shown >= limit:
                continue
            shown += 1
        cells = []
        for c in columns:
            kind = kinds.get(c, "text")
            numeric = kind != "text" or isinstance(df.at[i, c], (int, float)) and not isinstance(df.at[i, c], bool)
            if c in codes.columns and codes.at[i, c] != SHOWN:
                label = r.label_of(int(codes.at[i, c]))
                cells.append(f'<td class="n sup" title="不公开">{html.escape(label)}</td>')
                continue
            text = formats.cell_text(df.at[i, c], kind, c)
            cells.append(f'<td class="n">{html.escape(text)}</td>' if numeric else f"<td>{html.escape(text)}</td>")
        classes = (["total"] if total else []) + ([f"st-{df.at[i, spec['status']]}"] if spec.get("status") else [])
        attr = f' class="{" ".join(classes)}"' if classes else ""
        rows.append(f"<tr{attr}>" + "".join(cells) + "</tr>")
    body = "\n".join(rows) + "</tbody></table>"
    body_rows = int((df["is_total"] == 0).sum()) if "is_total" in df.columns else len(df)
    if limit is not None and body_rows > limit:
        body += f'<p class="def">页面列出前{limit}行(共{body_rows}行)，全部见 summary.xlsx。</p>'
    return body


# ---- the loop -------------------------------------------------------------------------------------

def _selected(r: Report, df: pd.DataFrame, where: Mapping[str, object]) -> pd.DataFrame:
    keep = pd.Series(True, index=df.index)
    for col, value in where.items():
        values = value if isinstance(value, list) else [value]
        values = [r.text(v) if isinstance(v, str) else v for v in values]
        keep &= df[col].isin(values)
    rows = df[keep]
    if any(isinstance(v, list) for v in where.values()):  # keep the order the spec lists
        col = next(c for c, v in where.items() if isinstance(v, list))
        order = {v: k for k, v in enumerate(where[col])}
        rows = rows.iloc[sorted(range(len(rows)), key=lambda k: order.get(rows[col].iloc[k], len(order)))]
    return rows


def render_cards(r: Report, card: CardSpec) -> list[dict]:
    """The card(s) of one spec: none when its table is missing or empty, or no row matches (and
    no default is given), or a required column is null. Values are read as the audience sees
    them (a withheld count reads "<5" or "x")."""
    df = r.data(card.table)
    if df is None or not len(df):
        return []
    rows = _selected(r, df, card.where)
    extra = {}
    if "previous_period" in df.columns and df["previous_period"].notna().any():
        extra["previous_period"] = df["previous_period"].dropna().iloc[0]
    if len(rows):
        published = pd.DataFrame({c: [r.published(card.table, i, c) for i in rows.index] for c in df.columns},
                                 index=rows.index)
    elif card.default is not None:
        published = pd.DataFrame([card.default])
    else:
        return []
    warn = "⚠ " if r.unconfirmed(card.lines) else ""
    out = []
    for _, row in (published.iterrows() if card.each else list(published.iterrows())[:1]):
        if any(formats.missing(row.get(c)) for c in card.requires):
            continue
        values = {**extra, **row.to_dict()}

        def fill(template: str) -> str:
            return r.text(template, values, published)

        out.append({"style": card.style, "value": warn + fill(card.value), "label": fill(card.label),
                    "answer": fill(card.answer), "status": fill(card.status), "definition": fill(card.note),
                    "warning": bool(warn)})
    return out


def render_figure(r: Report, fig: FigureSpec) -> list[dict]:
    """The figure of one spec, drawn from its table's published frame (withheld counts as marked
    bands); none when the table is missing or empty."""
    df = r.data(fig.table)
    if df is None or not len(df):
        return []
    frame = r.chart_frame(fig.table)
    drawn = charts.from_spec(fig.chart, frame, title=r.text(fig.title), y_title=fig.y_title,
                             series={c: r.text(s) for c, s in fig.series.items()},
                             category=fig.category, value=fig.value, fold=fig.fold,
                             config=r.cfg["figures"])
    return [{"html": r.figure(fig.key, drawn), "warnings": r.line_warnings(fig.lines)}]


def render_section(r: Report, spec: SectionSpec) -> dict:
    cards = [c for card in spec.cards for c in render_cards(r, card)]
    section = {
        "key": spec.key,
        "title": r.text(spec.title),
        "kpis": [c for c in cards if c["style"] == "card"],
        "answers": [c for c in cards if c["style"] == "answer"],
        "notes": [c for c in cards if c["style"] == "note"],
        "definitions": [r.definitions[d] for d in spec.definitions],
        "figures": [f for fig in spec.figures for f in render_figure(r, fig)],
        "tables": [t for t in (r.table(name) for name in spec.tables) if not t.get("absent")],
        "links": [link.model_dump() for link in spec.links],
    }
    missing = [t["missing"] for t in section["tables"] if t.get("missing")]
    if missing and len(missing) == len(section["tables"]):
        section["missing"] = "；".join(missing)
    return section


def render_sections(r: Report) -> list[dict]:
    return [render_section(r, spec) for spec in r.policy.report.sections]
