"""Quarters ('YYYYQn', the quarter-end snapshots every table is partitioned by): the one parser
and the arithmetic every stage uses.

    >>> p = Period.parse("2020Q1")
    >>> str(p.previous), p.end_date.isoformat(), str(p.shift(4)), p.year
    ('2019Q4', '2020-03-31', '2021Q1', 2020)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

PATTERN = re.compile(r"([0-9]{4})Q([1-4])")


def is_period(text: object) -> bool:
    """True when `text` is a quarter written 'YYYYQn' (a folder or partition name, say)."""
    return isinstance(text, str) and PATTERN.fullmatch(text) is not None


@dataclass(frozen=True, order=True)
class Period:
    """A quarter-end snapshot, written 'YYYYQn' (2020Q2). Ordered in time."""

    year: int
    quarter: int

    def __post_init__(self) -> None:
        if not 1 <= self.quarter <= 4 or not 1000 <= self.year <= 9999:
            raise ValueError(f"period must look like 2020Q2, got year {self.year}, quarter {self.quarter}")

    @classmethod
    def parse(cls, text: str | Period) -> Period:
        """'2020Q2' -> Period(2020, 2); ValueError naming the bad value otherwise."""
        if isinstance(text, Period):
            return text
        match = PATTERN.fullmatch(text) if isinstance(text, str) else None
        if match is None:
            raise ValueError(f"period must look like 2020Q2, got {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.year}Q{self.quarter}"

    @property
    def index(self) -> int:
        """year * 4 + quarter: consecutive quarters differ by 1 (the SQL uses the same number)."""
        return self.year * 4 + self.quarter

    @property
    def end_date(self) -> date:
        """Last day of the quarter: 2020Q2 -> 2020-06-30."""
        return date(self.year + self.quarter // 4, self.quarter % 4 * 3 + 1, 1) - timedelta(days=1)

    def shift(self, quarters: int) -> Period:
        """The quarter `quarters` later (earlier when negative): 2020Q1.shift(-1) -> 2019Q4."""
        i = self.year * 4 + (self.quarter - 1) + quarters
        return Period(i // 4, i % 4 + 1)

    @property
    def previous(self) -> Period:
        """The preceding quarter."""
        return self.shift(-1)
