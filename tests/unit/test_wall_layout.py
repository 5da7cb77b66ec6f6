import json

from dash import html

from dashboard import ids
from dashboard.layouts.wall import wall_page
from dashboard.presenters import big_number, map_bounds, territory_summary

SQUARE = {"type": "Polygon", "coordinates": [[[111.28, 30.69], [111.29, 30.69], [111.29, 30.70], [111.28, 30.70], [111.28, 30.69]]]}


def _fc(*features):
    return {"type": "FeatureCollection", "features": list(features)}


def _area(code, name, households, population):
    return {"type": "Feature", "geometry": SQUARE,
            "properties": {"code": code, "name": name, "households": households, "population": population}}


LAYERS = {
    "district": _fc(_area("D01", "临湾区", 0, 0)),
    "grid": _fc(_area("G1", "一网格", 320, 900), _area("G2", "二网格", 1_380, 4_100)),
}


def _walk(component):
    yield component
    children = getattr(component, "children", None)
    if isinstance(children, (list, tuple)):
        for c in children:
            yield from _walk(c)
    elif children is not None and not isinstance(children, str):
        yield from _walk(children)


def _by_id(tree, cid):
    return next(c for c in _walk(tree) if getattr(c, "id", None) == cid)


def _texts(tree):
    return [c for c in _walk(tree) if isinstance(c, str)] + [
        c.children for c in _walk(tree) if isinstance(getattr(c, "children", None), str)]


def test_territory_figures_add_up_the_grids():
    assert territory_summary(LAYERS) == {"name": "临湾区", "grids": 2, "households": 1_700, "population": 5_000}
    assert territory_summary({}) == {"name": None, "grids": 0, "households": 0, "population": 0}


def test_the_map_fits_the_district():
    assert map_bounds(LAYERS) == [[30.69, 111.28], [30.70, 111.29]]
    assert map_bounds({}) is None


def test_big_numbers_are_grouped():
    assert big_number(95958) == "95,958"


def test_the_wall_speaks_chinese_first():
    page = wall_page(LAYERS)
    texts = _texts(page)
    assert "网格化治理指挥中心" in texts and "临湾区" in texts
    assert "实时态势" in texts and "实时事件" in texts and "1,700" in texts
    config = json.loads(_by_id(page, ids.PAGE_CONFIG).to_plotly_json()["props"]["data-config"])
    assert config["lang"] == "zh" and config["categories"]["env.garbage"] == "暴露垃圾"


def test_the_wall_in_english():
    texts = _texts(wall_page(LAYERS, lang="en"))
    assert "Grid Governance Command Centre" in texts and "Live events" in texts


def test_live_figures_start_as_a_dash_not_a_zero():
    page = wall_page(LAYERS)
    for cid in (ids.COUNT_PATROLS, ids.COUNT_OPEN_CASES, ids.COUNT_INCIDENTS, ids.COUNT_ALERTS, ids.COUNT_REJECTED):
        assert _by_id(page, cid).children == "—"


def test_the_map_needs_no_tile_server_unless_one_is_configured():
    import dash_leaflet as dl

    layers_of = lambda page: [type(c).__name__ for c in _by_id(page, ids.MAP).children]  # noqa: E731
    assert "TileLayer" not in layers_of(wall_page(LAYERS))
    assert layers_of(wall_page(LAYERS, tile_url="http://tiles.local/{z}/{x}/{y}.png"))[0] == "TileLayer"
    grid_layer = _by_id(wall_page(LAYERS), "layer-grid")
    assert isinstance(grid_layer, dl.GeoJSON) and len(grid_layer.data["features"]) == 2


def test_an_empty_district_still_renders():
    page = wall_page({})
    assert isinstance(page, html.Div)
    assert _by_id(page, ids.MAP).bounds  # a default view, not a crash
