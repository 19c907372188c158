"""Keys managed like keys: HMAC-SHA256 pseudonyms (Python and SQL agree), a key of at least 32 bytes
for real data, the demo key only for files `povmon synth` listed, and a warehouse that refuses a
different key (docs/data_contract.md §4, pipelines/keys.py)."""

from __future__ import annotations

import hashlib
import shutil

import duckdb
import pytest

from pipelines import config, keys, warehouse
from pipelines.cli import main
from pipelines.ingest.pipeline import GRAPH, Ingest, run
from tests.ingest.conftest import household, write_csv

KEY_A = "a" * 32
KEY_B = "b" * 40
REGISTRY = "registry/2020Q4/140524_陵川县_a.csv"


def _ingest(capsys, raw, processed) -> tuple[int, str]:
    code = main(["ingest", "--raw", str(raw), "--processed", str(processed)])
    return code, capsys.readouterr().err


@pytest.fixture
def hand_raw(tmp_path):
    """A hand-written (not synthetic) registry export of one household."""
    raw = tmp_path / "raw"
    write_csv(raw / REGISTRY, household("H0001"))
    return raw


def _manifest_digests(processed) -> set:
    return {(p.relative_to(processed).as_posix(), hashlib.sha256(p.read_bytes()).hexdigest())
            for p in processed.rglob("*.parquet")}


# ---- HMAC ------------------------------------------------------------------------------------------

def test_hmac_matches_rfc_4231_test_case_1():
    # RFC 4231 §4.2: key = 0x0b * 20, data = "Hi There"
    assert keys.hmac_hex("\x0b" * 20, "Hi There") == \
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"


def test_keys_are_hmac_not_a_keyed_prefix_hash():
    assert keys.household_key("H0001", KEY_A) == keys.hmac_hex(KEY_A, "household:H0001")[:20]
    assert keys.household_key("H0001", KEY_A) != hashlib.sha256((KEY_A + "household:H0001").encode()).hexdigest()[:20]
    assert keys.person_key("34052419800101001x", KEY_A) == keys.hmac_hex(KEY_A, "person:34052419800101001X")[:20]
    assert keys.household_key("H0001", KEY_A) != keys.household_key("H0001", KEY_B)


@pytest.mark.parametrize("key", [KEY_A, "密钥" * 20, "k" * 100])
def test_pseudonyms_of_many_rows_are_the_module_keys(key):
    # one keyed HMAC state copied per message: the same 20 hex as keys.*_key (RFC 4231-checked above)
    many = keys.Pseudonyms(key)
    for _ in range(2):  # the keyed state is not consumed by a message
        assert many.household_key(" H0001 ") == keys.household_key("H0001", key) == \
            keys.hmac_hex(key, "household:H0001")[:20]
        assert many.person_key("34052419800101001x") == keys.hmac_hex(key, "person:34052419800101001X")[:20]
        assert many.person_key_without_id("H0001", "2") == keys.hmac_hex(key, "person_id:H0001/2")[:20]
    assert many.household_key("H0001") != keys.Pseudonyms(KEY_B).household_key("H0001")


@pytest.mark.parametrize("key", [KEY_A, "密钥" * 20, "k" * 100])  # ASCII, multi-byte UTF-8, longer than a block
def test_sql_pseudonym_agrees_with_python(key):
    values = ["H0001", "1405241002000001", "户编号-甲", "34052419800101001X", ""]
    con = duckdb.connect()
    ingest = Ingest(con)
    ingest.create_inputs(key)
    con.execute("create table vals as select unnest(?) as v", [values])
    template = GRAPH.env.from_string("{% import '_macros.sql' as m with context %}"
                                     "with pseudonym_key as (select * from ingest_params) "
                                     "select v, {{ m.pseudonym('household:', 'v') }} as hk, "
                                     "{{ m.pseudonym('person:', 'v') }} as pk from vals")
    got = {v: (hk, pk) for v, hk, pk in con.execute(template.render(**ingest.context)).fetchall()}
    assert got == {v: (keys.household_key(v, key), keys.hmac_hex(key, "person:" + v)[:20]) for v in values}
    fp = con.execute("select key_fingerprint from ingest_params").fetchone()[0]
    assert fp == keys.fingerprint(key) and len(fp) == 16 and key not in fp


# ---- the key itself --------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, says", [("", "is set but empty"), ("x" * 31, "is 31 bytes, shorter than 32")])
def test_an_empty_or_short_key_is_refused(hand_raw, tmp_path, capsys, monkeypatch, value, says):
    monkeypatch.setenv(config.KEY_ENV, value)
    code, err = _ingest(capsys, hand_raw, tmp_path / "processed")
    assert code == 2
    assert f"POVMON_HASH_KEY {says}" in err and "openssl rand" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "processed").exists()


