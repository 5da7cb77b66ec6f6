from datetime import UTC, datetime

from dashboard.views.wall import grid_card_view, step_labels, trail_view
from feeds.kpis.figures import Rate
from feeds.wall.gridcard import GridFacts
from feeds.wall.trails import Trail

FACTS = GridFacts("G1", "一网格", "东湖社区", (("grid_worker", "王伟"), ("grid_chief", "李娜"), ("auditor", "赵敏")),
                  {"camera": 3, "street_light": 1204, "manhole": 0, "hydrant": 2}, Rate(3, 4), 320, 12_345)


def test_a_grid_card_labels_people_and_assets_in_the_language_of_the_screen():
    card = grid_card_view(FACTS, "zh")
    assert card["name"] == "一网格" and card["community"] == "东湖社区"
    assert card["people"] == [{"role": "网格员", "name": "王伟"}, {"role": "网格长", "name": "李娜"},
                              {"role": "auditor", "name": "赵敏"}]  # an unknown role is shown as it is
    assert card["assets"] == [{"kind": "摄像头", "count": "3"}, {"kind": "路灯", "count": "1,204"},
                              {"kind": "井盖", "count": "0"}, {"kind": "消火栓", "count": "2"}]
    assert card["coverage"] == "75.0%" and card["population"] == "12,345"
    assert grid_card_view(FACTS, "en")["assets"][2]["kind"] == "Manhole covers"


def test_a_grid_without_patrol_cells_due_shows_a_dash_for_coverage():
    facts = GridFacts("G2", "二网格", None, (), {}, Rate(0, 0), 0, 0)
    card = grid_card_view(facts, "en")
    assert card["coverage"] == "—" and card["community"] == "" and card["people"] == []


def test_open_states_are_labelled_by_the_step_they_wait_for():
    assert step_labels("zh") == {"reported": "待核实", "verified": "待立案", "registered": "待派遣",
                                 "dispatched": "处置中", "handled": "待核查", "checked": "待结案", "parked": "挂账"}


def test_a_trail_is_points_oldest_first_as_lists():
    at = int(datetime(2026, 5, 1, 2, tzinfo=UTC).timestamp() * 1000)
    view = trail_view(Trail("P0001", "王伟", ((30.1, 111.2, at), (30.2, 111.3, at + 1000))))
    assert view == {"unit": "P0001", "person": "王伟", "points": [[30.1, 111.2, at], [30.2, 111.3, at + 1000]]}
