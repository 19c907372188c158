"""Progress on stderr for long runs: a live line on a terminal, nothing per item elsewhere.

    for f in progress.each(files, "ingest"):      # ingest 12/40 · 140181_阳城县_….xlsx (TTY only)
        ...
    with progress.step("validate 2020Q2"):        # one line when done: "validate 2020Q2 … 3.1 s"
        ...

On a terminal (stderr is a TTY) `each` redraws one line per item and `step` prints one line per
step. Elsewhere (tests, CI logs, `make … 2>log`) `each` prints nothing and `step` one line per
step, so a log has one line per stage and quarter and never a carriage return. POVMON_PROGRESS=0
silences both, =1 forces the terminal behaviour. stdout is never written: it stays the command's
result.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
ENV = "POVMON_PROGRESS"


def mode(stream=None) -> str:
    """'tty' (live line), 'lines' (one line per step) or 'off'."""
    forced = os.environ.get(ENV, "").strip()
    if forced == "0":
        return "off"
    if forced == "1":
        return "tty"
    stream = stream or sys.stderr
    try:
        return "tty" if stream.isatty() else "lines"
    except (AttributeError, ValueError):  # a closed or replaced stream
        return "lines"


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else "…" + text[-(width - 1):]


def each(items: Iterable[T], label: str, stream=None) -> Iterator[T]:
    """Yield items; on a terminal show `label i/n · item` on one redrawn line (cleared at the end)."""
    stream = stream or sys.stderr
    items = list(items)
    if mode(stream) != "tty" or not items:
        yield from items
        return
    n, width = len(items), 0
    try:
        for i, item in enumerate(items, start=1):
            line = f"{label} {i}/{n} · {_short(str(getattr(item, 'rel', item)))}"
            stream.write("\r" + line.ljust(width))
            stream.flush()
            width = max(width, len(line))
            yield item
    finally:
        stream.write("\r" + " " * width + "\r")
        stream.flush()


def line(label: str, seconds: float, failed: bool = False, stream=None) -> None:
    """The line `step` prints at its end, for a step timed elsewhere (a side process's)."""
    stream = stream or sys.stderr
    if mode(stream) != "off":
        stream.write(f"{label} … failed after {seconds:.1f} s\n" if failed else f"{label} … {seconds:.1f} s\n")
        stream.flush()


@contextlib.contextmanager
def step(label: str, stream=None) -> Iterator[dict]:
    """Time a step; print `label … N.N s` when it ends (`label … failed after N.N s` on an error).
    The yielded dict may get a 'note' (shown after the time)."""
    stream = stream or sys.stderr
    how = mode(stream)
    info: dict = {}
    if how == "tty":
        stream.write(f"{label} …")
        stream.flush()
    started = time.perf_counter()
    try:
        yield info
    except BaseException:
        if how != "off":
            stream.write(("\r" if how == "tty" else "") + f"{label} … failed after {time.perf_counter() - started:.1f} s\n")
            stream.flush()
        raise
    info["seconds"] = round(time.perf_counter() - started, 2)
    if how != "off":
        note = f" ({info['note']})" if info.get("note") else ""
        stream.write(("\r" if how == "tty" else "") + f"{label} … {info['seconds']:.1f} s{note}\n")
        stream.flush()
