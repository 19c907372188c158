"""Resolvers every stage shares: poverty lines by year, the 清零 deadline calendar, one label set.

    >>> cal = Calendar.from_month_days(["04-30", "06-30", "09-30", "12-31"])
    >>> cal.next_deadline(date(2020, 5, 1)).isoformat(), cal.next_deadline(date(2020, 6, 30)).isoformat()
    ('2020-06-30', '2020-06-30')
    >>> cal.next_deadline(date(2021, 1, 1)).isoformat()
    '2021-04-30'
"""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from pipelines.policy.schema import LineSpec


# ---- lines -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LineValue:
    """One named line in one year: yuan per person per year, how sure we are, its label."""

    name: str
    year: int
    value: float
    status: str  # official | secondary | unverified | placeholder (derived: the base line's)
    label: str

    @property
    def confirmed(self) -> bool:
        """False for placeholder and unverified figures: a page that prints one must say so."""
        return self.status in ("official", "secondary")


class Lines:
    """The one line resolver. A line has a value in a year when lines.toml gives one, or (a line
    defined as `factor` x another) when its base line has one; otherwise it has none that year and
    the caller decides (skip the measure, or refuse)."""

    def __init__(self, specs: Mapping[str, LineSpec], roles: Mapping[str, str]):
        self.specs = dict(specs)
        self.roles = dict(roles)  # role (national | guideline | monitoring) -> line name

    @property
    def names(self) -> list[str]:
        return list(self.specs)

    def label(self, name: str) -> str:
        return self.specs[name].label

    def name_of(self, role: str) -> str:
        """The line name playing `role` (config/policy.toml [lines])."""
        return self.roles[role]

    def value(self, name: str, year: int) -> LineValue | None:
        spec = self.specs[name]
        if spec.factor_of is not None:
            base = self.value(spec.factor_of, year)
            if base is None:
                return None
            return LineValue(name, year, base.value * float(spec.factor), base.status, spec.label)
        for v in spec.values:
            if v.year == year:
                return LineValue(name, year, float(v.value), v.status, spec.label)
        return None

    def for_year(self, year: int, names: Iterable[str] | None = None) -> dict[str, LineValue]:
        """{name: value} of the lines (all, or `names` in that order) that have a value in `year`."""
        out = {}
        for name in (self.names if names is None else names):
            v = self.value(name, year)
            if v is not None:
                out[name] = v
        return out

    def years(self) -> list[int]:
        return sorted({v.year for spec in self.specs.values() for v in spec.values})

    def rows(self) -> list[LineValue]:
        """Every (line, year) that resolves, sorted by year then name: the `lines` parameter table."""
        return [v for year in self.years() for v in self.for_year(year).values()]

    def role_rows(self) -> list[tuple[int, str, float, str]]:
        """(year, role, yuan, status) for each role's line in every year it resolves."""
        out = []
        for year in self.years():
            for role, name in self.roles.items():
                v = self.value(name, year)
                if v is not None:
                    out.append((year, role, v.value, v.status))
        return out


# ---- the deadline calendar ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Calendar:
    """清零 deadlines as month-days that recur every year (end of April, June, September, December)."""

    month_days: tuple[tuple[int, int], ...]

    @classmethod
    def from_month_days(cls, texts: Iterable[str]) -> Calendar:
        pairs = sorted({(int(t[:2]), int(t[3:])) for t in texts})
        return cls(tuple(pairs))

    def deadlines_in(self, year: int) -> list[date]:
        """The year's deadlines (29 February falls back to the 28th in other years)."""
        out = []
        for month, day in self.month_days:
            last = _calendar.monthrange(year, month)[1]
            out.append(date(year, month, min(day, last)))
        return out

    def next_deadline(self, day: date, *, strictly_after: bool = False) -> date:
        """The first deadline on (or, with strictly_after, after) `day`."""
        for year in (day.year, day.year + 1):
            for d in self.deadlines_in(year):
                if d > day or (d == day and not strictly_after):
                    return d
        raise AssertionError("a calendar always has a deadline within a year")  # pragma: no cover

    def rows(self, first_year: int, last_year: int) -> list[tuple[int, date]]:
        """(year, deadline) for every deadline of the years (for a `deadlines` parameter table)."""
        return [(y, d) for y in range(first_year, last_year + 1) for d in self.deadlines_in(y)]


# ---- one label set -------------------------------------------------------------------------------------

class Labels:
    """domain -> code -> Chinese label, each domain defined in exactly one config file."""

    def __init__(self, domains: Mapping[str, Mapping[str, str]], sources: Mapping[str, str]):
        self.domains = {d: dict(m) for d, m in domains.items()}
        self.sources = dict(sources)  # domain -> "config/<file>.toml [section]"

    def __contains__(self, domain: str) -> bool:
        return domain in self.domains

    def of(self, domain: str) -> dict[str, str]:
        return dict(self.domains[domain])

    def label(self, domain: str, code: str | None, default: str | None = None) -> str | None:
        if code is None:
            return default
        return self.domains.get(domain, {}).get(code, default if default is not None else code)

    def rows(self) -> list[tuple[str, str, str, int]]:
        """(domain, code, label, sort_order) for a `labels` parameter table (file order)."""
        return [(d, c, lab, i + 1) for d, m in self.domains.items() for i, (c, lab) in enumerate(m.items())]
