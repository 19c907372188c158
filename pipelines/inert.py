"""Text that spreadsheets must not execute (formula / CSV injection, OWASP "CSV Injection").

Village and township names, cadre units, reasons… come from county exports and reach workbooks
and CSV files. A cell starting with = + - @ (or a tab / carriage return before one) is a formula
to Excel and LibreOffice when it is typed in, saved as a formula, or read from a CSV file.

- xlsx (xlsxwriter): WORKBOOK_OPTIONS make `write()` store every string as a string (never a
  formula, URL or number); text that looks like a formula is also written with the cell format's
  quote prefix (Excel's leading apostrophe), so editing the cell keeps it text.
- CSV: such text gets a leading apostrophe (OWASP), which spreadsheets show and never evaluate.
"""

from __future__ import annotations

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


def looks_like_formula(text: object) -> bool:
    """Would a spreadsheet read this text as a formula?"""
    return isinstance(text, str) and text.startswith(FORMULA_START)


def csv_text(text: object) -> object:
    """Text as written to a CSV cell: a leading apostrophe when it looks like a formula."""
    return "'" + text if looks_like_formula(text) else text


def csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text cell made inert for CSV (numbers are left as numbers)."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(csv_text)
    return out


def write_text(ws, row: int, col: int, text: str, fmt=None, quoted=None) -> None:
    """A string cell (xlsxwriter); `quoted` is `fmt` with quote_prefix, used for formula-like text."""
    if looks_like_formula(text):
        ws.write_string(row, col, text, quoted)
    elif fmt is None:
        ws.write_string(row, col, text)
    else:
        ws.write_string(row, col, text, fmt)
