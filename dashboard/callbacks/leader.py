"""The leader page's callbacks: load the figures (feeds.kpis.load), turn them into view models
(dashboard.views.leader) and components (dashboard.layouts.leader). Nothing is computed here."""
from __future__ import annotations

import logging
from collections.abc import Hashable
from datetime import date, datetime
from typing import Any, NamedTuple

from dash import ALL, ClientsideFunction, Dash, Input, Output, State, ctx, dcc, no_update
from dash.exceptions import PreventUpdate
from sqlalchemy import Connection, func, select

from dashboard import ids
from dashboard.background import every, in_background, off_loop
from dashboard.i18n import t
from dashboard.layouts import leader as layout
from dashboard.services import Services
from dashboard.views import assessment as export
from dashboard.views import evidence as ev
from dashboard.views import leader as lp
from feeds.kpis.figures import AreaFigures, Period
from feeds.kpis.load import (
    CHILD_LEVEL,
    AreaEntry,
    Assessment,
    LeaderFigures,
    area_directory,
    area_evidence,
    area_holders_evidence,
    daily_series,
    figure_evidence,
    holder_evidence,
    leader_figures,
    monthly_assessment,
)
from feeds.store.models import CaseAudit, CaseRow

STALE_S = 60.0  # a page counted this recently is shown at once, with its time, while a new count runs behind it
WARM_S = 20.0  # how often the district's page of the month is counted again (when a case changed) in the server
log = logging.getLogger(__name__)


def cases_mark(conn: Connection) -> tuple[Any, ...]:
    """What changes whenever a case does: its newest audit row, and how many cases there are."""
    return (conn.execute(select(func.max(CaseAudit.id))).scalar(),
            conn.execute(select(func.count()).select_from(CaseRow)).scalar())


class Page(NamedTuple):
    """The leader page of one area and period as of `at`: its head (breadcrumb, period line, cards, the
    sub-areas' note and styles) and its four tables' rows."""
    head: tuple[Any, ...]
    rows: tuple[Any, ...]
    at: datetime


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text[:10]) if text else None


def page_of(services: Services, conn: Connection, directory: dict[str, AreaEntry], area: str, period: Period,
            previous: Period, now: datetime, lang: str, shown_on: Hashable = None,
            stale_s: float = STALE_S) -> tuple[Hashable, Page]:
    """What the page shows of the area and period, and the mark of the data it was made from:
    - the page made on `shown_on` if it is still kept (the tables then match the cards they follow);
    - else the same page made in the last FRESH_S s if no case changed since (a leader's period switch then
      costs no count and no presenting);
    - else the page made in the last `stale_s` s, whose time the period line says, while the page is made
      again behind it (a leader opening the page waits for no count: the district's month is kept made by
      `keep_warm`);
    - else made now."""
    mark, page, _ = _page_and_mark(services, conn, directory, area, period, previous, now, lang, shown_on, stale_s)
    return mark, page


def _page_and_mark(services: Services, conn: Connection, directory: dict[str, AreaEntry], area: str,
                   period: Period, previous: Period, now: datetime, lang: str, shown_on: Hashable = None,
                   stale_s: float = STALE_S) -> tuple[Hashable, Page, Hashable]:
    """`page_of`, and the mark of the data now (None when not asked for: the page made on `shown_on`)."""
    recent = services.leader_pages
    key = (area, period.start, period.end, previous.start, previous.end, lang)
    if shown_on is not None and (kept := recent.latest(key, max(stale_s, recent.fresh_s))) is not None \
            and kept[0] == shown_on:
        return kept[0], kept[1], None
    mark = cases_mark(conn)
    found = recent.get(key, mark)
    if found is not None:
        return mark, found, mark
    if stale_s and (latest := recent.latest(key, stale_s)) is not None:
        recent.ahead(lambda: _made_again(services, area, period, previous, lang), ("again", key))
        return latest[0], latest[1], mark
    found = shown(services, directory, area, period, previous,
                  leader_figures(conn, services.rules, area, period, previous, now), now, lang)
    recent.put(key, mark, found)
    return mark, found, mark


def _made_again(services: Services, area: str, period: Period, previous: Period, lang: str) -> None:
    with services.engine.connect() as conn:
        page_of(services, conn, area_directory(conn), area, period, previous, services.now(), lang, stale_s=0)


