"""Fault injection for the crash tests: `point(name)` is called before every rename, link, write
and pointer switch of the warehouse (pipelines/warehouse.py). With none of these environment
variables set a point costs two dictionary lookups.

    POVMON_FAULT_AT=k        act at the k-th point this process passes (1-based)
    POVMON_FAULT_ACTION=...  kill (default): SIGKILL this process, as a power cut or the OOM killer
                             would; stop: SIGSTOP (a test holds the process there, then SIGCONTs it);
                             an errno name (ENOSPC, EROFS, EACCES, ...): raise that OSError, as the disk would
    POVMON_FAULT_LOG=path    append "<k> <name>" for each point passed (how a test counts a run's points)
"""

from __future__ import annotations

import errno
import os
import signal

AT_ENV, ACTION_ENV, LOG_ENV = "POVMON_FAULT_AT", "POVMON_FAULT_ACTION", "POVMON_FAULT_LOG"
_passed = 0


def point(name: str) -> None:
    """A place where a crash or a disk error can happen; acts when the environment says so."""
    at, log = os.environ.get(AT_ENV), os.environ.get(LOG_ENV)
    if at is None and log is None:
        return
    global _passed
    _passed += 1
    if log:
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, f"{_passed} {name}\n".encode())
        finally:
            os.close(fd)
    if at is not None and _passed == int(at):
        _act(os.environ.get(ACTION_ENV, "kill"), name)


def _act(action: str, name: str) -> None:
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif action == "stop":
        os.kill(os.getpid(), signal.SIGSTOP)
    elif hasattr(errno, action):
        code = getattr(errno, action)
        raise OSError(code, os.strerror(code), f"(fault injected at {name})")
    else:
        raise ValueError(f"{ACTION_ENV}={action!r}: expected kill, stop or an errno name such as ENOSPC")


def reset() -> None:
    """Start counting from zero again (in-process tests)."""
    global _passed
    _passed = 0
