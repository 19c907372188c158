"""`povmon survey --design NAME --period Q`: a survey on its own, no registry, any design.

The fixture is written by hand after the issue's description of another survey's export: one row
per person with person weights, households as PSUs (one header, two roles), regions named in
words (with spaces) as strata, equivalised income, urban/rural as codes with labels.
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines import warehouse
from pipelines.cli import main
from pipelines.config import CONFIG_DIR
from pipelines.ingest.readers import IngestError
from pipelines.measures.pipeline import MEASURES_COLUMNS
from pipelines.measures import nodes
from pipelines.measures import survey
from pipelines.policy import PolicyError, load_policy
from tests.report_runs import without_pngs

DESIGN = Path(__file__).parent / "data" / "foreign_person.toml"
PERIOD = "2020Q2"
HEADER = "Household ID,Region,Urban/Rural,Person weight,Equivalised income,No safe water,Child out of school,Note\n"
ROWS = [  # hhid, region, area, weight, income, no safe water, child out of school
    ("h01", "North Coast", "1", "120", "3500", "yes", "no"), ("h01", "North Coast", "1", "120", "3500", "yes", "no"),
    ("h02", "North Coast", "2", "80", "5200", "no", "no"), ("h02", "North Coast", "2", "80", "5200", "no", "no"),
    ("h02", "North Coast", "2", "80", "5200", "no", "no"), ("h03", "North Coast", "2", "150", "2800", "yes", "yes"),
    ("h04", "Inland Valley", "1", "60", "7100", "no", "no"), ("h04", "Inland Valley", "1", "60", "7100", "no", "no"),
    ("h05", "Inland Valley", "2", "90", "3900", "no", "yes"), ("h06", "Inland Valley", "2", "110", "4300", "no", ""),
    ("h06", "Inland Valley", "2", "110", "", "no", ""),  # a missing income is loaded, outside every estimate
    ("h07", "Inland Valley", "1", "1,000", "12000", "no", "no"),  # thousands separator
]
BAD = [
    ",,,,,,,",  # blank row
    "h08,Inland Valley,1,abc,3000,no,no,",  # weight not a number
    "h09,North Coast,2,,3000,no,no,",  # weight missing
    "h10,North Coast,2,0,3000,no,no,",  # weight zero
    "h11,North Coast,2,50,3000,maybe,no,",  # not a yes/no label
]


def _design() -> dict:
    return tomllib.loads(DESIGN.read_text(encoding="utf-8"))


def _policy():
    return load_policy(overrides={"surveys": {"foreign": _design()}})


def _write(raw: Path, rows=ROWS, bad=BAD, header=HEADER) -> Path:
    path = raw / "foreign" / PERIOD / "hbs.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [",".join(f'"{c}"' if "," in c else c for c in r) + ",\n" for r in rows] + [b + "\n" for b in bad]
    path.write_text(header + "".join(lines), encoding="utf-8")
    return path


def _measures(processed: Path):
    con = duckdb.connect()
    return con, con.sql(f"select * from {warehouse.scan(processed, 'measures', PERIOD)}")


def test_survey_alone_estimates_with_its_own_design(tmp_path):
    _write(tmp_path / "raw")
    out = survey.run(tmp_path / "raw", tmp_path / "processed", "foreign", PERIOD, policy=_policy())
    assert (out["rows_read"], out["rows_loaded"], out["rows_quarantined"]) == (17, 12, 5)
    con, m = _measures(tmp_path / "processed")
    assert {r[0] for r in con.sql("select distinct data_source from m").fetchall()} == {"survey:foreign"}
    names = dict(con.sql("select region_level || ':' || region_code, region_name from m").fetchall())
    # the total is the design's, not the city's; words keep their spaces; codes get their labels
    assert names["country:XX"] == "Whole sample"
    assert names["region:North Coast"] == "North Coast" and names["region:Inland Valley"] == "Inland Valley"
    assert names["area:1"] == "urban" and names["area:2"] == "rural"
    # P0 at the national line (4000 in 2020) by hand: person weights, income strictly below the line
    w = {"3500": 240, "5200": 240, "2800": 150, "7100": 120, "3900": 90, "4300": 110, "12000": 1000}
    poor = 240 + 150 + 90
    p0 = con.sql("select estimate, n_unweighted, n_weighted, design_df from m where measure = 'fgt0' "
                 "and region_level = 'country' and line_name = 'national'").fetchall()[0]
    assert p0[0] == pytest.approx(poor / sum(w.values()))
    assert p0[1] == 11 and p0[2] == pytest.approx(sum(w.values()))
    assert p0[3] == 7 - 2  # design df: 7 households (the PSUs) in 2 regions (the strata)
    # Alkire–Foster on the survey's own flags (an empty flag: not deprived), by hand
    af = dict(con.sql("select measure || ' ' || line_name, estimate from m where region_level = 'country' "
                      "and measure like 'af_%'").fetchall())
    everyone = 240 + 240 + 150 + 120 + 90 + 220 + 1000
    assert af["af_H k=any"] == pytest.approx((240 + 150 + 90) / everyone)  # h01, h03, h05
    assert af["af_H k=1"] == pytest.approx(150 / everyone)  # h03 is deprived in both
    assert af["af_A k=any"] == pytest.approx((240 * 0.5 + 150 * 1 + 90 * 0.5) / (240 + 150 + 90))
    assert af["af_M0 k=any"] == pytest.approx(af["af_H k=any"] * af["af_A k=any"])
    con.close()


def test_survey_se_agrees_with_the_registry_stage_engine(tmp_path):
    """The new estimator engine against the one the sample city's stage uses (checked against an
    independent design-based reference to 1e-14): same design, same SEs."""
    _write(tmp_path / "raw")
    survey.run(tmp_path / "raw", tmp_path / "processed", "foreign", PERIOD, policy=_policy())
    con, m = _measures(tmp_path / "processed")
    rows = con.sql("select region_code, measure, line_name, estimate, std_error from m where region_level = "
                   "'region' and measure in ('fgt0', 'fgt1', 'mean_income')").fetchall()
    loaded = con.sql("select * from (values " + ", ".join(
        f"('{r[0]}', '{r[1]}', {float(r[3].replace(',', ''))}, {r[4] or 'null'})" for r in ROWS)
        + ") t(hhid, region, w, inc)")
    ref = nodes.survey_fgt(con, loaded, {"national": 4000.0, "provincial_guideline": 4500.0, "monitoring": 6000.0},
                           stratum="region", psu="hhid", weight="w", income="inc", by="region", total=None).df()
    for code, measure, line, est, se in rows:
        r = ref[(ref.domain_code == code) & (ref.measure == measure)
                & ((ref.line_name == line) if line else ref.line_name.isna())].iloc[0]
        assert est == pytest.approx(r.estimate, abs=1e-12) and se == pytest.approx(r.std_error, abs=1e-12)
    con.close()


def test_quarantine_reasons_reconcile_with_the_file(tmp_path):
    _write(tmp_path / "raw")
    survey.run(tmp_path / "raw", tmp_path / "processed", "foreign", PERIOD, policy=_policy())
    con = duckdb.connect()
    q = con.sql(f"select source_row, reason, reason_column from {warehouse.scan(tmp_path / 'processed', 'survey_quarantine', PERIOD)} "
                "order by source_row").fetchall()
    assert q == [(14, "blank_row", None), (15, "not_a_number", "pweight"), (16, "missing_weight", "pweight"),
                 (17, "nonpositive_weight", "pweight"), (18, "not_yes_no", "water")]


def test_all_rows_quarantined_is_exit_2_naming_the_reason(tmp_path, capsys, monkeypatch):
    config = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, config)
    shutil.copy(DESIGN, config / "surveys" / "foreign.toml")
    monkeypatch.setenv("POVMON_CONFIG", str(config))
    _write(tmp_path / "raw", rows=[], bad=["h1,North Coast,1,abc,3000,no,no,", "h2,North Coast,1,x,3000,no,no,"])
    code = main(["survey", "--design", "foreign", "--period", PERIOD, "--raw", str(tmp_path / "raw"),
                 "--processed", str(tmp_path / "processed")])
    err = capsys.readouterr().err
    assert code == 2
    assert "survey foreign 2020Q2: all 2 rows quarantined (not_a_number (pweight) 2)" in err
    assert "Traceback" not in err and warehouse.scan(tmp_path / "processed", "measures", PERIOD) is None


def test_missing_design_column_names_it_and_a_header_that_is_not_mapped(tmp_path):
    _write(tmp_path / "raw", header="hh_id,Region,Urban/Rural,Weight of person,Equivalised income,No safe water,"
                                    "Child out of school,Note\n")
    with pytest.raises(IngestError) as exc:
        survey.run(tmp_path / "raw", tmp_path / "processed", "foreign", PERIOD, policy=_policy())
    msg = str(exc.value)
    assert "foreign/2020Q2/hbs.csv: required column 'pweight' not found" in msg
    assert "closest header present: 'Weight of person'" in msg and "config/surveys/foreign.toml" in msg


def test_no_file_is_an_error_not_an_empty_success(tmp_path):
    (tmp_path / "raw").mkdir()
    with pytest.raises(survey.SurveyError, match="no file matches"):
        survey.run(tmp_path / "raw", tmp_path / "processed", "foreign", PERIOD, policy=_policy())


def test_a_design_naming_an_unknown_column_is_refused():
    bad = _design()
    bad["design"]["stratum"] = "province"
    with pytest.raises(PolicyError, match=r"config/surveys/foreign.toml \[design\].stratum: unknown column .* 'province'"):
        load_policy(overrides={"surveys": {"foreign": bad}})
    bad = _design()
    bad["unit"] = "household"
    with pytest.raises(PolicyError, match="household rows need the household size"):
        load_policy(overrides={"surveys": {"foreign": bad}})
    bad = _design()
    bad["domains"]["household"] = {"column": "hhid"}
    with pytest.raises(PolicyError, match=r"\[domains.household\].column: 'hhid' is the household id"):
        load_policy(overrides={"surveys": {"foreign": bad}})
    bad = _design()
    bad["multidimensional"]["indicators"]["water"] = "region"
    with pytest.raises(PolicyError, match=r"\[columns\].region.kind: an Alkire–Foster indicator is a yes_no column"):
        load_policy(overrides={"surveys": {"foreign": bad}})
    bad = _design()
    bad["multidimensional"]["cutoffs"] = ["1", "2/2"]
    with pytest.raises(PolicyError, match="cutoffs '1' and '2/2' are the same"):
        load_policy(overrides={"surveys": {"foreign": bad}})


def test_rerunning_one_design_keeps_the_other_sources(tmp_path):
    _write(tmp_path / "raw")
    policy = _policy()
    survey.run(tmp_path / "raw", tmp_path / "processed", "foreign", PERIOD, policy=policy)
    con, m = _measures(tmp_path / "processed")
    first = con.sql("select count(*) from m").fetchall()[0][0]
    con.close()
    survey.run(tmp_path / "raw", tmp_path / "processed", "foreign", PERIOD, policy=policy)
    con, m = _measures(tmp_path / "processed")
    assert con.sql("select count(*) from m").fetchall()[0][0] == first
    con.close()


def test_sample_city_design_reproduces_the_measures_stage_and_survives_its_rerun(staged_city, tmp_path):
    """The sample city's survey as a configured design, estimated on its own from the raw files,
    gives the figures the measures stage gives from survey_households (checked against an
    independent reference to 1e-14); a later `povmon measures` keeps the survey:<name> rows."""
    from pipelines.measures.pipeline import run as measures

    processed = tmp_path / "processed"
    shutil.copytree(staged_city / "processed", processed, symlinks=True)
    period = "2020Q2"
    out = survey.run(staged_city / "raw", processed, "sample_city", period)
    assert out["rows_loaded"] > 0 and out["data_source"] == "survey:sample_city"
    con = duckdb.connect()
    m = con.sql(f"select * from {warehouse.scan(processed, 'measures', period)}")
    pairs = con.sql("""select a.estimate, b.estimate, a.std_error, b.std_error, a.region_name, b.region_name
                       from m a join m b using (region_level, region_code, population_group, measure, line_name)
                       where a.data_source = 'survey' and b.data_source = 'survey:sample_city'""").fetchall()
    assert len(pairs) >= 7 * 3 * 4  # city + 6 counties, fgt0-2 at the lines, mean, gini, incidence
    for est_a, est_b, se_a, se_b, name_a, name_b in pairs:
        assert est_b == pytest.approx(est_a, abs=1e-12) and name_a == name_b
        if se_a is not None:
            assert se_b == pytest.approx(se_a, abs=1e-12)
    n = con.sql("select count(*) from m where data_source = 'survey:sample_city'").fetchall()[0][0]
    assert tuple(c[0] for c in m.description) == MEASURES_COLUMNS  # the partition keeps the table's columns
    city = con.sql("select estimate, std_error, design_df from m where data_source = 'survey:sample_city' "
                   "and measure = 'incidence_survey' and region_level = 'city' and line_name = 'national'").fetchall()[0]
    con.close()
    # the report shows the design where present: its 其他抽样调查 rows read back from page and workbook
    from pipelines.report.pipeline import run as report

    out = tmp_path / "report"
    report(processed, period, out, policy=without_pngs())  # no PNGs (tests/report_runs.py)
    page = (out / "summary.html").read_text(encoding="utf-8")
    assert "各抽样调查设计的估计" in page and "晋城市住户抽样调查" in page
    rows = pd.read_excel(out / "summary.xlsx", sheet_name="其他抽样调查", header=None)
    header = next(i for i, r in rows.iterrows() if "调查" in list(r))
    table = pd.read_excel(out / "summary.xlsx", sheet_name="其他抽样调查", header=header)
    national = table[table["标准值(元/人/年)"] == 4000].iloc[0]
    assert national["调查"] == "晋城市住户抽样调查"
    assert national["贫困发生率"] == pytest.approx(city[0], abs=1e-12)
    assert national["标准误"] == pytest.approx(city[1], abs=1e-12) and national["自由度"] == city[2]
    measures(processed, period)
    con = duckdb.connect()
    assert con.sql(f"select count(*) from {warehouse.scan(processed, 'measures', period)} "
                   "where data_source = 'survey:sample_city'").fetchall()[0][0] == n
    con.close()


def test_the_stage_design_and_the_ingest_aliases_cannot_drift_apart():
    with pytest.raises(PolicyError, match=r"sample_city.toml \[columns\].county_code.aliases: .* differ from "
                                          r"config/header_aliases.toml \[survey\].county_code"):
        load_policy(overrides={"surveys": {"sample_city": {"columns": {"county_code": {"aliases": ["县代码", "县码"]}}}}})
    with pytest.raises(PolicyError, match=r"\[columns\].province: not a column of config/header_aliases.toml \[survey\]"):
        load_policy(overrides={"surveys": {"sample_city": {"columns": {"province": {"aliases": ["省"]}}}}})


def test_change_from_the_previous_quarter_with_its_standard_error(tmp_path):
    """Two independent quarterly samples: the change's SE is the root of the two variances."""
    raw = tmp_path / "raw"
    _write(raw)
    earlier = raw / "foreign" / "2020Q1" / "hbs.csv"
    earlier.parent.mkdir(parents=True)
    lower = [(r[0], r[1], r[2], r[3], str(int(r[4]) - 500) if r[4] else "", r[5], r[6]) for r in ROWS]
    earlier.write_text(HEADER + "".join(",".join(f'"{c}"' if "," in c else c for c in r) + ",\n" for r in lower),
                       encoding="utf-8")
    policy = _policy()
    survey.run(raw, tmp_path / "p1", "foreign", "2020Q1", policy=policy)
    survey.run(raw, tmp_path / "p2", "foreign", PERIOD, policy=policy, previous="2020Q1")
    con = duckdb.connect()
    before = dict(con.sql(f"select measure || ' ' || coalesce(line_name, ''), std_error from "
                          f"{warehouse.scan(tmp_path / 'p1', 'measures', '2020Q1')} where region_level = 'country'").fetchall())
    m = con.sql(f"select * from {warehouse.scan(tmp_path / 'p2', 'measures', PERIOD)}")
    now = dict(con.sql("select measure || ' ' || coalesce(line_name, ''), std_error from m "
                       "where region_level = 'country'").fetchall())
    diff = {r[0]: r[1:] for r in con.sql("select measure || ' ' || coalesce(line_name, ''), estimate, std_error, "
                                         "ci_low, region_code, design_df from m where region_level = 'difference'"
                                         ).fetchall()}
    est, se, ci_low, code, df = diff["mean_income "]
    assert code == "2020Q2-2020Q1" and est == pytest.approx(500.0)
    assert se == pytest.approx((now["mean_income "] ** 2 + before["mean_income "] ** 2) ** 0.5, rel=1e-9)
    assert df == 2 * (7 - 2)
    # P0 at 4000: h05 (3900) was poor in both quarters; 4300 fell to 3800 before -> the change is negative
    est, se, ci_low, *_ = diff["fgt0 national"]
    assert est < 0 and ci_low < est  # a difference's interval is not truncated at 0
    con.close()


def test_staging_sql_of_any_design_is_portable_to_spark():
    """tests/test_models.py renders svy_stage with the sample city's design (numbers and text);
    the yes/no branch of another design must transpile too."""
    import sqlglot
    from sqlglot import ErrorLevel

    sql = nodes.GRAPH.render("svy_stage", survey.stage_context(_policy().surveys["foreign"]))
    assert "svy_yes_no" in sql
    spark = sqlglot.transpile(sql, read="duckdb", write="spark", unsupported_level=ErrorLevel.RAISE)
    assert len(spark) == 1
    with pytest.raises(PolicyError, match=r"\[survey\].lonely_psu: 'certainty' differs from "
                                          r"config/surveys/sample_city.toml \[design\].lonely_psu"):
        load_policy(overrides={"measures": {"survey": {"lonely_psu": "certainty"}}})
