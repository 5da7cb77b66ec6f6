"""Who could take a case: the grid's worker, the nearest patrols on duty, the routing table's department."""
from feeds.cases.suggestions import Person, Suggestion, suggestions
from feeds.cases.writes import metres

NOW = 1_800_000_000_000
CASE = {"id": "C1", "lat": 30.6900, "lon": 111.2800, "grid": "G1", "assignee": None, "department": None}
PEOPLE = [
    Person("GW-1", "王芳", "grid_worker", "G1", "U1"),
    Person("GW-2", "李强", "grid_worker", "G2", "U2"),
    Person("GW-3", "张伟", "grid_worker", "G3", "U3"),
    Person("GW-4", "赵敏", "grid_worker", "G4", "U4"),
    Person("GC-1", "刘洋", "grid_chief", "C1", None),
]
# 0.001° of latitude is 110.54 m
PATROLS = {
    "U1": {"lat": 30.6950, "lon": 111.2800, "fix": NOW - 30_000},   # 552.7 m off, heard 30 s ago
    "U2": {"lat": 30.6910, "lon": 111.2800, "fix": NOW - 5_000},    # 110.5 m
    "U3": {"lat": 30.6920, "lon": 111.2800, "fix": NOW - 10_000},   # 221.1 m
    "U4": {"lat": 30.6901, "lon": 111.2800, "fix": NOW - 600_000},  # 11 m, but silent for 10 min: off duty
}
OPEN = [{"assignee": "GW-2", "department": "city_mgmt"}, {"assignee": "GW-2", "department": None},
        {"assignee": "GW-3", "department": "city_mgmt"}]


def test_the_grid_worker_then_the_nearest_on_duty_then_the_department():
    out = suggestions(CASE, PEOPLE, PATROLS, OPEN, ("city_mgmt", "城管"), NOW, nearest=2)
    assert [(s.kind, s.target) for s in out] == [
        ("grid_worker", "GW-1"), ("patrol", "GW-2"), ("patrol", "GW-3"), ("department", "city_mgmt")]
    own, first, second, dept = out
    assert round(own.distance_m, 1) == 552.7 and own.load == 0 and own.seen_s == 30
    assert round(first.distance_m, 1) == 110.5 and first.load == 2 and first.seen_s == 5
    assert round(second.distance_m, 1) == 221.1 and second.load == 1
    assert dept == Suggestion("department", "city_mgmt", "城管", load=2)


def test_people_off_duty_or_without_a_unit_are_not_suggested_as_nearby():
    out = suggestions(CASE, PEOPLE, PATROLS, OPEN, None, NOW, nearest=10)
    assert {s.target for s in out} == {"GW-1", "GW-2", "GW-3"}


def test_the_person_who_has_the_case_is_left_out():
    out = suggestions({**CASE, "assignee": "GW-1"}, PEOPLE, PATROLS, OPEN, None, NOW)
    assert "GW-1" not in {s.target for s in out}


def test_the_department_is_left_out_when_it_already_holds_the_case_with_nobody_named():
    with_department = {**CASE, "department": "city_mgmt"}
    assert "department" not in {s.kind for s in suggestions(with_department, PEOPLE, PATROLS, OPEN, ("city_mgmt",
                                                                                                     "城管"),
                                                              NOW)}
    with_person = {**with_department, "assignee": "GW-1"}  # back to the department: off the person
    assert "department" in {s.kind for s in suggestions(with_person, PEOPLE, PATROLS, OPEN, ("city_mgmt", "城管"), NOW)}


def test_a_grid_worker_off_duty_is_still_suggested_for_their_grid_without_a_distance():
    out = suggestions({**CASE, "grid": "G4"}, PEOPLE, PATROLS, [], None, NOW, nearest=0)
    assert out == [Suggestion("grid_worker", "GW-4", "赵敏", None, 0, None)]


def test_distances_on_the_ground():
    assert round(metres(30.69, 111.28, 30.691, 111.28), 2) == 110.54
    assert round(metres(30.69, 111.28, 30.69, 111.281)) == 96  # a degree of longitude is shorter here
