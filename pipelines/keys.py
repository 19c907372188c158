"""Pseudonymous keys (docs/data_contract.md §4).

person_key    = first 20 hex of sha256(key || 'person:' || first 18 characters of the ID)
household_key = first 20 hex of sha256(key || 'household:' || 户编号)

Ingest computes the same in SQL (sha256 over a concatenation works alike on DuckDB and Spark);
these Python twins serve tests and the household card, which must find a household's raw rows.
"""

from __future__ import annotations

import hashlib

from pipelines.config import hash_key
from pipelines.idcard import normalise

KEY_HEX_CHARS = 20


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:KEY_HEX_CHARS]


def person_key(id_number: str, key: str | None = None) -> str:
    """Keyed pseudonym of a person from the ID number (first 18 characters, upper-case X)."""
    return _digest((key if key is not None else hash_key()) + "person:" + normalise(id_number)[:18])


def household_key(household_id: str, key: str | None = None) -> str:
    """Keyed pseudonym of a household from its 户编号 (kept as text, stripped)."""
    return _digest((key if key is not None else hash_key()) + "household:" + household_id.strip())
