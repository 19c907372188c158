"""Pseudonymous keys (docs/data_contract.md §4) and the policy for the key behind them.

person_key    = first 20 hex of HMAC-SHA256(key, 'person:' || first 18 characters of the ID)
household_key = first 20 hex of HMAC-SHA256(key, 'household:' || 户编号)
(a member without any ID number: HMAC-SHA256(key, 'person_id:' || 户编号 || '/' || 人编号))

Ingest computes the same in SQL (`pseudonym` in pipelines/ingest/sql/_macros.sql) with the RFC 2104
construction over sha256, because neither DuckDB nor Spark has an hmac function:

    HMAC(K, m) = sha256((K' xor opad) || unhex(sha256((K' xor ipad) || m)))

K' is the key's UTF-8 bytes (sha256 of them when longer than 64 bytes) padded with zeros to 64
bytes; the two padded keys are constants of a run (`pads`), so SQL only concatenates and hashes.
These Python twins serve tests and the household card, which must find a household's raw rows.

The key comes from $POVMON_HASH_KEY and must be at least MIN_KEY_BYTES bytes. When it is unset,
the public demo key (pipelines.config.DEMO_KEY) is used, but only for raw files the generator
marked synthetic (data/raw/SYNTHETIC.json lists the SHA-256 of every file `povmon synth` wrote).
The warehouse records a fingerprint of the key (an HMAC of a fixed message, never the key) in
ingest_manifest; a run with another key is refused instead of re-keying some quarters.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Iterable
from pathlib import Path

from pipelines import config
from pipelines.idcard import normalise

KEY_HEX_CHARS = 20
MIN_KEY_BYTES = 32
BLOCK_BYTES = 64  # SHA-256 block size (RFC 2104's B)
FINGERPRINT_MESSAGE = "povmon-key-fingerprint"
FINGERPRINT_HEX_CHARS = 16
HOW_TO_SET = (f"set {config.KEY_ENV} to a secret of at least {MIN_KEY_BYTES} bytes, e.g. "
              f"export {config.KEY_ENV}=$(openssl rand -hex 32), and keep it: every quarter must use the same key")


class KeyPolicyError(ValueError):
    """The key is missing, too short, not allowed for these files, or not the warehouse's key."""


# ---- HMAC ------------------------------------------------------------------------------------------

