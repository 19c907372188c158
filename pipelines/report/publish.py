"""Published tables: small-cell suppression and Chinese headers (config/report.toml [tables.*])."""

from __future__ import annotations

import math

import pandas as pd


def _is_small(value, threshold: int) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value)) and 0 < value < threshold


def suppression_mask(df: pd.DataFrame, counts: list[str], threshold: int, group: list[str] | None = None,
                     secondary: bool = True) -> pd.DataFrame:
    """Boolean frame (same index, the count columns): True = suppress. Primary: 0 < value <
    threshold. Secondary (tables with an is_total row): within each group, a column with exactly
    one suppressed non-total cell also loses its next-smallest non-zero cell."""
    mask = pd.DataFrame(False, index=df.index, columns=[c for c in counts if c in df.columns])
    for col in mask.columns:
        mask[col] = df[col].map(lambda v: _is_small(v, threshold)).astype(bool)
    if not secondary or "is_total" not in df.columns:
        return mask
    keys = [g for g in (group or []) if g in df.columns]
    body = df[df["is_total"] == 0]
    groups = [g.index for _, g in body.groupby(keys, dropna=False)] if keys else [body.index]
    for col in mask.columns:
        for idx in groups:
            idx = list(idx)
            if int(mask.loc[idx, col].sum()) != 1:
                continue
            rest = df.loc[idx, col][~mask.loc[idx, col] & (df.loc[idx, col].fillna(0) > 0)]
            if len(rest):
                mask.loc[rest.astype(float).idxmin(), col] = True
    return mask


def publish(df: pd.DataFrame, spec: dict, threshold: int, label: str, secondary: bool = True) -> pd.DataFrame:
    """The table as published: suppressed cells replaced by `label` (e.g. "<5"), rates linked to a
    suppressed count blanked the same way, only the configured columns, Chinese headers."""
    df = df.reset_index(drop=True)
    mask = suppression_mask(df, spec.get("counts", []), threshold, spec.get("group"), secondary)
    out = df.astype(object).where(df.notna(), None)
    for col in mask.columns:
        out.loc[mask[col], col] = label
    for rate, count in spec.get("linked", {}).items():
        if rate in out.columns and count in mask.columns:
            out.loc[mask[count], rate] = label
    cols = [c for c in spec["columns"] if c in out.columns]
    return out[cols].rename(columns=spec["columns"])


def suppressed_cells(df: pd.DataFrame, label: str) -> int:
    return int((df.astype(str) == label).sum().sum())
