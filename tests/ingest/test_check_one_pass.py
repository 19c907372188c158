"""`povmon ingest --check`: one pass over the whole raw folder lists every problem (three county
exports written by hand as domain.md §1 shows them, each wrong in its own way); a real run refuses
with the same complete list; the config fix the hint suggests fixes it; nothing is written."""

from __future__ import annotations

import pytest

from pipelines.cli import main
from pipelines.ingest.pipeline import check, check_report, run
from pipelines.ingest.readers import IngestError
from pipelines.policy import load_policy
from tests.ingest.test_places_by_name import NAMES_ONLY, _household
from tests.ingest.conftest import write_csv


def _rename(headers: list[str], old: str, new: str) -> list[str]:
    return [new if h == old else h for h in headers]


def _three_counties(raw):
    # A: 证件号码 written 证件号 (required id_number missing); 人编号 written 成员号 (person_id
    #    missing: the closest unmapped header is 成员号, never the mapped 户编号)
    a = _rename(_rename(NAMES_ONLY, "证件号码", "证件号"), "人编号", "成员号")
    rows = _household("1405241002000001", 10, "陵川县", "崇文镇", "口坪村委会")
    for r in rows:
        r["证件号"], r["成员号"] = r["证件号码"], r["人编号"]
    write_csv(raw / "registry/2020Q4/140524_陵川县.csv", rows, headers=a)
    # B: per-capita income with a unit in full-width brackets (unmapped, optional), 健康状况 as 健康
    b = _rename(_rename(NAMES_ONLY, "人均纯收入", "人均纯收入（元/年）"), "健康状况", "健康")
    rows = _household("1405241012000001", 20, "陵川县", "礼义镇", "前杨村委会")
    for r in rows:
        r["人均纯收入（元/年）"], r["健康"] = r["人均纯收入"], r["健康状况"]
    write_csv(raw / "registry/2020Q4/140525_泽州县.csv", rows, headers=b)
    # C: loads, with a cause label not in code_labels.toml
    rows = _household("1405241002000002", 30, "陵川县", "崇文镇", "小窑村委会")
    rows[0]["主要致贫原因"] = "因懒"
    write_csv(raw / "registry/2020Q4/140581_高平市.csv", rows, headers=NAMES_ONLY)


def test_check_lists_every_problem_of_every_file_in_one_pass(raw_dir, tmp_path):
    _three_counties(raw_dir)
    result = check(raw_dir)
    by_file = {r["file"]: r for r in result["rows"]}
    a = by_file["registry/2020Q4/140524_陵川县.csv"]
    assert "required column 'id_number' not found" in a["refused (columns)"]
    assert "closest header present: '证件号'" in a["refused (columns)"]
    assert "required column 'person_id' not found" in a["refused (columns)"]
    assert "closest header present: '成员号'" in a["refused (columns)"]  # 户编号 is mapped: never suggested
    assert a["unmapped headers"] == "成员号、证件号" or set(a["unmapped headers"].split("、")) == {"成员号", "证件号"}
    b = by_file["registry/2020Q4/140525_泽州县.csv"]
    assert "required column 'health' not found" in b["refused (columns)"] and "'健康'" in b["refused (columns)"]
    assert "人均纯收入（元/年）" in b["unmapped headers"]
    c = by_file["registry/2020Q4/140581_高平市.csv"]
    assert c["refused (columns)"] == "" and c["unknown code labels"] == "主要致贫原因: 因懒"
    assert (c["would load"], c["would quarantine"]) == (3, 0)
    assert len(result["problems"]) == 3  # two in A, one in B: all of them, in one pass
    assert not (tmp_path / "processed").exists()
    # a real run refuses with the same complete list
    with pytest.raises(IngestError) as err:
        run(raw_dir, tmp_path / "processed")
    assert str(err.value).startswith("ingest refused: 3 problems in 2 files")
    for problem in result["problems"]:
        assert problem in str(err.value)
    assert not (tmp_path / "processed" / "current").exists()


def test_the_fix_the_hint_suggests_fixes_it(raw_dir, tmp_path):
    _three_counties(raw_dir)
    aliases = load_policy().aliases["registry"]

    def plus(name, spelling):
        return {"aliases": [*aliases[name].aliases, spelling]}

    fixed = load_policy(overrides={"header_aliases": {"registry": {
        "id_number": plus("id_number", "证件号"), "person_id": plus("person_id", "成员号"),
        "health": plus("health", "健康"), "per_capita_net_income": plus("per_capita_net_income", "人均纯收入(元/年)")}}})
    result = check(raw_dir, policy=fixed)
    assert result["problems"] == [] and result["quarantine_failures"] == []
    assert all(r["unmapped headers"] == "" for r in result["rows"])
    assert sum(r["would load"] for r in result["rows"]) == 9
    summary = run(raw_dir, tmp_path / "processed", policy=fixed)
    assert summary["files"]["rows_loaded"] == 9


def test_cli_check_prints_one_table_and_exits_2(raw_dir, tmp_path, capsys):
    _three_counties(raw_dir)
    assert main(["ingest", "--check", "--raw", str(raw_dir), "--processed", str(tmp_path / "p")]) == 2
    out = capsys.readouterr().out
    assert out.startswith("| file | sheet | mapped | unmapped headers |")
    assert out.count("\n| registry/2020Q4/") == 3
    assert "A run would be refused (exit 2) for these 3 problem(s):" in out
    assert not (tmp_path / "p").exists()


def test_unmapped_headers_and_blank_columns_are_run_summary_lines(raw_dir, tmp_path):
    rows = _household("1405241002000001", 10, "陵川县", "崇文镇", "口坪村委会")
    headers = [*NAMES_ONLY, "备注"]
    for r in rows:
        r["备注"] = "已核实"
        r["民族"] = ""  # an optional column blank in every row
    write_csv(raw_dir / "registry/2020Q4/140524_陵川县.csv", rows, headers=headers)
    summary = run(raw_dir, tmp_path / "processed")
    where = "registry/2020Q4/140524_陵川县.csv"
    assert headers.index("备注") == 27  # the 28th column: AB
    assert f"{where}, column AB '备注': header matches no alias in config/header_aliases.toml; " \
           f"its cells are not loaded" in summary["warnings"]
    assert any(w.startswith(f"{where}, column '民族' (ethnicity): blank in every row") for w in summary["warnings"])
    import duckdb

    con = duckdb.connect(str(tmp_path / "processed" / "povmon.duckdb"), read_only=True)
    assert con.execute("select source_file, source_row, column_name, detail from findings "
                       "where reason = 'unmapped_header'").fetchall() == [
        (where, 1, "备注", "header matches no alias in config/header_aliases.toml (column AB); its cells are not loaded")]
    assert check_report(check(raw_dir)).endswith("nothing was written.")