def hmac_hex(key: str, message: str) -> str:
    """HMAC-SHA256(key, message) as 64 hex characters (UTF-8 for both)."""
    return hmac.new(key.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()


def pads(key: str) -> tuple[bytes, bytes]:
    """(K' xor ipad, K' xor opad): the inner and outer padded keys of RFC 2104, 64 bytes each."""
    raw = key.encode("utf-8")
    if len(raw) > BLOCK_BYTES:
        raw = hashlib.sha256(raw).digest()
    raw = raw.ljust(BLOCK_BYTES, b"\0")
    return bytes(b ^ 0x36 for b in raw), bytes(b ^ 0x5C for b in raw)


def fingerprint(key: str) -> str:
    """What the warehouse records about its key: 16 hex of HMAC(key, 'povmon-key-fingerprint')."""
    return hmac_hex(key, FINGERPRINT_MESSAGE)[:FINGERPRINT_HEX_CHARS]


def _pseudonym(message: str, key: str | None) -> str:
    return hmac_hex(key if key is not None else config.hash_key(), message)[:KEY_HEX_CHARS]


def _person_message(id_number: str) -> str:
    return "person:" + normalise(id_number)[:18]


def _person_id_message(household_id: str, person_id: str) -> str:
    return "person_id:" + household_id.strip() + "/" + person_id.strip()


def _household_message(household_id: str) -> str:
    return "household:" + household_id.strip()


def person_key(id_number: str, key: str | None = None) -> str:
    """Keyed pseudonym of a person from the ID number (first 18 characters, upper-case X)."""
    return _pseudonym(_person_message(id_number), key)


def person_key_without_id(household_id: str, person_id: str, key: str | None = None) -> str:
    """Keyed pseudonym of a member whose ID number is empty: 户编号 and 人编号."""
    return _pseudonym(_person_id_message(household_id, person_id), key)


def household_key(household_id: str, key: str | None = None) -> str:
    """Keyed pseudonym of a household from its 户编号 (kept as text, stripped)."""
    return _pseudonym(_household_message(household_id), key)


class Pseudonyms:
    """person_key, person_key_without_id and household_key for many rows with one key: the HMAC's
    keyed state is made once and copied per message (hmac.new per call re-derives it)."""

    def __init__(self, key: str | None = None):
        key = key if key is not None else config.hash_key()
        self._keyed = hmac.new(key.encode("utf-8"), digestmod=hashlib.sha256)

    def _hex(self, message: str) -> str:
        h = self._keyed.copy()
        h.update(message.encode("utf-8"))
        return h.hexdigest()[:KEY_HEX_CHARS]

    def person_key(self, id_number: str) -> str:
        return self._hex(_person_message(id_number))

    def person_key_without_id(self, household_id: str, person_id: str) -> str:
        return self._hex(_person_id_message(household_id, person_id))

    def household_key(self, household_id: str) -> str:
        return self._hex(_household_message(household_id))


# ---- policy ------------------------------------------------------------------------------------------

def check_key(key: str) -> str:
    """The key itself is acceptable: not empty, at least MIN_KEY_BYTES bytes of UTF-8."""
    size = len(key.encode("utf-8"))
    if size == 0:
        raise KeyPolicyError(f"{config.KEY_ENV} is set but empty; {HOW_TO_SET}")
    if size < MIN_KEY_BYTES:
        raise KeyPolicyError(f"{config.KEY_ENV} is {size} bytes, shorter than {MIN_KEY_BYTES}; {HOW_TO_SET}")
    return key


def synthetic_manifest(raw_dir: Path) -> dict[str, str]:
    """{path relative to raw_dir: sha256} of the files `povmon synth` wrote ({} when none)."""
    path = Path(raw_dir) / config.SYNTHETIC_MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    files = data.get("files") if isinstance(data, dict) else None
    return {str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {}


def write_synthetic_manifest(raw_dir: Path, files: Iterable[Path]) -> Path:
    """List every generated file with its SHA-256 in raw_dir/SYNTHETIC.json (the demo key's licence)."""
    raw_dir = Path(raw_dir)
    listed = {Path(f).relative_to(raw_dir).as_posix(): _sha256(Path(f)) for f in files}
    path = raw_dir / config.SYNTHETIC_MANIFEST
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps({"generator": "povmon synth", "files": dict(sorted(listed.items()))},
                              ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def resolve_key(raw_dir: Path, files: Iterable[tuple[Path, str]], environ: dict | None = None) -> str:
    """The key for ingesting `files` ((path, path relative to raw_dir)): $POVMON_HASH_KEY when set
    (checked), else the demo key, which only synthetic files listed in SYNTHETIC.json may use."""
    env = os.environ if environ is None else environ
    key = env.get(config.KEY_ENV)
    if key is not None and key != config.DEMO_KEY:
        return check_key(key)
    listed = synthetic_manifest(raw_dir)
    for path, rel in files:
        if listed.get(rel) != _sha256(path):
            why = "not listed" if rel not in listed else "changed since it was generated"
            raise KeyPolicyError(f"{rel}: {config.KEY_ENV} is not set and this file is not synthetic "
                                 f"({why} in {config.SYNTHETIC_MANIFEST}); the demo key is for `povmon synth` "
                                 f"data only: {HOW_TO_SET}")
    return config.DEMO_KEY


def check_warehouse_key(recorded: Iterable[str | None], key: str) -> None:
    """Refuse a key whose fingerprint differs from what the warehouse recorded (None: a warehouse
    written before fingerprints, whose keys cannot be told apart from another key's)."""
    mine = fingerprint(key)
    seen = set(recorded)
    if None in seen:
        raise KeyPolicyError("processed data carries no key fingerprint (written by an older povmon, keyed "
                             "differently): move data/processed aside and ingest every quarter again")
    other = sorted(seen - {mine})
    if other:
        raise KeyPolicyError(f"processed data was keyed with fingerprint {other[0]}; {config.KEY_ENV} gives "
                             f"{mine}: use the key the warehouse was built with (or ingest every quarter into "
                             "an empty processed folder)")


def recorded_fingerprints(processed_dir: Path) -> list[str | None]:
    """The key fingerprints ingest_manifest under processed_dir records ([] when there is none yet;
    [None] when it predates fingerprints)."""
    from pipelines import warehouse

    source = warehouse.scan(processed_dir, "ingest_manifest")
    if source is None:
        return []
    with warehouse.connect() as con:
        columns = [r[0] for r in con.execute(f"describe select * from {source}").fetchall()]
        if "key_fingerprint" not in columns:
            return [None]
        return [r[0] for r in con.execute(f"select distinct key_fingerprint from {source}").fetchall()]
