import json

from dash import html

from dashboard import ids
from dashboard.http.territory import map_payload
from dashboard.layouts.wall import wall_page as _wall_page
from dashboard.views.wall import big_number, map_bounds, territory_summary
from tests.components import by_id, walk
from tests.factories import ZONE

SQUARE = {"type": "Polygon", "coordinates": [[[111.28, 30.69], [111.29, 30.69], [111.29, 30.70], [111.28, 30.70],
                                              [111.28, 30.69]]]}


def _fc(*features):
    return {"type": "FeatureCollection", "features": list(features)}


def _area(code, name, households, population):
    return {"type": "Feature", "geometry": SQUARE,
            "properties": {"code": code, "name": name, "households": households, "population": population}}


LAYERS = {
    "district": _fc(_area("D01", "临湾区", 0, 0)),
    "grid": _fc(_area("G1", "一网格", 320, 900), _area("G2", "二网格", 1_380, 4_100)),
}


def wall_page(layers, **kw):
    return _wall_page(territory_summary(layers)["name"], map_bounds(layers), timezone=ZONE, **kw)








def _texts(tree):
    return [c for c in walk(tree) if isinstance(c, str)] + [
        c.children for c in walk(tree) if isinstance(getattr(c, "children", None), str)]


def test_territory_figures_add_up_the_grids():
    assert territory_summary(LAYERS) == {"name": "临湾区", "grids": 2, "households": 1_700, "population": 5_000}
    assert territory_summary({}) == {"name": None, "grids": 0, "households": 0, "population": 0}


def test_the_map_fits_the_district():
    assert map_bounds(LAYERS) == [[30.69, 111.28], [30.70, 111.29]]
    assert map_bounds({}) is None


def test_big_numbers_are_grouped():
    assert big_number(95958) == "95,958"


def _config(page):
    return json.loads(by_id(page, ids.PAGE_CONFIG).to_plotly_json()["props"]["data-config"])


def test_the_wall_speaks_chinese_first():
    page = wall_page(LAYERS)
    texts = _texts(page)
    assert "网格化治理指挥中心" in texts and "临湾区" in texts
    assert "紧急待办" in texts and "实时事件" in texts and "超时案件" in texts
    config = _config(page)
    assert config["lang"] == "zh" and config["categories"]["env.garbage"] == "暴露垃圾"
    assert config["steps"]["dispatched"] == "处置中" and config["steps"]["parked"] == "挂账"


def test_the_wall_in_english():
    page = wall_page(LAYERS, lang="en")
    texts = _texts(page)
    assert "Grid Governance Command Centre" in texts and "Live events" in texts and "Most urgent" in texts
    assert _config(page)["steps"]["reported"] == "Verify"


def test_three_columns_kpis_left_map_centre_queue_and_ticker_right():
    body = next(c for c in walk(wall_page(LAYERS)) if getattr(c, "className", None) == "wall-body")
    left, centre, right = body.children
    assert left.id == ids.KPI_PANEL
    assert {ids.MAP, ids.GRID_CARD, ids.TRAIL_INFO, ids.LAYER_TOGGLES} <= {getattr(c, "id", None) for c in walk(centre)}
    inside = [getattr(c, "id", None) for c in walk(right)]
    assert inside.index(ids.COUNT_PATROLS) < inside.index(ids.QUEUE) < inside.index(ids.TICKER)


def test_the_title_bar_switches_language_and_marks_the_current_one():
    links = by_id(wall_page(LAYERS, lang="en"), ids.LANG_SWITCH).children
    assert [(a.href, "active" in a.className) for a in links] == [("/?lang=zh", False), ("/?lang=en", True)]


def test_every_map_layer_can_be_toggled_and_starts_shown():
    toggles = by_id(wall_page(LAYERS), ids.LAYER_TOGGLES)
    assert toggles.value == [o["value"] for o in toggles.options] == ["grids", "cases", "patrols", "cameras", "roads"]
    assert [o["label"] for o in toggles.options][:2] == ["网格", "案件"]


def test_the_map_script_gets_the_grids_cameras_roads_and_outlines():
    layers = {**LAYERS, "community": _fc({"type": "Feature", "geometry": SQUARE,
                                          "properties": {"code": "C1", "name": "东湖社区"}})}
    layers["grid"]["features"][0]["properties"]["parent"] = "C1"
    payload = map_payload(layers, [{"id": "CAM1", "lat": 30.69, "lon": 111.28, "grid": "G1"}])
    assert [(g["code"], g["name"], g["community"]) for g in payload["grids"]] == [("G1", "一网格", "东湖社区"),
                                                                                  ("G2", "二网格", None)]
    assert payload["grids"][0]["geometry"] == SQUARE and payload["cameras"][0]["id"] == "CAM1"
    assert payload["outlines"]["district"] == LAYERS["district"]
    assert payload["roads"]["arterial"] == {"type": "FeatureCollection", "features": []}  # none in this district


