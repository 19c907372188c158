"""pipelines.warehouse transactions in one process, on tiny tables: what a commit publishes, what
an exception leaves, carry-over by hard link, delete / replace, old snapshots, pinning, leftovers
of killed runs, a stale WAL, folders published with a commit, disk errors at every fault point."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import duckdb
import pytest

from pipelines import faults
from pipelines import warehouse as wh
from tests.warehouse_checks import check_readable, leftovers, state


@pytest.fixture
def con():
    with duckdb.connect() as c:
        yield c


def rows(con, processed, table) -> list[tuple]:
    return con.execute(f"select * from {wh.scan(processed, table)} order by all").fetchall()


def seed(con, processed) -> None:
    """t: 2020Q1 (with a csv beside it), 2020Q2; u: unpartitioned."""
    with wh.transaction(processed, stage="seed") as tx:
        for q in ("2020Q1", "2020Q2"):
            tx.write_table(con, f"select '{q}' as period, 1 as v", "t", q, order_by="v")
        tx.path("t", "2020Q1", name="t.csv").write_text("v\n1\n")
        tx.write_table(con, "select 1 as w", "u", order_by="w")


def test_commit_publishes_every_table_at_once(tmp_path, con):
    processed = tmp_path / "processed"
    with wh.transaction(processed, stage="seed") as tx:
        tx.write_table(con, "select '2020Q1' as period, 1 as v", "t", "2020Q1", order_by="v")
        tx.write_table(con, "select 1 as w", "u", order_by="w")
        assert wh.tables(processed) == []  # staged, not visible
    assert (processed / wh.CURRENT).is_symlink()
    assert os.readlink(processed / wh.CURRENT) == f"{wh.SNAPSHOTS}/{tx.snapshot.name}"
    assert tx.views == ["t", "u"] and wh.tables(processed) == ["t", "u"]
    assert rows(con, processed, "t") == [("2020Q1", 1)]
    assert wh.stable_path(processed, "t", "2020Q1") == processed.resolve() / "current" / "t" / "period=2020Q1" / "data.parquet"
    check_readable(processed)
    assert leftovers(processed) == []


def test_an_exception_changes_nothing(tmp_path, con):
    processed = tmp_path / "processed"
    seed(con, processed)
    before, snapshots = state(processed), sorted(os.listdir(processed / wh.SNAPSHOTS))
    with pytest.raises(RuntimeError, match="boom"), wh.transaction(processed, stage="risk") as tx:
        tx.write_table(con, "select '2020Q2' as period, 9 as v", "t", "2020Q2", order_by="v")
        tx.delete("t", "2020Q1")
        tx.replace_table("u")
        raise RuntimeError("boom")
    assert state(processed) == before and sorted(os.listdir(processed / wh.SNAPSHOTS)) == snapshots
    assert leftovers(processed) == [] and not any((processed / wh.STAGING).iterdir())


def test_a_staged_partition_replaces_the_old_one_whole_and_the_rest_is_hard_linked(tmp_path, con):
    processed = tmp_path / "processed"
    seed(con, processed)
    q1 = wh.partitions(processed, "t")["2020Q1"]
    with wh.transaction(processed, stage="risk") as tx:
        tx.write_table(con, "select '2020Q1' as period, 2 as v", "t", "2020Q1", order_by="v")  # csv not staged
        tx.write_table(con, "select '2020Q3' as period, 3 as v", "t", "2020Q3", order_by="v")
        assert tx.partitions("t") == ["2020Q1", "2020Q2", "2020Q3"]
    assert rows(con, processed, "t") == [("2020Q1", 2), ("2020Q2", 1), ("2020Q3", 3)]
    new_q1 = wh.partitions(processed, "t")["2020Q1"]
    assert sorted(p.name for p in new_q1.parent.iterdir()) == ["data.parquet"]  # the old t.csv went with its folder
    assert q1.read_bytes() != new_q1.read_bytes()
    u_old = tx.base / "u" / "data.parquet"
    assert (tx.snapshot / "u" / "data.parquet").stat().st_ino == u_old.stat().st_ino  # hard link, no copy


def test_delete_replace_and_a_change_of_layout(tmp_path, con):
    processed = tmp_path / "processed"
    seed(con, processed)
    with wh.transaction(processed, stage="ingest") as tx:
        tx.delete("t", "2020Q1")
        tx.replace_table("u")
        assert tx.partitions("t") == ["2020Q2"]
    assert sorted(wh.partitions(processed, "t")) == ["2020Q2"] and wh.tables(processed) == ["t"]
    with wh.transaction(processed, stage="ingest") as tx:  # t becomes unpartitioned: the partitions go
        tx.write_table(con, "select 7 as v", "t", order_by="v")
    assert wh.partitions(processed, "t") == {} and rows(con, processed, "t") == [(7,)]
    check_readable(processed)


def test_nothing_staged_commits_nothing(tmp_path, con):
    processed = tmp_path / "processed"
    seed(con, processed)
    current = wh.snapshot(processed)
    with wh.transaction(processed, stage="measures") as tx:
        tx.delete("t", "2019Q4")  # not there: no change
    assert tx.snapshot == current and wh.snapshot(processed) == current


def test_old_snapshots_are_removed_and_a_pinned_one_reads_until_then(tmp_path, con):
    processed = tmp_path / "processed"
    seed(con, processed)
    pinned = wh.snapshot(processed)
    for v in range(2, 6):
        with wh.transaction(processed, stage="risk") as tx:
            tx.write_table(con, f"select '2020Q2' as period, {v} as v", "t", "2020Q2", order_by="v")
        if v == 2:
            assert rows(con, pinned, "t") == [("2020Q1", 1), ("2020Q2", 1)]  # the pinned state, unchanged
            assert rows(con, processed, "t") == [("2020Q1", 1), ("2020Q2", 2)]
    kept = sorted(os.listdir(processed / wh.SNAPSHOTS))
    assert len(kept) == 3 and kept[-1] == wh.snapshot(processed).name  # [snapshots] keep = 3
    assert not pinned.exists()


def test_recovery_removes_what_killed_runs_leave(tmp_path, con):
    processed = tmp_path / "processed"
    seed(con, processed)
    before = state(processed)
    snaps = processed / wh.SNAPSHOTS
    (processed / wh.STAGING / "ingest-99-1" / "new" / "t").mkdir(parents=True)
    (processed / wh.STAGING / "ingest-99-1" / "work" / "spill").mkdir(parents=True)
    os.symlink(f"{wh.SNAPSHOTS}/{wh.snapshot(processed).name}", processed / ".current.99.tmp")
    (processed / ".povmon.duckdb.99.tmp").write_bytes(b"half a database")
    shutil.copytree(wh.snapshot(processed), snaps / "00000099-risk")  # renamed in, never switched to
    shutil.copytree(wh.snapshot(processed), snaps / ".gc-00000000-empty")  # half removed
    (tmp_path / ".processed.build-99" / "out").mkdir(parents=True)  # the old layout's build folder
    (tmp_path / ".validate-x1y2z3").mkdir()
    (tmp_path / ".validate-x1y2z3" / "validate.duckdb").write_bytes(b"")
    (tmp_path / ".validate-notes").write_text("not ours")  # a file, not a work folder: stays

    done = wh.recover(processed)

    assert leftovers(processed) == [] and state(processed) == before
    assert len(done) == 7, done
    assert not (tmp_path / ".processed.build-99").exists() and not (tmp_path / ".validate-x1y2z3").exists()
    assert (tmp_path / ".validate-notes").exists()
    check_readable(processed)


def test_a_stale_wal_that_makes_the_database_unopenable_is_removed(tmp_path, con):
    """A read-write session killed after writing leaves povmon.duckdb.wal; once the file is
    rebuilt, DuckDB refuses it ("WAL does not match database file"). The next run's recovery
    removes it and rebuilds the views."""
    processed = tmp_path / "processed"
    seed(con, processed)
    db = processed / wh.DATABASE
    other = tmp_path / "other.duckdb"
    code = (f"import duckdb, os, signal; c = duckdb.connect({str(other)!r}); c.execute('create table x as select 1');"
            "os.kill(os.getpid(), signal.SIGKILL)")
    subprocess.run([sys.executable, "-c", code], check=False)
    shutil.copy(f"{other}.wal", f"{db}.wal")
    with pytest.raises(duckdb.Error, match="WAL"):
        duckdb.connect(str(db), read_only=True).close()

    assert any("write-ahead log" in line for line in wh.recover(processed))
    check_readable(processed)
    assert not os.path.exists(f"{db}.wal")


def test_a_folder_is_replaced_whole_with_the_commit_or_not_at_all(tmp_path, con):
    processed, target = tmp_path / "processed", tmp_path / "reports" / "2020Q2" / "问题清单"
    seed(con, processed)
    target.mkdir(parents=True)
    (target / "old.xlsx").write_text("old")
    with pytest.raises(RuntimeError), wh.transaction(processed, stage="validate") as tx:
        (tx.folder(target) / "new.xlsx").write_text("new")
        raise RuntimeError("gate failed")
    assert sorted(os.listdir(target)) == ["old.xlsx"] and sorted(os.listdir(target.parent)) == ["问题清单"]
    with wh.transaction(processed, stage="validate") as tx:
        tx.write_table(con, "select '2020Q2' as period, 1 as n", "problems", "2020Q2", order_by="n")
        (tx.folder(target) / "new.xlsx").write_text("new")
    assert sorted(os.listdir(target)) == ["new.xlsx"] and sorted(os.listdir(target.parent)) == ["问题清单"]


def test_a_disk_error_at_any_point_is_one_line_and_leaves_a_whole_state(tmp_path, con, monkeypatch):
    """ENOSPC injected at each fault point of a transaction in turn: a WarehouseError, and the
    warehouse holds the state before or (once the pointer switched) the state after."""
    processed = tmp_path / "processed"
    seed(con, processed)
    before = state(processed)
    pristine = tmp_path / "pristine"
    shutil.copytree(processed, pristine, symlinks=True)

    def change():
        with wh.transaction(processed, stage="risk") as tx:
            tx.write_table(con, "select '2020Q2' as period, 5 as v", "t", "2020Q2", order_by="v")
            tx.replace_table("u")

    log = tmp_path / "points.log"
    monkeypatch.setenv(faults.LOG_ENV, str(log))
    faults.reset()
    change()
    after = state(processed)
    points = log.read_text().splitlines()
    monkeypatch.delenv(faults.LOG_ENV)
    assert after != before and len(points) > 8
    monkeypatch.setenv(faults.ACTION_ENV, "ENOSPC")
    outcomes = set()
    for k in range(1, len(points) + 1):
        shutil.rmtree(processed)
        shutil.copytree(pristine, processed, symlinks=True)
        monkeypatch.setenv(faults.AT_ENV, str(k))
        faults.reset()
        try:
            change()
            outcomes.add("ok")  # a failure while removing old snapshots is not the run's failure
        except wh.WarehouseError as exc:
            assert "\n" not in str(exc) and "No space left on device" in str(exc), (points[k - 1], exc)
            outcomes.add("error")
        monkeypatch.delenv(faults.AT_ENV)
        got = state(processed)
        assert got in (before, after), points[k - 1]
        if "switched" not in " ".join(points[:k]):
            assert got == before, points[k - 1]
    assert outcomes == {"ok", "error"}


def test_a_failed_first_run_leaves_no_folder(tmp_path, con):
    processed = tmp_path / "new" / "processed"
    with pytest.raises(RuntimeError), wh.transaction(processed, stage="ingest") as tx:
        tx.write_table(con, "select 1 as v", "t", order_by="v")
        raise RuntimeError("bad input")
    assert not processed.exists()


def test_copied_without_links_reads_but_refuses_to_write(tmp_path, con):
    processed = tmp_path / "processed"
    seed(con, processed)
    copy = shutil.copytree(processed, tmp_path / "copy")  # `current` becomes a real folder
    assert rows(con, copy, "t") == rows(con, processed, "t")
    with pytest.raises(wh.WarehouseError, match="copied without keeping symbolic links"), \
            wh.transaction(copy, stage="risk"):
        pass


def test_a_refused_hard_link_falls_back_to_a_copy(tmp_path, con, monkeypatch, capsys):
    processed = tmp_path / "processed"
    seed(con, processed)

    def no_links(src, dst):
        raise OSError(1, "Operation not permitted")
    monkeypatch.setattr(wh.os, "link", no_links)
    with wh.transaction(processed, stage="risk") as tx:
        tx.write_table(con, "select '2020Q3' as period, 3 as v", "t", "2020Q3", order_by="v")
    assert tx.copied == 4 and "refused hard links; 4 unchanged files were copied" in capsys.readouterr().err
    assert rows(con, processed, "t") == [("2020Q1", 1), ("2020Q2", 1), ("2020Q3", 3)]


def test_one_writer_per_process(tmp_path):
    processed = tmp_path / "processed"
    with wh.transaction(processed, stage="ingest"):
        with pytest.raises(wh.WarehouseError, match="nested transaction"), wh.transaction(processed, stage="risk"):
            pass


def test_a_partition_in_parts_replaces_only_the_parts_staged(tmp_path, con):
    """merge_parts (ingest's county files): a staged part replaces its namesake, delete_part drops
    one, the other parts are carried (same inode); the partition reads whole everywhere."""
    processed = tmp_path / "processed"
    with wh.transaction(processed, stage="seed") as tx:
        for name, v in (("county-a.parquet", 1), ("county-b.parquet", 2), ("data.parquet", 3)):
            wh.write_parquet(con, f"select '2020Q1' as period, {v} as v", tx.path("t", "2020Q1", name=name),
                             order_by="v")
        tx.write_table(con, "select '2020Q2' as period, 9 as v", "t", "2020Q2", order_by="v")
    first = wh.snapshot(processed) / "t" / "period=2020Q1"
    assert rows(con, processed, "t") == [("2020Q1", 1), ("2020Q1", 2), ("2020Q1", 3), ("2020Q2", 9)]
    assert wh.partitions(processed, "t")["2020Q1"].name == "*.parquet"  # a glob over the parts
    assert wh.partitions(processed, "t")["2020Q2"].name == "data.parquet"
    with wh.transaction(processed, stage="ingest") as tx:
        tx.merge_parts("t")
        wh.write_parquet(con, "select '2020Q1' as period, 10 as v", tx.path("t", "2020Q1", name="county-a.parquet"),
                         order_by="v")
        tx.delete_part("t", "2020Q1", "county-b.parquet")
        assert tx.partitions("t") == ["2020Q1", "2020Q2"]
    now = wh.snapshot(processed) / "t" / "period=2020Q1"
    assert sorted(p.name for p in now.iterdir()) == ["county-a.parquet", "data.parquet"]
    assert (now / "data.parquet").stat().st_ino == (first / "data.parquet").stat().st_ino
    assert (now / "county-a.parquet").stat().st_ino != (first / "county-a.parquet").stat().st_ino
    assert rows(con, processed, "t") == [("2020Q1", 3), ("2020Q1", 10), ("2020Q2", 9)]
    files = wh.table_files(processed, "t", ["2020Q1"])
    assert sorted(f.name for f in files) == ["county-a.parquet", "data.parquet"]
    glob = wh.read_files(list(wh.partitions(processed, "t").values()))
    assert con.execute(f"select sum(v) from {glob}").fetchone()[0] == 22
    with duckdb.connect(str(processed / wh.DATABASE), read_only=True) as views:
        assert views.execute("select count(*) from t").fetchone()[0] == 3
    with wh.transaction(processed, stage="ingest") as tx:  # without merge_parts: the folder is replaced whole
        tx.write_table(con, "select '2020Q1' as period, 5 as v", "t", "2020Q1", order_by="v")
    assert rows(con, processed, "t") == [("2020Q1", 5), ("2020Q2", 9)]
