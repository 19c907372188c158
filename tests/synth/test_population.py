"""Population and dynamics functions on tiny inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines import idcard
from pipelines.synth import dynamics, population as pop


def test_id_numbers_valid_and_unique_across_chunks():
    counter = np.zeros(2 * pop.MAX_DAYS * 2, dtype=np.int64)
    birth = np.array(["1980-01-01"] * 30 + ["2000-02-29"] * 10, dtype="datetime64[D]")
    male = np.arange(40) % 2 == 0
    ids = []
    for _ in range(2):  # two chunks with the same birth dates
        k = pop.id_sequence_numbers(np.zeros(40, dtype=int), birth, male, counter)
        ids.extend(pop.id_numbers(np.full(40, 140502), birth, male, k))
    assert len(set(ids)) == 80
    assert all(idcard.is_valid(i) for i in ids)
    assert [idcard.sex(i) == "male" for i in ids[:40]] == list(male)
    assert {idcard.birth_date(i).isoformat() for i in ids} == {"1980-01-01", "2000-02-29"}


def test_birth_dates_give_exact_age():
    ages = np.array([0, 1, 15, 16, 80])
    birth = pop.birth_dates(ages, np.datetime64("2020-12-31"), np.random.default_rng(0))
    assert (dynamics.completed_years(birth, np.datetime64("2020-12-31")) == ages).all()


def test_completed_years_at_birthday_edges():
    birth = np.array(["2004-01-01", "2003-12-31", "2004-04-01"], dtype="datetime64[D]")
    assert dynamics.completed_years(birth, np.datetime64("2019-12-31")).tolist() == [15, 16, 15]


def test_village_codes_follow_the_code_scheme():
    from pipelines.config import CONFIG_DIR, load_toml

    tw = pd.read_csv(CONFIG_DIR / "regions" / "townships.csv", dtype=str)
    co = pd.read_csv(CONFIG_DIR / "regions" / "counties.csv", dtype=str)
    v = pop.build_villages(tw, co, load_toml("synth"), np.random.default_rng(1))
    assert v["village_code"].str.fullmatch(r"\d{12}").all() and v["village_code"].is_unique
    part = v["village_code"].str[9:].astype(int)
    assert part[v["committee"]].between(1, 199).all() and part[~v["committee"]].between(200, 399).all()
    street = v["township_code"].str[6:9].astype(int) < 100
    assert not v.loc[~street, "committee"].any()
    assert v.groupby("township_code").size().between(10, 19).all()
    assert set(v["township_code"]) == set(tw["code"])
    assert (v["village_name"].str.endswith("村委会") | v["village_name"].str.endswith("居委会")).all()


def test_relations_and_ages_by_role():
    rng = np.random.default_rng(2)
    from pipelines.config import load_toml

    shape = pop.draw_household_shape(2000, load_toml("synth"), rng)
    members = pop.expand_members(shape)
    ages = pop.member_ages_and_sex(members, shape, rng)
    m = pd.concat([members, ages], axis=1)
    assert (m.groupby("hh")["role"].first() == pop.ROLE_HEAD).all()
    head = m[m["role"] == pop.ROLE_HEAD].set_index("hh")
    kids = m[m["role"] == pop.ROLE_CHILD]
    assert (kids["age_ref"].to_numpy() + 19 <= head.loc[kids["hh"], "age_ref"].to_numpy()).all()
    sp = m[m["role"] == pop.ROLE_SPOUSE]
    assert (sp["male"].to_numpy() != head.loc[sp["hh"], "male"].to_numpy()).all()
    labels = pop.relation_labels(m["role"].to_numpy(), m["male"].to_numpy())
    assert set(labels) <= {"户主", "配偶", "之父", "之母", "之子", "之女", "之孙子", "之孙女"}
    assert 2.7 < len(m) / len(shape) < 3.6


def test_school_and_education_exactly_one():
    age = np.arange(0, 90)
    school, edu = dynamics.school_and_education(age, np.full(90, 0.9), np.full(90, 0.5), {"person": {
        "senior_school_share": 0.8, "tertiary_share": 0.35, "preschool_education_share": 0.85}})
    assert ((school != "") ^ (edu != "")).all()
    assert (school[6:16] != "").all() and school[16] == ""


@pytest.mark.parametrize("period,end", [("2019Q4", "2019-12-31"), ("2020Q1", "2020-03-31"), ("2020Q2", "2020-06-30")])
def test_period_end(period, end):
    assert dynamics.period_end(period) == np.datetime64(end)


def test_rare_characters_not_gbk():
    from pipelines.config import load_toml

    for ch in load_toml("synth")["person"]["rare_chars"]:
        ch.encode("gb18030")
        with pytest.raises(UnicodeEncodeError):
            ch.encode("gbk")


def test_planted_ids_scale_with_the_city_and_never_collide():
    """Planted persons (edge-case births, names-only damage) draw from the reserved sequence range
    per (county, birth date, sex): a city needing more than 50 of them (e.g. 100 000 households in
    the county formats) no longer exhausts one city-wide range; only the 51st planted person of
    one county, birth date and sex does."""
    counters = pop.new_counters(1, 2)
    births = np.array(["1950-01-01", "1950-01-02", "2014-09-01"], dtype="datetime64[D]")
    planted = [pop.planted_person(county, b, male, counters)
               for county in ("140502", "140521") for b in births for male in (True, False) for _ in range(50)]
    assert len(planted) == 600 and len(set(planted)) == 600  # 12 groups x 50, was capped at 50 in all
    assert all(idcard.is_valid(i) for i in planted)
    # generated IDs of the same groups use k < PLANTED_K_FROM: no collision
    k = pop.id_sequence_numbers(np.zeros(40, dtype=int), np.repeat(births[:1], 40), np.arange(40) % 2 == 0,
                                counters["id"])
    generated = pop.id_numbers(np.full(40, 140502), np.repeat(births[:1], 40), np.arange(40) % 2 == 0, k)
    assert not set(generated) & set(planted)
    with pytest.raises(ValueError, match="140502, born 1950-01-01, male"):
        pop.planted_person("140502", births[0], True, counters)
