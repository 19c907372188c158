"""`povmon` reports bad input as one clear line and exit code 2, never a traceback or a silent skip."""

from __future__ import annotations

from pipelines.cli import main


def _raw(tmp_path, name: str, text: str = "") -> None:
    path = tmp_path / "raw" / "registry" / "2020Q2" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _run(capsys, *argv) -> tuple[int, str]:
    code = main(list(argv))
    err = capsys.readouterr().err
    return code, err


def test_an_unsupported_county_file_is_an_error_not_a_skip(tmp_path, capsys):
    _raw(tmp_path, "140524_陵川县_old.xls")
    code, err = _run(capsys, "ingest", "--raw", str(tmp_path / "raw"), "--processed", str(tmp_path / "p"))
    assert code == 2
    assert "registry/2020Q2/140524_陵川县_old.xls: unsupported file type '.xls'" in err
    assert "Traceback" not in err and not (tmp_path / "p").exists()


def test_no_registry_export_is_an_error(tmp_path, capsys):
    (tmp_path / "raw").mkdir()
    code, err = _run(capsys, "ingest", "--raw", str(tmp_path / "raw"), "--processed", str(tmp_path / "p"))
    assert code == 2 and "no registry export found" in err


def test_missing_required_column_names_file_and_column(tmp_path, capsys):
    _raw(tmp_path, "140524_陵川县_x.csv", "户编号,人编号,姓名,证件号码,与户主关系\n1,1,张三,34052419800101001X,户主\n")
    code, err = _run(capsys, "ingest", "--raw", str(tmp_path / "raw"), "--processed", str(tmp_path / "p"))
    assert code == 2
    assert "registry/2020Q2/140524_陵川县_x.csv: required column 'county_name' not found" in err


def test_a_malformed_period_is_refused(tmp_path, capsys):
    code, err = _run(capsys, "measures", "--period", "2020q2", "--processed", str(tmp_path))
    assert code == 2 and "period must look like 2020Q2, got '2020q2'" in err
