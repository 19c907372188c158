"""A report folder is replaced whole or not at all.

    with staged(out_dir, owned=OWNED) as build:   # build = out_dir's sibling .<name>.new-<pid>
        write everything into build
    # on success: the old folder's other entries (data_docs/, 问题清单/, public/ — written by other
    # stages or runs) are hard-linked into build, then build and out_dir are exchanged atomically

The exchange is renameat2(RENAME_EXCHANGE) on Linux: at every instant out_dir is the old complete
folder or the new complete one, so a killed run (or a failed one: build is removed) leaves the old
report. Where the call is not available, the old folder is renamed aside and the new one renamed
in; a run killed between the two renames leaves the old folder aside, and the next run puts it back
(`recover`) before doing anything else.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pipelines import warehouse

# the one renameat2(RENAME_EXCHANGE) wrapper (the warehouse swaps its folders with it too):
# exchange(a, b) -> True when swapped, False where the system cannot
exchange = warehouse._exchange


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _leftovers(out_dir: Path, kind: str) -> list[Path]:
    return sorted(out_dir.parent.glob(f".{out_dir.name}.{kind}-*"))


def _pid(path: Path) -> int | None:
    tail = path.name.rsplit("-", 1)[-1]
    return int(tail) if tail.isdigit() else None


def recover(out_dir: Path) -> None:
    """Undo what a killed run left: an old folder renamed aside and never replaced goes back; build
    and aside folders of runs no longer alive are removed."""
    for aside in _leftovers(out_dir, "old"):
        pid = _pid(aside)
        if pid is not None and _alive(pid) and pid != os.getpid():
            continue
        if not out_dir.exists():
            os.rename(aside, out_dir)
        else:
            shutil.rmtree(aside, ignore_errors=True)
    for build in _leftovers(out_dir, "new"):
        pid = _pid(build)
        if pid is None or not _alive(pid) or pid == os.getpid():
            shutil.rmtree(build, ignore_errors=True)


def carry_over(old: Path, new: Path, owned: Iterable[str]) -> list[str]:
    """Hard-link every entry of `old` that `new` lacks and this run does not own into `new`."""
    owned = set(owned)
    carried = []
    if not old.is_dir():
        return carried
    for entry in sorted(old.iterdir()):
        if entry.name in owned or (new / entry.name).exists() or entry.name.startswith("."):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.copytree(entry, new / entry.name, symlinks=True, copy_function=_link)
        else:
            _link(entry, new / entry.name)
        carried.append(entry.name)
    return carried


def _link(src, dst) -> None:
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError:
        shutil.copy2(src, dst, follow_symlinks=False)


def swap_in(build: Path, out_dir: Path) -> None:
    """Make `build` the folder at out_dir; the old folder (if any) is removed afterwards."""
    if not out_dir.exists():
        os.rename(build, out_dir)
        return
    if exchange(build, out_dir):
        shutil.rmtree(build, ignore_errors=True)  # build now holds the old report
        return
    aside = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
    os.rename(out_dir, aside)
    os.rename(build, out_dir)
    shutil.rmtree(aside, ignore_errors=True)


@contextmanager
def staged(out_dir: Path, owned: Iterable[str]) -> Iterator[Path]:
    """A fresh build folder beside out_dir, swapped in when the block succeeds, removed when it
    raises (out_dir untouched)."""
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    recover(out_dir)
    build = out_dir.parent / f".{out_dir.name}.new-{os.getpid()}"
    shutil.rmtree(build, ignore_errors=True)
    build.mkdir()
    try:
        yield build
        carry_over(out_dir, build, owned)
        swap_in(build, out_dir)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
