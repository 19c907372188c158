"""Small-cell protection of the published tables (public audience), as statistical offices do it.

    codes = protect(df, spec, threshold)        # per cell: SHOWN, SMALL (primary) or HIDDEN
    lower, upper = bounds(df, codes, spec, threshold)

1. Primary: a count 0 < n < threshold is SMALL (shown as "<5"; 0 is shown).
2. Together: counts about the same units (config `together`, e.g. households and their persons)
   are withheld together: when one is withheld, the others of the row are HIDDEN ("x").
3. Complementary: a line of cells that adds up — a column's county rows and its totals row (per
   `group`), a column's rows within each county and that county's all-groups row (`within`, e.g.
   the project types of a county and its 全部类型 row), or a row's `sums` (needing = covered +
   not_covered) — never has exactly one withheld
   cell: the smallest non-zero shown cell of the line is HIDDEN too (the total when no part is
   left), so no withheld value is the total minus the rest. Repeated until nothing changes.
4. Linked values: a rate is withheld with any count it is computed from (`linked`); a change from
   the previous quarter with the value it is the change of, now or in the previous row (`changes`),
   so "this quarter = last quarter + change" recovers nothing.

`bounds` gives, for every withheld cell, the interval a reader can work out from what is published
anyway (SMALL: 1..threshold-1; HIDDEN: threshold..what the line's published total leaves): what a
chart draws as the marked band. Counts in the internal audience are all SHOWN.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd

SHOWN, SMALL, HIDDEN = 0, 1, 2


def _num(v) -> float:
    return 0.0 if v is None or pd.isna(v) else float(v)


def _spec(spec) -> dict:
    return spec if isinstance(spec, dict) else spec.model_dump()


def _linked(spec: dict) -> dict[str, list[str]]:
    return {rate: [src] if isinstance(src, str) else list(src) for rate, src in spec.get("linked", {}).items()}


def _lines(df: pd.DataFrame, counts: list[str], spec: dict) -> list[list[tuple[int, str]]]:
    """Every set of cells that adds up to its last cell: [(row, column), ..., total cell]."""
    lines = []
    if "is_total" in df.columns:
        keys = [g for g in spec.get("group", []) if g in df.columns]
        groups = [g for _, g in df.groupby(keys, dropna=False, sort=False)] if keys else [df]
        for g in groups:
            parts, totals = g.index[g["is_total"] == 0], g.index[g["is_total"] == 1]
            for col in counts:
                lines.append([(i, col) for i in parts] + [(i, col) for i in totals[:1]])
    within = spec.get("within")
    if within:
        (column, total_value), = within["total"].items()
        keys = [k for k in within["by"] if k in df.columns]
        for _, g in df.groupby(keys, dropna=False, sort=False):
            parts, totals = g.index[g[column] != total_value], g.index[g[column] == total_value]
            for col in counts:  # distinct counts add up at most: treating them as a line withholds more, never less
                lines.append([(i, col) for i in parts] + [(i, col) for i in totals[:1]])
    for total, parts in spec.get("sums", {}).items():
        if total in counts and all(p in counts for p in parts):
            for i in df.index:
                lines.append([(i, p) for p in parts] + [(i, total)])
    return lines


def _complete_line(df, codes, line: list[tuple[int, str]]) -> bool:
    """Withhold one more cell when exactly one cell of the line is withheld."""
    withheld = [c for c in line if codes.at[c] != SHOWN]
    if len(withheld) != 1:
        return False
    parts, total = line[:-1], line[-1]
    candidates = [c for c in parts if codes.at[c] == SHOWN and _num(df.at[c]) > 0]
    if not candidates and codes.at[total] == SHOWN and _num(df.at[total]) > 0 and total not in withheld:
        candidates = [total]
    if not candidates:
        return False
    cell = min(candidates, key=lambda c: (_num(df.at[c]), _row_key(df, c[0]), c[1]))
    codes.at[cell] = HIDDEN
    return True


def _row_key(df: pd.DataFrame, i: int) -> tuple:
    """Ties are broken by the row's region (or other) codes, not its position: two tables listing
    the same counties in another order withhold the same cells."""
    return tuple(str(df.at[i, k]) for k in df.columns if k.endswith("_code")) + (i,)


def _together(df, codes, groups: Iterable[list[str]]) -> bool:
    changed = False
    for cols in groups:
        cols = [c for c in cols if c in codes.columns]
        for i in df.index:
            if any(codes.at[i, c] != SHOWN for c in cols):
                for c in cols:
                    if codes.at[i, c] == SHOWN and _num(df.at[i, c]) != 0:
                        codes.at[i, c] = HIDDEN
                        changed = True
    return changed


def protect(df: pd.DataFrame, spec, threshold: int, *, complementary: bool = True) -> pd.DataFrame:
    """Per-cell codes (SHOWN / SMALL / HIDDEN) of the table's count, rate and change columns."""
    spec = _spec(spec)
    df = df.reset_index(drop=True)
    counts = [c for c in spec.get("counts", []) if c in df.columns]
    codes = pd.DataFrame(SHOWN, index=df.index, columns=counts, dtype="int64")
    for c in counts:
        small = df[c].map(lambda v: 0 < _num(v) < threshold)
        codes.loc[small, c] = SMALL
    lines = _lines(df, counts, spec) if complementary else []
    changed = True
    while changed:
        changed = _together(df, codes, spec.get("together", []))
        for line in lines:
            changed = _complete_line(df, codes, line) or changed
    for rate, sources in _linked(spec).items():
        if rate in df.columns:
            src = [s for s in sources if s in codes.columns]
            codes[rate] = (codes[src] != SHOWN).any(axis=1).map({True: HIDDEN, False: SHOWN}) if src else SHOWN
    keys = [g for g in spec.get("group", []) if g in df.columns]
    for change, value in spec.get("changes", {}).items():
        if change in df.columns and value in codes.columns:
            ordered = df.sort_values("period") if "period" in df.columns else df
            prev = codes[value].reindex(ordered.index).groupby(
                [ordered[k] for k in keys] if keys else [0] * len(ordered)).shift(1).fillna(SHOWN)
            hide = (codes[value].reindex(ordered.index) != SHOWN) | (prev != SHOWN)
            codes[change] = hide.reindex(df.index).map({True: HIDDEN, False: SHOWN})
    return codes.astype("int64")


