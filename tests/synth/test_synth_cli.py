"""`povmon synth --log-file` (what `make demo` runs): the JSON summary goes to the file, one line to stdout."""

from __future__ import annotations

import json

from pipelines.cli import main


def test_log_file_takes_the_summary_and_stdout_has_one_line(tmp_path, capsys):
    log = tmp_path / "logs" / "synth.json"
    code = main(["synth", "--out", str(tmp_path / "data"), "--households", "40", "--seed", "3",
                 "--periods", "2020Q1,2020Q2", "--format", "parquet", "--log-file", str(log)])
    out = capsys.readouterr().out
    assert code == 0
    summary = json.loads(log.read_text(encoding="utf-8"))
    assert out.count("\n") == 1 and not out.lstrip().startswith("{")
    assert f"{summary['households']['2020Q2']:,} households, {summary['persons']['2020Q2']:,} persons in 2020Q2" in out
    assert out.startswith("povmon synth: 2 quarters") and f"{summary['files_written']} files (parquet formats)" in out
    assert str(log) in out


def test_without_log_file_the_summary_is_printed(tmp_path, capsys):
    code = main(["synth", "--out", str(tmp_path / "data"), "--households", "40", "--seed", "3",
                 "--periods", "2020Q2", "--format", "parquet"])
    assert code == 0 and json.loads(capsys.readouterr().out)["households"]["2020Q2"] > 0