def test_the_map_script_gets_marker_shapes_and_the_on_duty_window():
    config = _config(wall_page(LAYERS, on_duty_s=120))
    assert config["onDutyMs"] == 120_000
    shapes = [g["shape"] for g in config["groups"]]
    assert len(set(shapes)) == len(shapes) and config["groups"][0] == {"code": "env", "label": "市容环境",
                                                                       "shape": "circle"}


def test_live_figures_start_as_a_dash_not_a_zero():
    page = wall_page(LAYERS)
    for cid in (ids.COUNT_PATROLS, ids.COUNT_OPEN_CASES, ids.COUNT_OVERDUE):
        assert by_id(page, cid).children == "—"


def test_the_map_needs_no_tile_server_unless_one_is_configured():
    layers_of = lambda page: [type(c).__name__ for c in by_id(page, ids.MAP).children]  # noqa: E731
    assert "TileLayer" not in layers_of(wall_page(LAYERS))
    assert layers_of(wall_page(LAYERS, tile_url="http://tiles.local/{z}/{x}/{y}.png"))[0] == "TileLayer"


def test_an_empty_district_still_renders():
    page = wall_page({})
    assert isinstance(page, html.Div)
    assert by_id(page, ids.MAP).bounds  # a default view, not a crash
    assert map_payload({}, [])["grids"] == []


def test_the_wall_is_made_of_components_its_page_loads_without_dash_s_polyfill():
    from dash import dcc
    from dash.development.base_component import Component

    from dashboard.http.wallindex import WALL_COMPONENTS
    from dashboard.layouts.drill import drill_banner, drill_wall_figures

    trees = [wall_page(LAYERS, tile_url="http://tiles.local/{z}/{x}/{y}.png"), drill_banner("台风演练", "zh"),
             drill_wall_figures("typhoon-t1", "zh"), dcc.Store(id="live"), dcc.Location(id="where")]
    used = {(c._namespace, c._type) for tree in trees for c in walk(tree) if isinstance(c, Component)}
    assert used and all(ns in WALL_COMPONENTS or f"{ns}.{kind}" in WALL_COMPONENTS for ns, kind in used), used


def test_the_wall_page_goes_without_the_polyfill_and_the_table_loader_other_pages_keep_them():
    from dashboard.http.wallindex import SKIPPED_ON_WALL, without_scripts

    scripts = "\n".join([
        '<script src="/_dash-component-suites/dash/deps/polyfill@7.v4_4_1m1.12.1.min.js"></script>',
        '<script src="/_dash-component-suites/dash/deps/react@18.v4_4_1m1.3.1.min.js"></script>',
        '<script src="/assets/wall.js?m=1"></script>',
        '<script src="/_dash-component-suites/dash/dash_table/bundle.v7_4_1m1.js"></script>',
        "<script>", 'var polyfill = "/dash/deps/polyfill@";', "</script>",
    ])
    lean = without_scripts(scripts, SKIPPED_ON_WALL).split("\n")
    assert [line for line in lean if "src=" in line] == [scripts.split("\n")[1], scripts.split("\n")[2]]
    assert lean[-3:] == ["<script>", 'var polyfill = "/dash/deps/polyfill@";', "</script>"]


def test_a_wall_in_a_drill_joins_its_room_and_shows_its_own_figures():
    page = wall_page(LAYERS, drill="DR-7")
    config = json.loads(getattr(by_id(page, ids.PAGE_CONFIG), "data-config"))
    assert config["drill"] == "DR-7" and "in-drill" in page.className
    assert by_id(page, ids.DRILL_WALL_ID).data == "DR-7"
    assert by_id(page, ids.DRILL_WALL_KPIS) is not None
    live = wall_page(LAYERS)
    assert "drill" not in json.loads(getattr(by_id(live, ids.PAGE_CONFIG), "data-config"))
    assert not any(getattr(c, "id", None) == ids.DRILL_WALL_ID for c in walk(live))


def test_the_kpi_panel_links_each_figure_to_its_evidence_only_when_asked():
    from dashboard.layouts.kpi_panel import kpi_body

    def links(body) -> list[str]:
        return [c.href for part in body for c in walk(part) if isinstance(c, html.A)]

    assert links(kpi_body(None, "zh")) == []  # a kiosk: no way to the cases
    hrefs = links(kpi_body(None, "zh", linked=True))
    assert "/leader?period=today&evidence=discovery_timeliness" in hrefs
    assert "/leader?period=month&evidence=on_time_closure" in hrefs and len(hrefs) == 12  # six figures × two periods
    assert all(h.endswith("&lang=en") for h in links(kpi_body(None, "en", linked=True)))
