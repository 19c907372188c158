"""Helpers for the synth tests: read a raw registry file back, whatever its format, as text."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from pipelines.policy import load_policy


def read_raw(path: Path, title: bool = False) -> pd.DataFrame:
    """All cells as str ('' for blank); dta/sav columns renamed to their variable labels."""
    suffix = path.suffix
    if suffix == ".csv":
        for enc in ("utf-8-sig", "gb18030"):
            try:
                return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=enc, skiprows=1 if title else 0)
            except UnicodeDecodeError:
                continue
    if suffix == ".xlsx":
        return _read_xlsx(path, title)
    if suffix == ".dta":
        with pd.io.stata.StataReader(path) as reader:
            frame = reader.read(convert_categoricals=False)
            labels = reader.variable_labels()
        return frame.rename(columns={k: v for k, v in labels.items() if v}).astype(str)
    if suffix == ".sav":
        import pyreadstat

        frame, meta = pyreadstat.read_sav(str(path))
        return frame.rename(columns={k: v for k, v in meta.column_names_to_labels.items() if v}).astype(str)
    if suffix == ".parquet":
        return pd.read_parquet(path).astype(str)
    raise ValueError(path)


def _read_xlsx(path: Path, title: bool) -> pd.DataFrame:
    """Values via fastexcel (calamine); merged ranges read from the sheet XML and filled down."""
    import re
    import zipfile

    import fastexcel

    sheet = fastexcel.read_excel(str(path)).load_sheet(0, header_row=None, dtypes="string").to_pandas()
    grid = sheet.fillna("").astype(str).to_numpy(dtype=object)
    with zipfile.ZipFile(path) as zf:
        name = next(n for n in zf.namelist() if n.startswith("xl/worksheets/"))
        xml = zf.read(name).decode("utf-8")
    for a_col, a_row, b_col, b_row in re.findall(r'<mergeCell ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"', xml):
        c0, c1 = _col_index(a_col), _col_index(b_col)
        r0, r1 = int(a_row) - 1, int(b_row) - 1
        grid[r0:r1 + 1, c0:c1 + 1] = grid[r0, c0]
    start = 1 if title else 0
    return pd.DataFrame(grid[start + 1:], columns=list(grid[start]))


def read_names_only(path: Path) -> pd.DataFrame:
    """A names-only county export (domain.md §1) read independently of ingest: the data sheet (not
    the instructions or the hidden code list), the two header rows as one (a header merged over
    two rows, or a group label over the lower row's headers), merged cells filled, full-width
    digits half-width, number cells as the digits a spreadsheet shows. Rows from the first data
    row (5), the 合计 row included (it is a planted case: total_row)."""
    import unicodedata

    import openpyxl

    wb = openpyxl.load_workbook(path)
    ws = wb[load_policy().raw("synth")["names_only"]["sheet"]]
    for rng in list(ws.merged_cells.ranges):
        value = ws.cell(rng.min_row, rng.min_col).value
        ws.unmerge_cells(str(rng))
        for row in ws.iter_rows(min_row=rng.min_row, max_row=rng.max_row, min_col=rng.min_col, max_col=rng.max_col):
            for cell in row:
                cell.value = value

    def text(v) -> str:
        if v is None:
            return ""
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return unicodedata.normalize("NFKC", str(v)) if isinstance(v, str) else str(v)

    rows = [[text(v) for v in r] for r in ws.iter_rows(values_only=True)]
    upper, lower = rows[2], rows[3]
    header = [lo or up for up, lo in zip(upper, lower)]
    return pd.DataFrame(rows[4:], columns=header)


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def registry_frames(data_dir: Path, period: str) -> dict[str, pd.DataFrame]:
    """county code -> its registry file read back (headers as written)."""
    params = json.loads((data_dir / "truth" / "params.json").read_text(encoding="utf-8"))
    out = {}
    for path in sorted((data_dir / "raw" / "registry" / period).iterdir()):
        code = path.name[:6]
        spec = params["formats"][code]
        out[code] = read_names_only(path) if spec.get("names_only") else read_raw(path, title=bool(spec["title"]))
    return out


@pytest.fixture(scope="session")
def city_params(small_city) -> dict:
    return json.loads((small_city / "truth" / "params.json").read_text(encoding="utf-8"))


def _norm(header: str) -> str:
    import unicodedata

    return "".join(unicodedata.normalize("NFKC", header).split())


def canonical(frame: pd.DataFrame, section: str = "registry", blank_is_no: bool = False) -> pd.DataFrame:
    """Rename raw headers to canonical names via config/header_aliases.toml; yes/no cells -> 是/否
    (blank -> 否 for a tick-box county)."""
    from pipelines.config import load_toml

    aliases = load_toml("header_aliases")[section]
    lookup = {_norm(a): c for c, spec in aliases.items() for a in spec["aliases"]}
    out = frame.rename(columns=lambda h: lookup.get(_norm(h), h))
    yes, no = {"是", "√", "1", "有"}, {"否", "0", "无"}
    mapping = {**{v: "是" for v in yes}, **{v: "否" for v in no}, **({"": "否"} if blank_is_no else {})}
    for c, spec in aliases.items():
        if spec.get("kind") == "yes_no" and c in out:
            col = out[c].astype(object)
            out[c] = col.map(mapping).where(col.isin(list(mapping)), col)
    return out


def city_registry(data_dir: Path, period: str) -> pd.DataFrame:
    """All counties of a period, canonical names, with file (relative to raw) and source_row."""
    params = json.loads((data_dir / "truth" / "params.json").read_text(encoding="utf-8"))
    parts = []
    for path in sorted((data_dir / "raw" / "registry" / period).iterdir()):
        spec = params["formats"][path.name[:6]]
        raw = read_names_only(path) if spec.get("names_only") else read_raw(path, title=bool(spec["title"]))
        frame = canonical(raw, blank_is_no=spec["yes_no"] == "tick")
        first = 5 if spec.get("names_only") else 3 if spec["title"] else 2
        frame["file"] = path.relative_to(data_dir / "raw").as_posix()
        frame["source_row"] = range(first, first + len(frame))
        frame["county_code"] = path.name[:6]
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def truth(data_dir: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(data_dir / "truth" / f"{name}.csv", dtype=str, keep_default_na=False)
