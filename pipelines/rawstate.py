"""What is in data/raw, by content: the input `make` watches for ingest.

`povmon raw-state --raw data/raw --stamp data/.raw-state.json` lists every file under raw_dir
with its size and SHA-256 and rewrites the stamp ONLY when the listing changed (a file added,
removed, or different in content). Make compares the stamp's modification time with ingest's
output, so a county re-sending a corrected file triggers ingest, and touching a file without
changing it does not. Files whose size and modification time are unchanged since the last
stamp are not hashed again.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from pipelines.warehouse import atomic_path


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def inventory(raw_dir: Path, previous: dict | None = None) -> dict[str, dict]:
    """{relative path: {size, mtime_ns, sha256}} of every file under raw_dir (links followed; a
    file that cannot be read is listed with its error, so the stamp still changes)."""
    previous = previous or {}
    out: dict[str, dict] = {}
    for dirpath, dirnames, filenames in os.walk(raw_dir, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(f for f in filenames if not f.startswith(".")):  # as ingest: hidden files are not data
            path = Path(dirpath) / name
            rel = path.relative_to(raw_dir).as_posix()
            try:
                st = path.stat()
            except OSError as exc:
                out[rel] = {"error": exc.strerror or str(exc)}
                continue
            old = previous.get(rel, {})
            if old.get("size") == st.st_size and old.get("mtime_ns") == st.st_mtime_ns and "sha256" in old:
                out[rel] = old
                continue
            try:
                out[rel] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": _sha256(path)}
            except OSError as exc:
                out[rel] = {"error": exc.strerror or str(exc)}
    return out


def _content(entries: dict[str, dict]) -> dict[str, str]:
    return {rel: e.get("sha256") or f"error: {e.get('error')}" for rel, e in entries.items()}


def update_stamp(raw_dir: Path | str, stamp: Path | str) -> bool:
    """Rewrite `stamp` when the content of raw_dir differs from what it records; True if it did.
    A file only touched (same bytes) does not rewrite it, so the stamp's mtime moves with content
    (its cached size and time then stay old, and that file is hashed again next time)."""
    raw_dir, stamp = Path(raw_dir), Path(stamp)
    try:
        recorded = json.loads(stamp.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        recorded = None
    current = inventory(raw_dir, (recorded or {}).get("files"))
    if recorded is not None and _content(recorded.get("files", {})) == _content(current):
        return False
    with atomic_path(stamp) as tmp:
        tmp.write_text(json.dumps({"raw_dir": str(raw_dir.resolve()), "files": current}, ensure_ascii=False,
                                  indent=0, sort_keys=True), encoding="utf-8")
    return True
