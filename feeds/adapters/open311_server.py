"""The Open311 GeoReport v2 endpoint: a city's 12345 hotline system and citizens' apps post service requests
here, and read back their status. Each request becomes an `incident_report` on the durable stream and
opens (or joins) a case through the normal pipeline; its status is read from the case.

    python -m feeds.adapters.open311_server     # http://CC_HOST:CC_OPEN311_PORT/open311/v2/ (default 8311)

    GET  /open311/v2/discovery.{xml,json}        GET  /open311/v2/services.{xml,json}
    GET  /open311/v2/services/{code}.{xml,json}  POST /open311/v2/requests.{xml,json}   (api_key required)
    GET  /open311/v2/requests.{xml,json}         GET  /open311/v2/requests/{id}.{xml,json}

XML (the spec's required format) when no format is named. Errors as the spec has them: 400, 403 (a missing
or wrong api_key, logged), 404, and 429 past a key's rate limit, each with [{code, description}]. A refused
POST is also kept as a dead letter (channel "open311") without its api_key and the reporter's personal
details. 503 when the bus is unreachable: the sender posts again.
"""
from __future__ import annotations

from gevent import monkey

if __name__ == "__main__":
    monkey.patch_all()

import logging
import secrets
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any

import redis
from flask import Flask, Response, request
from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from feeds.adapters.apikeys import find_key
from feeds.adapters.open311 import (
    CLOSED_STATES,
    FORMATS,
    MAX_REQUESTS,
    Gazetteer,
    Open311Error,
    Query,
    RequestRow,
    discovery,
    read_post,
    read_query,
    render,
    request_view,
    service_definition,
    service_list,
    service_notice,
    to_report,
)
from feeds.bus.channels import Bus, StreamBus
from feeds.bus.connect import redis_client
from feeds.calendar import WorkingCalendar
from feeds.cases.escalation import OpenStep, deadline
from feeds.clock import utcnow
from feeds.schemas import KEPT_OF_REFUSED, Rejection, ReportChannel, channel_for, encode
from feeds.store.engine import tuples
from feeds.store.models import Area, CaseAudit, CaseReport, CaseRow, IncidentRow
from feeds.store.writes import keep_dead_letters
from feeds.taxonomy import Taxonomy

log = logging.getLogger(__name__)
PREFIX = "/open311/v2"
CHANNEL = "open311"  # the dead letters' channel
SOURCE = "open311"
REPORTS = channel_for("incident_report")
PERSONAL = ("api_key", "email", "phone", "first_name", "last_name")  # never kept in a dead letter
MAX_BODY = 64 * 1024


def load_gazetteer(engine: Engine) -> Gazetteer:
    with engine.connect() as conn:
        return Gazetteer(list(tuples(conn.execute(select(Area.code, Area.name, Area.level, Area.geometry)))))


