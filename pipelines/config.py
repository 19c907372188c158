"""Where things are, and loading the versioned configuration files. Python only wires paths."""

from __future__ import annotations

import functools
import os
import tomllib
from pathlib import Path

PROJECT_ROOT = Path(os.environ.get("POVMON_ROOT", Path(__file__).resolve().parents[1]))
CONFIG_DIR = PROJECT_ROOT / "config"
DATA_DIR = Path(os.environ.get("POVMON_DATA", PROJECT_ROOT / "data"))
RAW_DIR = DATA_DIR / "raw"
PROCESSED_DIR = DATA_DIR / "processed"
TRUTH_DIR = DATA_DIR / "truth"
WAREHOUSE = PROCESSED_DIR / "povmon.duckdb"
REPORTS_DIR = PROJECT_ROOT / "reports"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"

# Secret for the keyed pseudonymous hashes (HMAC-SHA256) of ID numbers and household numbers.
# The public demo key works only for data `povmon synth` generated and listed in
# data/raw/SYNTHETIC.json (pipelines/keys.py holds the policy); real data needs $POVMON_HASH_KEY.
DEMO_KEY = "povmon-demo-key-not-secret-synthetic-data-only"
KEY_ENV = "POVMON_HASH_KEY"
SYNTHETIC_MANIFEST = "SYNTHETIC.json"  # in raw_dir: {"files": {relative path: sha256}}


def hash_key() -> str:
    """The pseudonymisation key: $POVMON_HASH_KEY, or the demo key (its use is checked by
    pipelines.keys.resolve_key wherever raw data is keyed)."""
    return os.environ.get(KEY_ENV, DEMO_KEY)


@functools.cache
def load_toml(name: str, config_dir: Path = CONFIG_DIR) -> dict:
    """Parse config/<name>.toml (cached: configuration does not change during a run)."""
    with open(config_dir / f"{name}.toml", "rb") as fh:
        return tomllib.load(fh)
