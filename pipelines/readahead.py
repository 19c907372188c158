"""Raw exports that `povmon quarters` will read again, read beforehand in a side process.

After ingest, two steps read data/raw once more: validate prints the 问题清单 with names read from
the quarter's registry exports (pipelines/risk/cards.py raw_roster), and audit-pii reads every raw
export for the personal values it looks for (pipelines/audit.py read_raw_values). Both depend on
data/raw and the configuration only, not on anything a stage writes, so `povmon quarters` starts
them in one side process at the beginning (a fresh interpreter, `spawn`: nothing of this process's
DuckDB or threads is forked) and takes each result when its step needs it. The stages keep one core
busy for most of the run; the side process uses the other.

The same functions run with the same arguments; the results come back through a pipe, never through
a file (they hold personal data). A result that failed carries its error, raised where the step
would have raised it. If the side process dies, the step reads the files itself.
"""

from __future__ import annotations

import multiprocessing
import re
import shutil
import threading
from pathlib import Path
from typing import Any

ROSTER, RAW_VALUES = "roster", "raw_values"


def _work(raw_dir: str, periods: list[str], raw_values: bool, send) -> None:
    """The side process: each quarter's roster in order, then the audit's raw values; its DuckDB
    gets half of the [engine] memory_limit and one thread (the stages have the rest)."""
    import os

    from pipelines import warehouse

    limits = warehouse.engine_settings()
    os.environ[warehouse.MEMORY_ENV] = half_memory(limits["memory_limit"])
    os.environ[warehouse.THREADS_ENV] = "1"
    from pipelines.audit import read_raw_values
    from pipelines.risk.cards import raw_roster

    jobs = [(ROSTER, p, lambda p=p: raw_roster(p, Path(raw_dir))) for p in periods]
    if raw_values:
        jobs.append((RAW_VALUES, None, lambda: read_raw_values(Path(raw_dir))))
    for kind, period, call in jobs:
        try:
            answer = (kind, period, True, call())
        except Exception as exc:  # noqa: BLE001 - handed to the parent, raised where the step needs it
            answer = (kind, period, False, _picklable(exc))
        send.send(answer)
    send.close()


def half_memory(limit: str) -> str:
    """Half of a DuckDB memory_limit ('4GB' -> '2GB', '3.7 GiB' -> '1.85GiB', '80%' -> '40%')."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([A-Za-z%]*)\s*", limit)
    if m is None:
        raise ValueError(f"memory_limit {limit!r}: expected a number and a unit such as 4GB")
    return f"{float(m.group(1)) / 2:g}{m.group(2)}"


def _picklable(exc: Exception) -> Exception:
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001
        return RuntimeError(f"{type(exc).__name__}: {exc}")


class ReadAhead:
    """Rosters of `periods` and (with raw_values) the audit's raw values of raw_dir, read in a side
    process started now; `roster(period)` and `raw_values()` wait for theirs (None: read it yourself)."""

    def __init__(self, raw_dir: Path, periods: list[str], raw_values: bool):
        ctx = multiprocessing.get_context("spawn")
        self.raw_dir = Path(raw_dir).resolve()
        self.answers, send = ctx.Pipe(duplex=False)
        self.process = ctx.Process(target=_work, args=(str(self.raw_dir), list(periods), raw_values, send),
                                   daemon=True, name="povmon-read-ahead")
        self.process.start()
        send.close()
        self.received: dict[tuple[str, str | None], tuple[bool, Any]] = {}
        self.expected = {(ROSTER, p) for p in periods} | ({(RAW_VALUES, None)} if raw_values else set())
        # a thread takes every answer as soon as it is sent: a pipe holds ~64 KB, so without it the
        # side process would wait for each step to ask before reading the next thing
        self.arrived = threading.Condition()
        self.ended = False
        self.drain = threading.Thread(target=self._drain, name="povmon-read-ahead-drain", daemon=True)
        self.drain.start()

    def _drain(self) -> None:
        while True:
            try:
                k, p, ok, payload = self.answers.recv()
            except (EOFError, OSError):  # all sent, or the side process died
                break
            with self.arrived:
                self.received[(k, p)] = (ok, payload)
                self.arrived.notify_all()
        with self.arrived:
            self.ended = True
            self.arrived.notify_all()

    def _take(self, kind: str, period: str | None) -> Any:
        key = (kind, period)
        if key not in self.expected:
            return None
        with self.arrived:
            self.arrived.wait_for(lambda: key in self.received or self.ended)
            if key not in self.received:  # the side process died: the step reads the files itself
                self.expected.clear()
                return None
            ok, payload = self.received.pop(key)
        self.expected.discard(key)
        if not ok:
            raise payload
        return payload

    def roster(self, period: str, raw_dir: Path):
        """The quarter's Roster as raw_roster(period, raw_dir) returns it, or None (not read ahead)."""
        return self._take(ROSTER, period) if Path(raw_dir).resolve() == self.raw_dir else None

    def raw_values(self, raw_dir: Path):
        """RawValues as read_raw_values(raw_dir) returns them, or None (not read ahead)."""
        return self._take(RAW_VALUES, None) if Path(raw_dir).resolve() == self.raw_dir else None

    def close(self) -> None:
        """Stop the side process (whatever it has not sent is not needed any more)."""
        if self.process.is_alive():
            self.process.terminate()
        self.process.join()
        self.drain.join(timeout=5)
        self.answers.close()
        # a side process stopped while DuckDB spilled raw values leaves its spill folder
        from pipelines.audit import spill_folders

        for folder in spill_folders(self.process.pid):
            shutil.rmtree(folder, ignore_errors=True)
