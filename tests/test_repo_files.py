"""Code and config are never git-ignored: an ignore pattern meant for an output folder (cards/,
reports/) once hid pipelines/risk/sql/cards/*.sql, so the models ran here and were missing from
every clone."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="not a git checkout")
def test_no_source_file_is_ignored():
    out = subprocess.run(["git", "ls-files", "--others", "--ignored", "--exclude-standard", "--",
                          "pipelines", "config", "expectations", "notebooks", "tests", "benchmarks", "docs"],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    hidden = [p for p in out if "__pycache__" not in p and not p.endswith((".pyc", ".ipynb_checkpoints"))
              and ".ipynb_checkpoints/" not in p]
    assert hidden == [], hidden

