"""GB 11643 citizen ID numbers: check character, validation and parts (domain.md §8).

18 characters = 6 address + 8 birth date (YYYYMMDD) + 3 sequence (odd = male) + check character.
S = sum(d_i * w_i) over the first 17 digits; check = "10X98765432"[S mod 11]. WEIGHTS and
CHECK_CHARS are the one definition: the warehouse's SQL check (pipelines/ingest/sql/_macros.sql
gb11643_ok) reads them from the param_gb11643 table (pipelines/params.py), and
tests/ingest/test_sql_rules.py keeps SQL and Python in agreement on hand-picked IDs.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
_ID18 = re.compile(r"^\d{17}[\dX]$")


def normalise(id_number: str) -> str:
    """Strip white space and upper-case a trailing x (accept lowercase x, store X)."""
    return "".join(id_number.split()).upper()


def check_char(first17: str) -> str:
    """Check character for the first 17 digits of an 18-character ID."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError(f"expected 17 digits, got {first17!r}")
    s = sum(int(d) * w for d, w in zip(first17, WEIGHTS))
    return CHECK_CHARS[s % 11]


def is_valid(id_number: str) -> bool:
    """True when an 18-character ID has the right shape, a real birth date and check character."""
    value = normalise(id_number)
    if not _ID18.match(value):
        return False
    if birth_date(value) is None:
        return False
    return check_char(value[:17]) == value[17]


def birth_date(id_number: str) -> dt.date | None:
    """Birth date encoded in an 18- or old 15-character ID (15: 6-digit date, 19xx), or None."""
    value = normalise(id_number)
    if len(value) == 18:
        text = value[6:14]
    elif len(value) == 15:
        text = "19" + value[6:12]
    else:
        return None
    try:
        return dt.datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return None


def sex(id_number: str) -> str | None:
    """'male' when the sequence's last digit (17th of 18, 15th of 15) is odd, else 'female'."""
    value = normalise(id_number)
    pos = {18: 16, 15: 14}.get(len(value))
    if pos is None or not value[pos].isdigit():
        return None
    return "male" if int(value[pos]) % 2 else "female"


def check_chars(first17: np.ndarray) -> np.ndarray:
    """Vectorised check characters for an (n, 17) array of digits 0-9."""
    s = (np.asarray(first17, dtype=np.int64) * np.asarray(WEIGHTS, dtype=np.int64)).sum(axis=1)
    return np.asarray(list(CHECK_CHARS))[s % 11]
