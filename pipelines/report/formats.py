"""How a published value reads: one kind per column (config/report.toml [tables.*]), the same on
the page and in the workbook. Whole numbers never show decimals, dates are dates, a rate short of
100 % never rounds to "100.00%" (nor a rate above 0 to "0.00%")."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd

from pipelines.measures.nodes import format_incidence

KINDS = ("count", "integer", "share", "money", "wan", "month", "date", "text")
MINUS = "−"  # U+2212: a change reads −3, not -3


def column_kinds(spec: dict) -> dict[str, str]:
    """{column: kind} of a table spec (columns not listed: text)."""
    kinds = {}
    for key, kind in (("counts", "count"), ("integers", "integer"), ("shares", "share"), ("money", "money"),
                      ("wan", "wan"), ("months", "month"), ("dates", "date")):
        for col in spec.get(key, []):
            kinds[col] = kind
    return kinds


def missing(v) -> bool:
    """None, NaN, NaT, pd.NA."""
    if v is None or isinstance(v, (str, bytes, list, tuple, dict)):
        return v is None
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def share(v, digits: int = 2) -> str:
    """A percentage that does not round a shortfall away: 0.99997 -> ">99.99%", 0.00002 -> "<0.01%"."""
    if missing(v):
        return "—"
    step = 10 ** -digits
    pct = float(v) * 100
    if 0 < pct < step / 2:
        return f"<{step:.{digits}f}%"
    if pct < 100 and round(pct, digits) >= 100:
        return f">{100 - step:.{digits}f}%"
    return f"{pct:.{digits}f}%"


def whole(v) -> str:
    return "—" if missing(v) else f"{int(round(float(v))):,}"


def signed(v) -> str:
    """A change: +3, −2, 0."""
    if missing(v):
        return "—"
    n = int(round(float(v)))
    return f"+{n:,}" if n > 0 else (f"{MINUS}{-n:,}" if n < 0 else "0")


def points(v) -> str:
    """A change of a rate in percentage points: +0.02个百分点."""
    if missing(v):
        return "—"
    p = float(v) * 100
    text = f"{abs(p):.2f}个百分点"
    return ("+" if p > 0 else MINUS if p < 0 else "") + text if round(abs(p), 2) else "0个百分点"


def a_date(v) -> str:
    if missing(v):
        return "—"
    if isinstance(v, (date, datetime, pd.Timestamp)):
        return str(pd.Timestamp(v).date())
    return str(v)[:10]


def cell_text(v, kind: str, column: str = "") -> str:
    """The page's text of one published value."""
    if missing(v):
        return "—"
    if isinstance(v, bool):
        return "是" if v else "否"
    if kind == "share":
        return format_incidence(v) if column == "incidence" else share(v)
    if kind in ("count", "integer", "money"):
        return whole(v)
    if kind == "month":
        return f"{float(v):.1f}"
    if kind == "wan":
        return f"{float(v):,.2f}"
    if kind == "date":
        return a_date(v)
    if isinstance(v, float) and v.is_integer():
        return f"{int(v)}"
    return str(v)