def create_app(engine: Engine, bus: Bus, limiter: redis.Redis, taxonomy: Taxonomy, calendar: WorkingCalendar,
               where: Gazetteer, *, contact: str = "", clock: Callable[[], datetime] = utcnow) -> Flask:
    app = Flask("open311")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.url_map.redirect_defaults = False  # ".../requests/ID.xml" is answered, not redirected to ".../requests/ID"

    def answer(value: Any, root: str, fmt: str, status: int = 200) -> Response:
        body, mimetype = render(value, root, fmt)
        return Response(body, status=status, content_type=mimetype)

    def fail(err: Open311Error, fmt: str) -> Response:
        return answer(err.errors(), "errors", fmt, err.status)

    def checked(fmt: str) -> str:
        if fmt not in FORMATS:
            raise Open311Error(404, f"format {fmt[:10]!r} is not served: xml or json")
        return fmt

    @app.errorhandler(Open311Error)
    def refused(err: Open311Error) -> Response:
        fmt = (request.view_args or {}).get("fmt", "xml")
        return fail(err, fmt if fmt in FORMATS else "xml")

    @app.errorhandler(404)
    def unknown(_err: Exception) -> Response:
        return fail(Open311Error(404, f"no such resource: {request.path[:100]}"), "xml")

    @app.errorhandler(413)
    def too_big(_err: Exception) -> Response:
        return fail(Open311Error(400, f"the request is larger than {MAX_BODY} bytes"), "xml")

    @app.get(f"{PREFIX}/discovery.<fmt>")
    @app.get(f"{PREFIX}/discovery", defaults={"fmt": "xml"})
    def discover(fmt: str) -> Response:
        return answer(discovery(request.host_url.rstrip("/") + PREFIX, contact), "discovery", checked(fmt))

    @app.get(f"{PREFIX}/services.<fmt>")
    @app.get(f"{PREFIX}/services", defaults={"fmt": "xml"})
    def services(fmt: str) -> Response:
        return answer(service_list(taxonomy), "services", checked(fmt))

    @app.get(f"{PREFIX}/services/<code>.<fmt>")
    @app.get(f"{PREFIX}/services/<code>", defaults={"fmt": "xml"})
    def definition(code: str, fmt: str) -> Response:
        return answer(service_definition(taxonomy, code), "service_definition", checked(fmt))

    @app.post(f"{PREFIX}/requests.<fmt>")
    @app.post(f"{PREFIX}/requests", defaults={"fmt": "xml"})
    def create(fmt: str) -> Response:
        checked(fmt)
        received_at = clock()
        form = request.form.to_dict()
        key = form.get("api_key") or ""
        with engine.connect() as conn:
            owner = find_key(conn, key) if key else None
        if owner is None:
            log.warning("refused a request from %s: %s api_key", request.remote_addr, "a wrong" if key else "no")
            raise Open311Error(403, "Invalid api_key received -- can't proceed with create_request." if key
                               else "api_key was not provided -- can't proceed with create_request.")
        try:
            minute = f"cc.open311.rate:{owner.id}:{int(received_at.timestamp() // 60)}"
            pipe = limiter.pipeline()
            pipe.incr(minute)
            pipe.expire(minute, 120)
            count, _ = pipe.execute()
            if count > owner.per_minute:
                raise Open311Error(429, f"more than {owner.per_minute} requests a minute for this api_key: "
                                        "wait and post again")
            try:
                posted = read_post(form, taxonomy, where)
                request_id = f"o311-{secrets.token_hex(8)}"
                report = to_report(posted, request_id, ReportChannel(owner.channel), received_at, SOURCE)
            except Open311Error as err:
                keep(form, err, received_at)
                raise
            bus.publish(REPORTS, encode([report]))
        except redis.RedisError as err:
            log.warning("the bus is unreachable, a request of %s not taken: %s", owner.owner, err)
            return fail(Open311Error(503, "the centre cannot take requests now: post again shortly"), fmt)
        log.info("request %s from %s (%s): %s", request_id, owner.owner, owner.channel, posted.service_code)
        return answer([{"service_request_id": request_id,
                        "service_notice": service_notice(taxonomy, posted.service_code, posted.urgent),
                        "account_id": form.get("account_id") or None}], "service_requests", fmt)

    def keep(form: dict[str, str], err: Open311Error, received_at: datetime) -> None:
        shown = "&".join(f"{k}={v}" for k, v in form.items() if k not in PERSONAL)[:KEPT_OF_REFUSED]
        keep_dead_letters(engine, [Rejection(CHANNEL, f"POST {request.path}\n{shown}", err.description,
                                             "refused" if err.status in (403, 404) else "decode")], received_at)

    @app.get(f"{PREFIX}/requests.<fmt>")
    @app.get(f"{PREFIX}/requests", defaults={"fmt": "xml"})
    def requests(fmt: str) -> Response:
        checked(fmt)
        query = read_query(request.args.to_dict(), clock())
        with engine.connect() as conn:
            rows = read_requests(conn, query, taxonomy, calendar)
        return answer([request_view(r, taxonomy) for r in rows], "service_requests", fmt)

    @app.get(f"{PREFIX}/requests/<request_id>.<fmt>")
    @app.get(f"{PREFIX}/requests/<request_id>", defaults={"fmt": "xml"})
    def one(request_id: str, fmt: str) -> Response:
        checked(fmt)
        with engine.connect() as conn:
            rows = read_requests(conn, Query([request_id], None, datetime.min, datetime.max, {"open", "closed"}),
                                 taxonomy, calendar)
        if not rows:
            raise Open311Error(404, f"service_request_id {request_id[:64]!r} not found (a request is found here "
                                    "within a second of being made)")
        return answer([request_view(rows[0], taxonomy)], "service_requests", fmt)

    return app


