"""Stata / SPSS values as the text ingest loads (readers._as_text), and cells into Arrow
(nodes.text_array): the bulk paths give, cell for cell, what the per-cell rule gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines.ingest import readers
from pipelines.ingest.nodes import text_array


def per_cell_float(v):
    """The rule, one cell at a time: NaN -> None, whole -> digits, else repr()."""
    return None if v != v else (str(int(v)) if float(v).is_integer() else repr(float(v)))


FLOATS = [3.0, 2.5, float("nan"), -0.0, -7.0, 0.1, 1e-05, 123456789012.0, 2.0 ** 53, 2.0 ** 53 + 2,
          1.40525198202e17, 1e20, float("inf"), float("-inf"), 9007199254740991.0]


def test_floats_as_text_by_hand():
    got = list(readers._floats_as_text(np.array(FLOATS)))
    assert got == ["3", "2.5", None, "0", "-7", "0.1", "1e-05", "123456789012", "9007199254740992",
                   "9007199254740994", "140525198202000000", "100000000000000000000", "inf", "-inf",
                   "9007199254740991"]
    assert got == [per_cell_float(v) for v in FLOATS]
    assert all(type(v) is str for v in got if v is not None)


@pytest.mark.parametrize("values, expected", [
    (["张三", None, float("nan"), "", " 1 "], ["张三", None, None, "", " 1 "]),  # text: taken as it is
    ([1, "a", None, 2.5], ["1", "a", None, "2.5"]),  # not all text: str() per cell
    ([None, None], [None, None]),
    (["a", pd.NaT], ["a", "NaT"]),  # a missing value that is not None/NaN: the per-cell rule
])
def test_objects_as_text(values, expected):
    assert list(readers._objects_as_text(np.array(values, dtype=object))) == expected


def test_a_frame_as_text_by_dtype():
    frame = pd.DataFrame({"a": [1.0, np.nan], "b": pd.Series([1, 2], dtype="int16"), "c": ["x", None]})
    out = readers._as_text(frame)
    assert out.to_dict("list") == {"a": ["1", None], "b": ["1", "2"], "c": ["x", None]}


@pytest.mark.parametrize("values", [
    ["a", None, float("nan"), "中文"], [1, None, 2.5, "x", True], [1.0, float("nan")], [],
])
def test_text_array_equals_the_per_cell_rule(values):
    column = pd.Series(values, dtype=object)
    assert text_array(column).to_pylist() == [None if v is None or v != v else str(v) for v in values]
