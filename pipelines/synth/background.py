"""Write a quarter's registry files in a forked child while the generator goes on to the next quarter.

The generator's time is about two thirds file writing (xlsx XML and deflate, Stata / SPSS through
pyreadstat, CSV) and one third drawing the population: on two cores the two overlap. A forked child
sees the parent's frames as they were at the fork (copy-on-write), so nothing is pickled; it runs
the quarter's write calls in order and reports a failure back through a pipe. At most
`processes` children write at once (config/synth.toml [run] writer_processes); 0, or a platform
without fork, writes in the calling process. The files are the same bytes either way: each file is
written by the same call with the same arguments, atomically (pipelines/synth/writers.py).

Wiring only: `Jobs` collects calls, `Writer` runs them (now, or in a child) and waits for them.
"""

from __future__ import annotations

import multiprocessing
import sys
import traceback
from collections.abc import Callable


class Jobs(list):
    """Write calls of one quarter, in order: add(fn, *args, **kwargs)."""

    def add(self, fn: Callable, *args, **kwargs) -> None:
        self.append((fn, args, kwargs))


def run_jobs(jobs: Jobs) -> None:
    for fn, args, kwargs in jobs:
        fn(*args, **kwargs)


def _child(jobs: Jobs, conn) -> None:
    try:
        run_jobs(jobs)
        conn.send(None)
    except BaseException:  # noqa: BLE001 - reported to the parent, which raises
        conn.send(traceback.format_exc())
    finally:
        conn.close()


def fork_context(processes: int):
    """A fork context when writing in the background is asked for and possible, else None."""
    if processes <= 0 or "fork" not in multiprocessing.get_all_start_methods():
        return None
    return multiprocessing.get_context("fork")


class Writer:
    """Runs Jobs in forked children (at most `processes` at a time) or inline; `close` waits for
    every child and raises if one failed (naming what it was writing and the child's traceback)."""

    def __init__(self, processes: int):
        self.context = fork_context(processes)
        self.limit = max(1, processes)
        self.running: list[tuple[str, object, object]] = []

    def submit(self, label: str, jobs: Jobs) -> None:
        if self.context is None:
            run_jobs(jobs)
            return
        while len(self.running) >= self.limit:
            self._wait(self.running.pop(0))
        for stream in (sys.stdout, sys.stderr):  # else the child flushes the parent's buffered text again
            stream.flush()
        receive, send = self.context.Pipe(duplex=False)
        child = self.context.Process(target=_child, args=(jobs, send), name=f"povmon-synth-writer {label}")
        child.start()
        send.close()
        self.running.append((label, child, receive))

    def _wait(self, item) -> None:
        label, child, receive = item
        try:
            failure = receive.recv()
        except EOFError:  # the child died before reporting
            failure = "the writer process ended without reporting"
        finally:
            receive.close()
        child.join()
        if failure is not None or child.exitcode != 0:
            raise RuntimeError(f"synth: writing the files of {label} failed (writer exit code {child.exitcode}):\n{failure}")

    def close(self) -> None:
        """Wait for every child; the first failure is raised after all have ended."""
        errors = []
        while self.running:
            try:
                self._wait(self.running.pop(0))
            except RuntimeError as exc:
                errors.append(exc)
        if errors:
            raise errors[0]

    def abort(self) -> None:
        """Stop the children this writer started (the parent failed; their files are temporary
        until renamed, so a stopped child leaves at most a .tmp file that the next run clears)."""
        for _, child, receive in self.running:
            child.terminate()
            child.join()
            receive.close()
        self.running.clear()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort()
        return False