def read_requests(conn: Connection, query: Query, taxonomy: Taxonomy, calendar: WorkingCalendar) -> list[RequestRow]:
    """The requests made through Open311 that the query asks for, oldest first, with their cases."""
    updated = (select(CaseAudit.case_id, func.max(CaseAudit.at).label("at")).group_by(CaseAudit.case_id)
               .subquery())
    stmt = (select(IncidentRow.id, IncidentRow.category, IncidentRow.description, IncidentRow.address,
                   IncidentRow.lat, IncidentRow.lon, IncidentRow.media_url, IncidentRow.sent_at,
                   CaseRow.id, CaseRow.category, CaseRow.urgent, CaseRow.state, CaseRow.level, CaseRow.version,
                   CaseRow.step_started_at, CaseRow.extended_hours, CaseRow.department, updated.c.at)
            .select_from(IncidentRow)
            .outerjoin(CaseReport, CaseReport.report_id == IncidentRow.id)
            .outerjoin(CaseRow, CaseRow.id == CaseReport.case_id)
            .outerjoin(updated, updated.c.case_id == CaseRow.id)
            .where(IncidentRow.source == SOURCE, IncidentRow.drill_id.is_(None)))
    if query.ids is not None:
        stmt = stmt.where(IncidentRow.id.in_(query.ids))
    else:
        stmt = stmt.where(IncidentRow.sent_at >= query.start, IncidentRow.sent_at <= query.end)
        if query.service_codes is not None:
            stmt = stmt.where(IncidentRow.category.in_(query.service_codes))
    out: list[RequestRow] = []
    for (rid, code, description, address, lat, lon, media, sent, case_id, category, urgent, state, level, version,
         started, extended, department, changed) in tuples(conn.execute(stmt.order_by(IncidentRow.sent_at,
                                                                                  IncidentRow.id))):
        status = "open" if state is None or state not in CLOSED_STATES else "closed"
        if query.ids is None and status not in query.statuses:
            continue
        expected = None
        if case_id is not None and state not in CLOSED_STATES:
            expected = deadline(taxonomy, calendar, OpenStep(case_id, category, urgent, state, level, version,
                                                             started, extended))
        zone = calendar.zone  # every time in the site's zone, as its people read them
        out.append(RequestRow(rid, code, description, address, lat, lon, media, sent.astimezone(zone), state,
                              department, changed.astimezone(zone) if changed else None,
                              expected.astimezone(zone) if expected else None))
        if len(out) >= MAX_REQUESTS:
            break
    return out


def main() -> None:
    from gevent.pywsgi import WSGIServer

    from feeds.settings import Settings
    from feeds.store.engine import make_engine
    from feeds.taxonomy import load as load_taxonomy

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s [open311] %(message)s")
    settings = Settings()
    if not settings.redis_url:
        sys.exit("CC_REDIS_URL (or REDIS_URL) must point at a Redis server")
    engine = make_engine(settings.db_url)
    client = redis_client(settings.redis_url)
    bus = StreamBus(client, settings.stream_maxlen, replicas=settings.stream_replicas)
    app = create_app(engine, bus, client, load_taxonomy(), settings.working_calendar(), load_gazetteer(engine),
                     contact=settings.open311_contact)
    log.info("Open311 GeoReport v2 on http://%s:%d%s/", settings.host, settings.open311_port, PREFIX)
    WSGIServer((settings.host, settings.open311_port), app, log=None).serve_forever()


if __name__ == "__main__":
    main()