def adopt(codes: pd.DataFrame, df: pd.DataFrame, column: str, source_df: pd.DataFrame, source_codes: pd.DataFrame,
          source_column: str, key: str) -> None:
    """Withhold `column` exactly as another table withholds the same numbers (matched on `key` and
    the totals row): two tables showing one figure never withhold it differently, so neither gives
    away what the other hides."""
    pattern = {}
    for i in source_df.index:
        total = "is_total" in source_df.columns and source_df.at[i, "is_total"] == 1
        pattern[("total",) if total else (str(source_df.at[i, key]),)] = int(source_codes.at[i, source_column])
    mapped = []
    for i in df.index:
        total = "is_total" in df.columns and df.at[i, "is_total"] == 1
        mapped.append(pattern.get(("total",) if total else (str(df.at[i, key]),), SHOWN))
    codes[column] = pd.Series(mapped, index=df.index, dtype="int64")


def nothing_withheld(df: pd.DataFrame) -> pd.DataFrame:
    """The internal audience: every cell shown."""
    return pd.DataFrame(SHOWN, index=df.reset_index(drop=True).index, columns=[], dtype="int64")


def withheld(codes: pd.DataFrame, column: str) -> pd.Series:
    """Boolean: the column's cells not published."""
    if column not in codes.columns:
        return pd.Series(False, index=codes.index)
    return codes[column] != SHOWN


def bounds(df: pd.DataFrame, codes: pd.DataFrame, spec, threshold: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(lower, upper) of every withheld count (NaN elsewhere; upper NaN = no published bound):
    SMALL 1..threshold-1; HIDDEN from threshold up to the least any line's published total leaves."""
    spec = _spec(spec)
    df = df.reset_index(drop=True)
    counts = [c for c in spec.get("counts", []) if c in codes.columns]
    lower = pd.DataFrame(float("nan"), index=df.index, columns=counts)
    upper = lower.copy()
    for c in counts:
        lower.loc[codes[c] == SMALL, c] = 1.0
        upper.loc[codes[c] == SMALL, c] = float(threshold - 1)
        lower.loc[codes[c] == HIDDEN, c] = float(threshold)
    for line in _lines(df, counts, spec):
        total = line[-1]
        if codes.at[total] != SHOWN:
            continue
        withheld_parts = [p for p in line[:-1] if codes.at[p] != SHOWN]
        published = sum(_num(df.at[p]) for p in line[:-1] if codes.at[p] == SHOWN)
        room = _num(df.at[total]) - published
        for p in withheld_parts:
            others = sum(lower.at[q] for q in withheld_parts if q != p)
            cap = room - others
            if codes.at[p] == HIDDEN and (math.isnan(upper.at[p]) or cap < upper.at[p]):
                upper.at[p] = cap
    return lower, upper
