"""Header mapping through the alias table (config/header_aliases.toml) and header-row detection."""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pipelines.ingest.readers import IngestError
from pipelines.policy.schema import ColumnSpec


def normalise(text: object) -> str:
    """NFKC (full-width brackets become half-width), all white space removed."""
    return "".join(unicodedata.normalize("NFKC", str(text)).split())


@dataclass(frozen=True)
class Column:
    """One canonical column of a source: name, kind, flags and accepted header spellings."""

    name: str
    kind: str
    required: bool
    pii: bool
    aliases: tuple[str, ...]
    text_only: bool = False  # an identifier that must be stored as text (numbers lose digits)


def columns_of(section: Mapping[str, ColumnSpec]) -> list[Column]:
    """Canonical columns of one source of the header aliases (policy.aliases[source]), in file order."""
    return [Column(name, spec.kind, spec.required, spec.pii, tuple(spec.aliases), spec.text_only)
            for name, spec in section.items()]


def policy_header_finder(policy, columns: Sequence[Column]):
    """header_finder with the policy's [ingest] max_title_rows and min_header_matches."""
    t = policy.thresholds.ingest
    return header_finder(columns, t.max_title_rows, t.min_header_matches)


def alias_lookup(columns: Sequence[Column]) -> dict[str, str]:
    """Normalised header spelling -> canonical name. The policy refuses a spelling listed for two
    columns of a source (pipelines/policy/checks.py check_aliases), so each maps to one."""
    return {normalise(alias): col.name for col in columns for alias in col.aliases}


def count_matches(row: Sequence[object], lookup: dict[str, str]) -> int:
    """How many cells of a row are known header spellings."""
    return sum(1 for v in row if v is not None and normalise(v) in lookup)


def header_finder(columns: Sequence[Column], max_title_rows: int, min_matches: int):
    """find_header(rows): index of the first row within max_title_rows (+1) with ≥ min_matches aliases."""
    lookup = alias_lookup(columns)
    needed = min(min_matches, len(columns))

    def find_header(rows: Sequence[Sequence[object]]) -> int | None:
        for i, row in enumerate(rows[: max_title_rows + 1]):
            if count_matches(row, lookup) >= needed:
                return i
        return None

    return find_header


def text_column_finder(columns: Sequence[Column]):
    """text_columns(header cells): positions of the headers of text-only columns (readers report
    which of their cells are stored as numbers)."""
    lookup = alias_lookup(columns)
    text_only = {c.name for c in columns if c.text_only}

    def text_columns(header: Sequence[object]) -> set[int]:
        return {i for i, h in enumerate(header) if h is not None and lookup.get(normalise(h)) in text_only}

    return text_columns


def find_columns(headers: Sequence[str], columns: Sequence[Column], where: str, first_column: int = 0,
                 config_file: str = "config/header_aliases.toml") -> tuple[dict[str, int], list[str]]:
    """(canonical name -> position of its header, every problem found): a required column missing
    (with the closest header present that maps to no other column), two headers of one canonical
    column (the same header twice, or two spellings of it: which holds the data is not guessed).

    A repeated header that maps to no canonical column is allowed: it is unmapped either way.
    `first_column` is the sheet column of position 0, for the column letters in messages.
    """
    lookup = alias_lookup(columns)
    positions: dict[str, list[int]] = {}
    for pos, header in enumerate(headers):
        name = lookup.get(normalise(header))
        if name is not None:
            positions.setdefault(name, []).append(pos)
    problems = [duplicate_column_message(where, name, [(p, headers[p]) for p in found_at], first_column)
                for name, found_at in positions.items() if len(found_at) > 1]
    mapped = {p for found_at in positions.values() for p in found_at}
    unmapped = [h for p, h in enumerate(headers) if p not in mapped]  # a mapped header is no "closest" one
    problems += [missing_column_message(where, col, unmapped, config_file)
                 for col in columns if col.required and col.name not in positions]
    return {name: found_at[0] for name, found_at in positions.items()}, problems


def map_headers(headers: Sequence[str], columns: Sequence[Column], where: str, first_column: int = 0,
                config_file: str = "config/header_aliases.toml") -> dict[str, int]:
    """Canonical name -> position of its header; raises naming file/sheet/column for every problem
    find_columns finds (joined by ' | ')."""
    found, problems = find_columns(headers, columns, where, first_column, config_file)
    if problems:
        raise IngestError(" | ".join(problems))
    return found


def duplicate_column_message(where: str, name: str, found: Sequence[tuple[int, str]], first_column: int = 0) -> str:
    """'<file>, sheet <s>: columns C '人数' and AD '户人数' are both headers of household_size …'."""
    from pipelines.ingest.readers import column_letter

    cols = " and ".join(f"{column_letter(first_column + pos)} '{header}'" for pos, header in found)
    both = "both" if len(found) == 2 else "all"
    return (f"{where}: columns {cols} are {both} headers of '{name}' (expected one column per canonical column; "
            f"which one holds the data is not guessed): delete or rename the others")


def closest_header(col: Column, headers: Sequence[str]) -> str | None:
    """The header among `headers` (callers pass the unmapped ones: a header already mapped to a
    column is never suggested for another) closest (difflib ratio) to any alias of the column."""
    best, best_score = None, 0.0
    for header in headers:
        if str(header).startswith("_extra_"):
            continue
        for alias in col.aliases:
            score = difflib.SequenceMatcher(None, normalise(alias), normalise(header)).ratio()
            if score > best_score:
                best, best_score = header, score
    return best


def missing_column_message(where: str, col: Column, headers: Sequence[str],
                           config_file: str = "config/header_aliases.toml") -> str:
    """'<file>, sheet <s>: required column … not found …; closest header present: …'."""
    suggestion = closest_header(col, headers)
    hint = f"; closest header present: '{suggestion}'" if suggestion else ""
    spellings = " / ".join(col.aliases)
    return (f"{where}: required column '{col.name}' not found (expected a header among: {spellings})"
            f"{hint}. Add the county's spelling to {config_file} if it is the same column.")
