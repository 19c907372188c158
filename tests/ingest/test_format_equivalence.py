"""The same county export written in every format a county may send — xlsx with a title row and
merged household cells, CSV in UTF-8 with BOM and in GB18030, Stata .dta, SPSS .sav, Parquet — and
with the header spellings of another county, loads to the same canonical tables."""

from __future__ import annotations

import shutil

import duckdb
import pandas as pd
import pytest

from pipelines.ingest.pipeline import run
from pipelines.synth import writers
from pipelines.warehouse import scan

PERIOD = "2020Q2"
COUNTY_FILE = "140502_城区_建档立卡人口_2020Q2.csv"  # written as UTF-8 with BOM, standard headers
# header spellings other counties use (config/header_aliases.toml)
VARIANT_HEADERS = {"县(市、区)": "县区", "证件号码": "身份证号码", "人数": "家庭人口数",
                   "务工时间（月）": "务工时间", "脱贫状态": "脱贫属性"}
LAYOUTS = [  # (format, title row, header variant, merged household cells)
    ("csv-utf8-bom", None, False, False),
    ("csv-gb18030", None, True, False),
    ("csv-utf8", None, False, False),
    ("xlsx", "城区建档立卡贫困人口信息表", True, True),
    ("dta", None, False, False),
    ("sav", None, True, False),
    ("parquet", None, False, False),
]
SOURCE_COLUMNS = {"source_file", "source_row", "sheet", "source_kind"}


@pytest.fixture(scope="module")
def county_frame(small_city) -> pd.DataFrame:
    path = small_city / "raw" / "registry" / PERIOD / COUNTY_FILE
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return frame


def _canonical(processed, table: str, key: list[str]) -> pd.DataFrame:
    frame = duckdb.sql(f"select * from {scan(processed, table, PERIOD)}").df()
    frame = frame.drop(columns=[c for c in frame.columns if c in SOURCE_COLUMNS])
    return frame.sort_values(key).reset_index(drop=True)


@pytest.fixture(scope="module")
def loaded(county_frame, small_city, tmp_path_factory) -> dict[str, dict[str, pd.DataFrame]]:
    out = {}
    for fmt, title, variant, merged in LAYOUTS:
        root = tmp_path_factory.mktemp(fmt)
        shutil.copytree(small_city / "raw" / "reference", root / "raw" / "reference")
        frame = county_frame.rename(columns=VARIANT_HEADERS) if variant else county_frame
        path = root / "raw" / "registry" / PERIOD / f"140502_城区_export.{writers.EXTENSIONS[fmt]}"
        path.parent.mkdir(parents=True)
        writers.write_export(frame, path, fmt, title=title,
                             merge_columns=["户编号", "贫困户属性"] if merged else None)
        run(raw_dir=root / "raw", processed_dir=root / "processed", periods=[PERIOD])
        processed = root / "processed"
        out[fmt] = {"persons": _canonical(processed, "persons", ["person_key"]),
                    "households": _canonical(processed, "households", ["household_key"]),
                    "manifest": duckdb.sql(f"select * from {scan(processed, 'ingest_manifest')} "
                                           f"where source_kind = 'registry'").df()}
    return out


@pytest.mark.parametrize("fmt", [layout[0] for layout in LAYOUTS[1:]])
def test_every_format_loads_to_the_same_tables(loaded, county_frame, fmt):
    reference = loaded[LAYOUTS[0][0]]
    assert len(reference["persons"]) > 50  # a real county file, not an empty one
    for table in ("persons", "households"):
        pd.testing.assert_frame_equal(loaded[fmt][table], reference[table], check_dtype=False, obj=f"{fmt} {table}")
    manifest = loaded[fmt]["manifest"].iloc[0]
    assert manifest.rows_read == len(county_frame)
    assert manifest.rows_read == manifest.rows_loaded + manifest.rows_quarantined
