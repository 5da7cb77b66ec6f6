"""HTTP endpoints of the wall map: a grid's card and a patrol's trail of the last hour, read on a click."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, Response, abort, jsonify, request
from sqlalchemy.engine import Engine

from dashboard.http.territory import TerritoryCache
from dashboard.i18n import LANGS
from dashboard.views.wall import grid_card_view, trail_view
from feeds.kpis.figures import KpiRules
from feeds.settings import Settings
from feeds.taxonomy import load as load_taxonomy
from feeds.wall.gridcard import grid_facts
from feeds.wall.trails import trail

GRID_PATH = "/api/wall/grid/<code>"
TRAIL_PATH = "/api/wall/trail/<unit>"
TERRITORY_PATH = "/api/wall/territory"
TRAIL_SPAN = timedelta(hours=1)


def attach(server: Flask, engine: Engine, settings: Settings, territory: TerritoryCache) -> None:
    rules = KpiRules(load_taxonomy(), settings.working_calendar())

    def _json(data: Any) -> Any:
        response = jsonify(data)
        response.headers["Cache-Control"] = "no-store"
        return response

    @server.get(TERRITORY_PATH)
    def _territory() -> Any:
        return Response(territory.get().body, mimetype="application/json", headers={"Cache-Control": "no-store"})

    @server.get(GRID_PATH)
    def _grid(code: str) -> Any:
        lang = request.args.get("lang", "zh")
        lang = lang if lang in LANGS else "zh"
        with engine.connect() as conn:
            facts = grid_facts(conn, rules, code, datetime.now(UTC))
        if facts is None:
            abort(404)
        return _json(grid_card_view(facts, lang))

    @server.get(TRAIL_PATH)
    def _trail(unit: str) -> Any:
        now = datetime.now(UTC)
        with engine.connect() as conn:
            found = trail(conn, unit, now - TRAIL_SPAN, now + timedelta(seconds=settings.future_tolerance_s))
        return _json(trail_view(found))
