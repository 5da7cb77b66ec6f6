import pytest

from feeds.calendar import Limit, LimitUnit
from feeds.categories import CATEGORIES
from feeds.taxonomy import STEPS, TaxonomyError, build, load, parse_limit

HOURS, DAYS, CALENDAR = LimitUnit.WORKING_HOURS, LimitUnit.WORKING_DAYS, LimitUnit.CALENDAR_HOURS


def test_the_shipped_taxonomy_is_complete():
    tax = load()
    assert len(tax.classes) >= 8 and len(tax.categories) >= 40
    assert {c["kind"] for c in tax.classes.values()} == {"event", "component"}
    for category in tax.categories.values():
        assert category.department in tax.departments
        for urgency in ("normal", "urgent"):
            assert set(category.limits[urgency]) == set(STEPS)
    assert list(tax.steps.values()) == ["核实", "立案", "派遣", "处置", "核查", "结案"]


def test_a_sub_class_inherits_or_overrides_its_class():
    tax = load()
    garbage, manhole = tax["env.garbage"], tax["facility.manhole"]
    assert (garbage.department, garbage.class_zh) == ("sanitation", "市容环境")
    assert garbage.limit("handle", urgent=False) == Limit(1, DAYS)
    assert garbage.limit("handle", urgent=True) == Limit(4, CALENDAR)
    assert manhole.department == "water" and manhole.limit("handle", urgent=False) == Limit(4, HOURS)
    assert tax["road.pothole"].limit("handle", urgent=False) == Limit(5, DAYS)  # "难事不过周"


def test_the_simulators_report_only_categories_of_the_taxonomy():
    from simulators.incidents import KINDS as SIMULATED

    assert {c.code for c in SIMULATED} <= set(load().categories)
    assert CATEGORIES["env.garbage"].zh == "暴露垃圾"  # the wall's labels come from the taxonomy


def test_the_documentation_lists_every_category():
    from feeds.store.engine import ROOT

    doc = (ROOT / "docs" / "taxonomy.md").read_text()
    assert [code for code in load().categories if f"`{code}`" not in doc] == []


def test_limits_are_written_as_amount_and_unit():
    assert parse_limit("0.5h", "x") == Limit(0.5, CALENDAR)
    assert parse_limit("2wd", "x") == Limit(2, DAYS)
    with pytest.raises(TaxonomyError, match=r"env.normal.handle: '2 days' is not a limit"):
        parse_limit("2 days", "env.normal.handle")


def _one_class(**overrides):
    limits = dict.fromkeys(STEPS, "1wh")
    cls = {"code": "env", "kind": "event", "zh": "市容", "en": "env", "department": "sanitation",
           "normal": limits, "urgent": limits, "sub": [{"code": "env.garbage", "zh": "垃圾", "en": "garbage"}]}
    cls.update(overrides)
    return {"departments": {"sanitation": "环卫"}, "class": [cls]}


@pytest.mark.parametrize("change, message", [
    ({"normal": {"verify": "1wh"}}, r"env.normal: missing steps \['register'"),
    ({"department": "nobody"}, r"env.garbage: unknown department 'nobody'"),
    ({"sub": [{"code": "order.x", "zh": "x", "en": "x"}]}, r"'order.x' is not under its class 'env'"),
    ({"kind": "thing"}, r"kind must be 'event' or 'component'"),
])
def test_a_broken_taxonomy_is_refused_with_where_and_why(change, message):
    with pytest.raises(TaxonomyError, match=message):
        build(_one_class(**change))