def test_a_32_byte_key_is_enough(hand_raw, tmp_path, monkeypatch):
    monkeypatch.setenv(config.KEY_ENV, KEY_A)
    run(hand_raw, tmp_path / "processed")
    con = duckdb.connect(str(tmp_path / "processed" / "povmon.duckdb"), read_only=True)
    assert con.execute("select distinct key_fingerprint from ingest_manifest").fetchall() == [(keys.fingerprint(KEY_A),)]
    assert con.execute("select household_key from households").fetchall() == [(keys.household_key("H0001", KEY_A),)]


def test_the_demo_key_is_refused_for_data_that_is_not_synthetic(hand_raw, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(config.KEY_ENV)
    code, err = _ingest(capsys, hand_raw, tmp_path / "processed")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert f"{REGISTRY}: POVMON_HASH_KEY is not set and this file is not synthetic (not listed" in err
    assert not (tmp_path / "processed").exists()
    # naming the demo key explicitly changes nothing
    monkeypatch.setenv(config.KEY_ENV, config.DEMO_KEY)
    assert _ingest(capsys, hand_raw, tmp_path / "processed")[0] == 2


def test_the_demo_key_works_for_synthetic_files_only_while_unchanged(small_city, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(config.KEY_ENV)
    raw = tmp_path / "raw"
    shutil.copytree(small_city / "raw", raw)
    run(raw, tmp_path / "processed", periods=["2020Q4"])
    con = duckdb.connect(str(tmp_path / "processed" / "povmon.duckdb"), read_only=True)
    assert con.execute("select distinct key_fingerprint from ingest_manifest").fetchall() == \
        [(keys.fingerprint(config.DEMO_KEY),)]
    con.close()
    # one edited export: no longer what the generator wrote
    edited = next((raw / "pairing" / "2020Q4").iterdir())
    edited.write_bytes(edited.read_bytes() + b"\n")
    code, err = _ingest(capsys, raw, tmp_path / "other")
    assert code == 2 and f"{edited.relative_to(raw).as_posix()}: POVMON_HASH_KEY is not set" in err
    assert "changed since it was generated" in err


# ---- the warehouse's key -----------------------------------------------------------------------------------

def test_a_different_key_is_refused_and_the_warehouse_kept(hand_raw, tmp_path, capsys, monkeypatch):
    processed = tmp_path / "processed"
    monkeypatch.setenv(config.KEY_ENV, KEY_A)
    run(hand_raw, processed)
    before = _manifest_digests(processed)
    monkeypatch.setenv(config.KEY_ENV, KEY_B)
    code, err = _ingest(capsys, hand_raw, processed)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert (f"processed data was keyed with fingerprint {keys.fingerprint(KEY_A)}; "
            f"POVMON_HASH_KEY gives {keys.fingerprint(KEY_B)}") in err
    assert KEY_A not in err and KEY_B not in err
    assert _manifest_digests(processed) == before
    monkeypatch.setenv(config.KEY_ENV, KEY_A)  # the right key goes on working
    assert _ingest(capsys, hand_raw, processed)[0] == 0


def test_a_warehouse_without_fingerprint_is_refused(hand_raw, tmp_path, capsys, monkeypatch):
    processed = tmp_path / "processed"
    monkeypatch.setenv(config.KEY_ENV, KEY_A)
    run(hand_raw, processed)
    manifest = warehouse.stable_path(processed, "ingest_manifest")
    con = duckdb.connect()
    con.execute(f"copy (select * exclude (key_fingerprint) from '{manifest}') to '{tmp_path / 'm.parquet'}'")
    dropped_in = processed / "ingest_manifest" / "data.parquet"  # imported by the next run, as the old layout
    dropped_in.parent.mkdir()
    shutil.move(tmp_path / "m.parquet", dropped_in)
    code, err = _ingest(capsys, hand_raw, processed)
    assert code == 2 and "carries no key fingerprint" in err


def test_the_key_is_written_nowhere(hand_raw, tmp_path, monkeypatch):
    monkeypatch.setenv(config.KEY_ENV, KEY_B)
    run(hand_raw, tmp_path / "processed")
    con = duckdb.connect()
    manifest = warehouse.stable_path(tmp_path / "processed", "ingest_manifest")
    text = " ".join(str(v) for row in con.execute(f"select * from '{manifest}'").fetchall() for v in row)
    assert keys.fingerprint(KEY_B) in text and KEY_B not in text
    for pad in keys.pads(KEY_B):
        assert not any(pad in p.read_bytes() for p in (tmp_path / "processed").rglob("*") if p.is_file())


def test_cards_refuse_a_key_that_is_not_the_warehouses(hand_raw, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(config.KEY_ENV, KEY_A)
    run(hand_raw, tmp_path / "processed")
    monkeypatch.setenv(config.KEY_ENV, KEY_B)  # the card's raw lookup would find no household at all
    code = main(["cards", "--period", "2020Q4", "--village", "140524100200", "--processed",
                 str(tmp_path / "processed"), "--raw", str(hand_raw)])
    assert code == 2 and f"keyed with fingerprint {keys.fingerprint(KEY_A)}" in capsys.readouterr().err