def shown(services: Services, directory: dict[str, AreaEntry], area: str, period: Period, previous: Period,
          figures: LeaderFigures, now: datetime, lang: str) -> Page:
    lowest = directory[area].level not in CHILD_LEVEL
    label = " · ".join((lp.period_label(period, lang), t("lv_compared", lang).format(p=lp.period_label(previous, lang)),
                        t("lv_as_of", lang).format(t=now.astimezone(services.zone).strftime("%H:%M:%S"))))
    head = (
        layout.breadcrumb(lp.area_trail(directory, area), lang),
        label,
        lp.card_panel(lp.kpi_cards(figures.current, figures.previous, lang), lang),
        t("lv_no_subareas", lang) if lowest else "",
        {} if lowest else {"display": "none"},
        {"display": "none"} if lowest else layout.GRID_STYLE,
    )
    rows = (
        lp.area_records(lp.area_rows(figures.children, directory)),
        lp.patroller_records(lp.patroller_rows(figures.patrollers)),
        lp.department_records(lp.department_rows(figures.departments, services.taxonomy.departments, lang)),
        lp.area_records(lp.area_rows(figures.grids, directory, by_score=True), ranked=True),
    )
    return Page(head, rows, now)


def register(app: Dash, services: Services) -> None:
    engine, rules = services.engine, services.rules
    zone = rules.calendar.zone

    def other_periods_ahead(area: str, kind: str, lang: str) -> None:
        """Make the area's page for the other periods a leader switches to, in the background."""
        def work() -> None:
            now = services.now()
            with engine.connect() as conn:
                directory = area_directory(conn)
                for other in lp.PERIOD_KINDS:
                    if other not in (kind, "custom"):
                        period = lp.period_for(other, now, zone)
                        page_of(services, conn, directory, area, period, lp.previous_period(other, period), now,
                                lang)
        services.leader_pages.ahead(work, ("others", area, kind, lang))

    app.clientside_callback(ClientsideFunction(namespace="leader", function_name="drawCards"),
                            Output(ids.LEADER_CARDS_DRAWN, "data"), Input(ids.LEADER_CARD_DATA, "data"))
    app.clientside_callback(ClientsideFunction(namespace="leader", function_name="drawTrends"),
                            Output(ids.LEADER_TRENDS_DRAWN, "data"), Input(ids.LEADER_TRENDS, "data"))

    app.clientside_callback(ClientsideFunction(namespace="leader", function_name="refreshStale"),
                            Output(ids.LEADER_REFRESH, "data"), Input(ids.LEADER_SHOWN, "data"),
                            prevent_initial_call=True)
    app.clientside_callback(ClientsideFunction(namespace="leader", function_name="rangeStyle"),
                            Output(ids.LEADER_RANGE, "style"), Input(ids.LEADER_PERIOD, "value"))

    @app.callback(
        Output(ids.LEADER_AREA, "data"),
        Input(ids.LEADER_SUBAREAS, "cellClicked"),
        Input({"type": ids.LEADER_CRUMB, "code": ALL}, "n_clicks"),
        State(ids.LEADER_AREA, "data"),
        prevent_initial_call=True,
    )
    def drill(cell: dict[str, Any] | None, _crumbs: list[int], area: str) -> Any:
        """A click on a sub-area's row drills into it; a click on the breadcrumb goes back up."""
        if ctx.triggered_id == ids.LEADER_SUBAREAS:
            code = (cell or {}).get("rowId")
            return code if isinstance(code, str) and code and code != area else no_update
        if not ctx.triggered_id or not ctx.triggered or not ctx.triggered[0]["value"]:
            return no_update  # crumbs drawn anew, not clicked
        return ctx.triggered_id["code"]

    def period_asked(kind: str, first: str | None, last: str | None) -> tuple[datetime, Period, Period]:
        now = services.now()
        period = lp.period_for(kind, now, zone, _day(first), _day(last))
        return now, period, lp.previous_period(kind, period)

    @app.callback(
        Output(ids.LEADER_BREADCRUMB, "children"),
        Output(ids.LEADER_PERIOD_LABEL, "children"),
        Output(ids.LEADER_CARD_DATA, "data"),
        Output(ids.LEADER_SUBAREA_NOTE, "children"),
        Output(ids.LEADER_SUBAREA_NOTE, "style"),
        Output(ids.LEADER_SUBAREAS, "style"),
        Output(ids.LEADER_SHOWN, "data"),
        Input(ids.LEADER_AREA, "data"),
        Input(ids.LEADER_PERIOD, "value"),
        Input(ids.LEADER_RANGE, "start_date"),
        Input(ids.LEADER_RANGE, "end_date"),
        Input(ids.LEADER_REFRESH, "data"),
        State(ids.LEADER_LANG, "data"),
        State(ids.LEADER_TRENDS, "data"),
    )
    def render(area: str, kind: str, first: str | None, last: str | None, _refresh: Any, lang: str,
               trends_shown: dict[str, Any] | None) -> tuple[Any, ...]:
        """The cards first, in an answer of a few kilobytes: what a leader reads when switching periods. The
        tables follow (`rows`) from the same page, kept in memory. A page made before the last change of a case
        is said so (`stale`): the browser asks again a moment later (LEADER_REFRESH), when the page made again
        behind it is ready."""
        try:
            now, period, previous = period_asked(kind, first, last)
        except ValueError as err:
            return (no_update, t("lv_bad_period", lang).format(e=err), *([no_update] * 5))

        def load() -> tuple[Hashable, Page, bool] | None:
            with engine.connect() as conn:
                directory = area_directory(conn)
                if not isinstance(area, str) or area not in directory:  # a forged or stale code: said
                    return None
                mark, page, now_mark = _page_and_mark(services, conn, directory, area, period, previous, now, lang)
                return mark, page, mark != now_mark

        made = off_loop(load)
        if made is None:
            return (no_update, t("lv_unknown_area", lang).format(code=str(area)[:64]), *([no_update] * 5))
        mark, page, stale = made
        if (trends_shown or {}).get("area") == area:  # else the trends load next, and start this after them
            other_periods_ahead(area, kind, lang)
        breadcrumb, *head = page.head
        if ctx.triggered_id in (ids.LEADER_PERIOD, ids.LEADER_RANGE):  # the same area: its trail and trends stay
            breadcrumb = no_update
        return (breadcrumb, *head, {"area": area, "kind": kind, "first": first, "last": last, "mark": list(mark),
                                    "at": page.at.isoformat(), "stale": stale})

    @app.callback(
        Output(ids.LEADER_SUBAREAS, "rowData"),
        Output(ids.LEADER_PATROLLERS, "rowData"),
        Output(ids.LEADER_DEPARTMENTS, "rowData"),
        Output(ids.LEADER_GRIDS, "rowData"),
        Input(ids.LEADER_SHOWN, "data"),
        State(ids.LEADER_LANG, "data"),
        prevent_initial_call=True,
    )
    def rows(shown_page: Any, lang: str) -> tuple[Any, ...]:
        """The four tables of the page the cards show, made from the same data."""
        asked = shown_page if isinstance(shown_page, dict) else {}
        area, kind = asked.get("area"), asked.get("kind")
        first, last = asked.get("first"), asked.get("last")
        if not (isinstance(area, str) and isinstance(kind, str) and all(
                isinstance(d, str | None) for d in (first, last))):
            raise PreventUpdate
        mark = asked.get("mark")
        shown_on = tuple(mark) if isinstance(mark, list) and all(
            isinstance(m, int | None) for m in mark) else None
        try:
            now, period, previous = period_asked(kind, first, last)
        except ValueError as err:
            raise PreventUpdate from err

        def load() -> tuple[Hashable, Page] | None:
            with engine.connect() as conn:
                directory = area_directory(conn)
                return page_of(services, conn, directory, area, period, previous, now, lang, shown_on) \
                    if area in directory else None

        made = off_loop(load)
        if made is None:
            raise PreventUpdate
        return made[1].rows

    @app.callback(
        Output(ids.LEADER_EVIDENCE, "style"),
        Output(ids.LEADER_EVIDENCE_TITLE, "children"),
        Output(ids.LEADER_EVIDENCE_SUM, "children"),
        Output(ids.LEADER_EVIDENCE_GRID, "rowData"),
        Output(ids.LEADER_EVIDENCE_GRID, "columnDefs"),
        Input(ids.LEADER_EVIDENCE_ASK, "data"),
        Input(ids.LEADER_PATROLLERS, "cellClicked"),
        Input(ids.LEADER_DEPARTMENTS, "cellClicked"),
        State(ids.LEADER_SHOWN, "data"),
        State(ids.LEADER_LANG, "data"),
        prevent_initial_call=True,
    )
    def show_evidence(ask: Any, person_cell: Any, department_cell: Any, shown_page: Any, lang: str
                      ) -> tuple[Any, ...]:
        """What makes the figure clicked: a card's (the area's), or a patroller's or a department's in their
        tables, for the area and period the page shows, as of the moment they were counted (so that its count
        is the one shown, whatever happened since)."""
        holder: tuple[str, str] | None = None  # (kind, code) of a patroller's or a department's figure
        if ctx.triggered_id == ids.LEADER_PATROLLERS or ctx.triggered_id == ids.LEADER_DEPARTMENTS:
            whose_kind = "person" if ctx.triggered_id == ids.LEADER_PATROLLERS else "department"
            asked_cell = ev.holder_asked(whose_kind, person_cell if whose_kind == "person" else department_cell)
            if asked_cell is None:
                raise PreventUpdate
            holder, figure = (whose_kind, asked_cell[0]), asked_cell[1]
        else:
            figure = ask.get("figure") if isinstance(ask, dict) else None
            if not ev.is_evidenced(figure):
                raise PreventUpdate
        asked = shown_page if isinstance(shown_page, dict) else {}
        area, period_kind, first, last, at = (asked.get(k) for k in ("area", "kind", "first", "last", "at"))
        if not all(isinstance(v, str) for v in (area, period_kind, at)) \
                or not all(isinstance(d, str | None) for d in (first, last)):
            raise PreventUpdate
        try:
            now = datetime.fromisoformat(at)
            period = lp.period_for(period_kind, now, zone, _day(first), _day(last))
        except ValueError as err:
            raise PreventUpdate from err

        def load() -> tuple[Any, ...] | None:
            with engine.connect() as conn:
                directory = area_directory(conn)
                if area not in directory:
                    return None
                names = services.names(conn, lang)
                if holder is None:
                    return directory[area].name, figure_evidence(conn, rules, area, figure, period, now), names, None
                if holder[0] == "department" and holder[1] not in names.departments:
                    return None  # a forged row
                rows = holder_evidence(conn, rules, area, holder[0], holder[1], figure, period, now)
                if rows is None:  # not one of the area's patrollers (a stale or forged row)
                    return None
                whose = names.people.get(holder[1], holder[1]) if holder[0] == "person" \
                    else lp.department_name(holder[1], names.departments, lang)
                return directory[area].name, rows, names, (holder[0], whose)

        made = off_loop(load)
        if made is None:
            raise PreventUpdate
        name, rows, names, whose = made
        return ({"display": "flex"}, ev.evidence_title(figure, name, lp.period_label(period, lang), lang, whose),
                ev.evidence_sum(rows, lang, figure), ev.evidence_rows(ev.shown_rows(rows), names, lang, zone),
                layout.evidence_columns(lang, ev.counted_heading(figure)))

    app.clientside_callback("function () { return {display: 'none'}; }",
                            Output(ids.LEADER_EVIDENCE, "style", allow_duplicate=True),
                            Input(ids.LEADER_EVIDENCE_CLOSE, "n_clicks"), prevent_initial_call=True)

    @app.callback(Output(ids.LEADER_TRENDS, "data"),
                  Input(ids.LEADER_SHOWN, "data"),  # after the figures: they are what is read first
                  State(ids.LEADER_AREA, "data"), State(ids.LEADER_TRENDS, "data"), State(ids.LEADER_LANG, "data"),
                  State(ids.LEADER_PERIOD, "value"))
    def trends(_page: Any, area: str, shown: dict[str, Any] | None, lang: str, kind: str) -> Any:
        """The area's 30-day trends, once its figures are on screen (the two loads do not share the server's
        cores), and not again for another period of the same area on the same day."""
        now = services.now()
        days = lp.trend_days(now, zone)
        if shown and shown.get("area") == area and shown.get("days", [None])[-1] == days[-1].isoformat():
            return no_update
        def load() -> list[tuple[date, AreaFigures]] | None:
            with engine.connect() as conn:
                if not isinstance(area, str) or area not in area_directory(conn):
                    return None
                return daily_series(conn, rules, area, days[-1], len(days), now, zone=zone, kept=services.trends)

        series = off_loop(load)
        if series is None:
            return no_update
        other_periods_ahead(area, kind, lang)
        return {**lp.trend_data(series, lang), "area": area}

    @app.callback(
        Output(ids.LEADER_DOWNLOAD, "data"),
        Input(ids.LEADER_EXPORT_CSV, "n_clicks"),
        Input(ids.LEADER_EXPORT_XLSX, "n_clicks"),
        State(ids.LEADER_EXPORT_MONTH, "value"),
        State(ids.LEADER_LANG, "data"),
        State(ids.LEADER_AREA, "data"),
        prevent_initial_call=True,
    )
    def download(_csv: int, _xlsx: int, month: str, lang: str, area: Any) -> dict[str, Any]:
        """The month's assessment of every area, patroller and department; the workbook also a sheet of evidence
        per figure of the area the page shows, and one of its patrollers' and one of its departments' (a street
        sees its own cases; the district's at city size are hundreds of thousands of rows)."""
        year, mm = (int(x) for x in month.split("-"))
        workbook = ctx.triggered_id == ids.LEADER_EXPORT_XLSX

        def load() -> tuple[dict[str, AreaEntry], Assessment, list[export.Table]]:
            now = services.now()
            with engine.connect() as conn:
                directory = area_directory(conn)
                figures = monthly_assessment(conn, rules, year, mm, now)
                shown = area if isinstance(area, str) and area in directory else lp.district_code(directory)
                grids = ev.grids_under(directory, shown)
                if not workbook:
                    sheets = []
                elif grids > ev.WORKBOOK_GRIDS_MAX:
                    sheets = [ev.too_big_table(directory[shown].name, grids, lang)]
                else:  # the workbook: a sheet of evidence per figure, and those of each person and department
                    names = services.names(conn, lang)
                    sheets = [*ev.evidence_tables(area_evidence(conn, rules, shown, figures.period, now), names,
                                                  directory, lang, zone),
                              *ev.holder_tables(area_holders_evidence(conn, rules, shown, figures.period, now), names,
                                                directory, lang, zone)]
                return directory, figures, sheets

        directory, figures, sheets = off_loop(load)
        tables = export.assessment_tables(figures, directory, services.taxonomy.departments, lang)
        title = export.period_line(figures, lang)
        name = f"assessment-{export.month_label(figures)}"
        if workbook:
            return dcc.send_bytes(export.to_xlsx([*tables, *sheets], title), f"{name}.xlsx")
        return dcc.send_bytes(export.to_csv(tables, title), f"{name}.csv")


def keep_warm(services: Services, lang: str = "zh") -> None:
    """In the background, for the life of the server: count the district's 30-day trend once, so that the first
    leader to open the page finds its settled days kept (services.trends) and waits only for today's; and keep
    the district's page of the month (what the leader page opens on) made, again every WARM_S s when a case
    changed, so that it opens without waiting for a count."""
    def district(conn: Connection) -> tuple[dict[str, AreaEntry], str | None]:
        directory = area_directory(conn)
        return directory, next((a.code for a in directory.values() if a.parent is None), None)

    def trends() -> None:
        now = services.now()
        days = lp.trend_days(now, services.zone)
        with services.engine.connect() as conn:
            top = district(conn)[1]
            if top is not None:
                daily_series(conn, services.rules, top, days[-1], len(days), now, zone=services.zone,
                             kept=services.trends)
                log.info("the district's trend counted ahead (%d settled days kept)", len(days) - 1)

    def month() -> None:
        now = services.now()
        period = lp.period_for("month", now, services.zone)
        with services.engine.connect() as conn:
            directory, top = district(conn)
            if top is not None:
                page_of(services, conn, directory, top, period, lp.previous_period("month", period), now, lang,
                        stale_s=0)

    every(WARM_S, month, "the district's page of the month")
    in_background(trends)
