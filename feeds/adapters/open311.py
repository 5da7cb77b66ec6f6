"""Open311 GeoReport v2 (open311.org), as a city's 12345 hotline system or a citizens' app speaks it: our
taxonomy as its service list, its service request as our `incident_report`, and our case as its request's
status. Pure: the HTTP edge is feeds/adapters/open311_server.py.

- services: a sub-class (小类) is a service (`service_code` = its code, `service_name` its Chinese name,
  `group` its class, 大类). Every service has the same two attributes: whether it is urgent and when it
  arose (when the reporter knows).
- a request's place: `lat` and `long`, or an `address_string` that names a street, community or grid of the
  district (placed at that area); `address_id` is not supported. A place outside the district is refused.
- a request's status: `open` while its case is in the loop, `closed` once the case is closed, not
  registered, or void; `status_notes` says the step (待核实, 处置中, 已结案, …), `agency_responsible` the
  department, `expected_datetime` the deadline of the open step, `updated_datetime` the case's last change.
- no personal details are kept: a reporter's name, e-mail and phone stay with the system that sent them.
  `account_id` (or `device_id`) becomes the report's reporter id, as a pseudonym (acct-<hash>).
"""
from __future__ import annotations

import hashlib
import json
import math
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from shapely import prepare
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from feeds.calendar import Limit, LimitUnit
from feeds.schemas import IncidentReport, ReportChannel, describe
from feeds.taxonomy import Taxonomy

MAX_DESCRIPTION = 4000
MAX_RANGE_DAYS = 90
MAX_REQUESTS = 1000
FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
URGENT_VALUES = {"yes": True, "no": False, "true": True, "false": False, "1": True, "0": False, "是": True, "否": False}
FINAL_NOTES = {"closed": "已结案", "rejected": "不予立案", "void": "已作废"}
CLOSED_STATES = frozenset(FINAL_NOTES)


class Open311Error(Exception):
    """A request that cannot be answered as asked: the HTTP status (400, 403, 404, 429), and the errors
    ({code, description}) the body lists."""

    def __init__(self, status: int, description: str, code: int | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.code = status, description, code or status

    def errors(self) -> list[dict[str, Any]]:
        return [{"code": self.code, "description": self.description}]


# --------------------------------------------------------------------------------------------- services

def service_list(taxonomy: Taxonomy) -> list[dict[str, Any]]:
    return [{"service_code": c.code, "service_name": c.zh,
             "description": f"{c.class_zh} · {c.zh}（{c.en}），主管部门："
                            f"{taxonomy.departments.get(c.department, c.department)}",
             "metadata": True, "type": "realtime", "keywords": f"{c.zh},{c.en},{c.class_zh}", "group": c.class_zh}
            for c in taxonomy.categories.values()]


ATTRIBUTES = [
    {"variable": True, "code": "urgent", "datatype": "singlevaluelist", "required": False,
     "datatype_description": "是 / 否", "order": 1,
     "description": "是否紧急：危及人身或财产安全、需要立即处置的选“是”",
     "values": [{"key": "yes", "name": "是"}, {"key": "no", "name": "否"}]},
    {"variable": True, "code": "occurred_at", "datatype": "datetime", "required": False,
     "datatype_description": "ISO 8601，带时区，例如 2026-12-05T09:30:00+08:00", "order": 2,
     "description": "问题发生的时间（如知道）"},
]


def service_definition(taxonomy: Taxonomy, code: str) -> dict[str, Any]:
    if code not in taxonomy.categories:
        raise Open311Error(404, f"service_code {code[:64]!r} not found")
    return {"service_code": code, "attributes": ATTRIBUTES}


def discovery(base_url: str, contact: str) -> dict[str, Any]:
    return {"changeset": "2026-12-05T00:00:00Z", "contact": contact,
            "key_service": "向指挥中心管理员申请 api_key（python -m feeds.adapters.apikeys issue）",
            "endpoints": [{"specification": "http://wiki.open311.org/GeoReport_v2", "url": base_url,
                           "changeset": "2026-12-05T00:00:00Z", "type": "production",
                           "formats": ["text/xml", "application/json"]}]}


# ------------------------------------------------------------------------------------- where it is

@dataclass(frozen=True)
class Place:
    name: str
    level: str
    point: Point


class Gazetteer:
    """The district's streets, communities and grids by name, its grids by shape, and its boundary: where a
    request is, and in which grid (a case is routed by its grid)."""

    def __init__(self, areas: Sequence[tuple[str, str, str, str]]) -> None:  # (code, name, level, GeoJSON)
        self.places: list[Place] = []
        self.grids: list[tuple[str, BaseGeometry]] = []
        self.boundary: BaseGeometry | None = None
        for code, name, level, geometry in areas:
            geo = shape(json.loads(geometry))
            if level == "district":
                self.boundary = geo.buffer(0.001)  # about 100 m: a report at the boundary's edge is in
            if level == "grid":
                prepare(geo)
                self.grids.append((code, geo))
            if level in ("street", "community", "grid") and name:
                self.places.append(Place(name, level, geo.representative_point()))
        self.places.sort(key=lambda p: -len(p.name))  # the longest name found is the most precise

    def place(self, address: str) -> Place | None:
        return next((p for p in self.places if p.name in address), None)

    def contains(self, lat: float, lon: float) -> bool:
        return self.boundary is None or self.boundary.contains(Point(lon, lat))

    def grid_at(self, lat: float, lon: float) -> str | None:
        point = Point(lon, lat)
        return next((code for code, geo in self.grids if geo.covers(point)), None)


# ------------------------------------------------------------------------------------ a new request

@dataclass(frozen=True)
class Posted:
    """A POSTed service request, read and checked."""

    service_code: str
    lat: float
    lon: float
    address: str | None
    description: str
    media_url: str | None
    urgent: bool
    occurred_at: datetime | None
    reporter_id: str | None
    grid_code: str | None = None  # the grid it lies in (None: between grids, e.g. on the boundary's margin)


def read_post(form: Mapping[str, str], taxonomy: Taxonomy, where: Gazetteer) -> Posted:
    code = (form.get("service_code") or "").strip()
    if not code:
        raise Open311Error(400, "service_code was not provided")
    if code not in taxonomy.categories:
        raise Open311Error(404, f"service_code {code[:64]!r} not found")
    address = (form.get("address_string") or "").strip() or None
    if address is not None and len(address) > 400:
        raise Open311Error(400, "address_string is longer than 400 characters")
    lat, lon = _number(form, "lat"), _number(form, "long")
    if (lat is None) != (lon is None):
        raise Open311Error(400, "lat and long must be sent together")
    if lat is None or lon is None:
        if address is None:
            if form.get("address_id"):
                raise Open311Error(400, "address_id is not supported here: send lat and long, or address_string")
            raise Open311Error(400, "a location is required: lat and long, or address_string")
        found = where.place(address)
        if found is None:
            raise Open311Error(400, "address_string names no street, community or grid of the district: "
                                    "send lat and long")
        lat, lon = found.point.y, found.point.x
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise Open311Error(400, "lat must lie in −90…90 and long in −180…180")
    if not where.contains(lat, lon):
        raise Open311Error(400, f"the location {lat:.6f}, {lon:.6f} lies outside the district")
    description = form.get("description") or ""
    if len(description) > MAX_DESCRIPTION:
        raise Open311Error(400, f"description is longer than {MAX_DESCRIPTION} characters")
    urgent_text = (form.get("attribute[urgent]") or "no").strip().lower()
    if urgent_text not in URGENT_VALUES:
        raise Open311Error(400, "attribute[urgent] must be yes or no")
    occurred = form.get("attribute[occurred_at]") or None
    return Posted(code, lat, lon, address, description, form.get("media_url") or None, URGENT_VALUES[urgent_text],
                  _time(occurred, "attribute[occurred_at]") if occurred else None,
                  _reporter(form.get("account_id") or form.get("device_id")), where.grid_at(lat, lon))


def to_report(posted: Posted, request_id: str, channel: ReportChannel, received_at: datetime,
              source: str = "open311") -> IncidentReport:
    """The report that opens (or joins) a case, through the normal pipeline. What our schema refuses (text
    with a NUL, a media_url that is no http(s) URL) is refused with its reason."""
    try:
        return IncidentReport.model_validate({
            "schema_version": 1, "id": request_id, "source": source, "ts": received_at, "drill_id": None,
            "kind": "incident_report", "category": posted.service_code, "description": posted.description,
            "lat": posted.lat, "lon": posted.lon, "grid_code": posted.grid_code, "channel": channel,
            "reporter_id": posted.reporter_id, "urgent": posted.urgent, "occurred_at": posted.occurred_at,
            "address": posted.address, "media_url": posted.media_url})
    except ValidationError as err:
        raise Open311Error(400, describe(err)) from None


def service_notice(taxonomy: Taxonomy, code: str, urgent: bool) -> str:
    category = taxonomy[code]
    department = taxonomy.departments.get(category.department, category.department)
    return f"已受理，由{department}负责处置，处置时限{_limit_text(category.limit('handle', urgent))}"


# ---------------------------------------------------------------------------------- request status

@dataclass(frozen=True)
class RequestRow:
    """A request as the database has it: the report, and its case if it has one yet."""

    id: str
    service_code: str
    description: str
    address: str | None
    lat: float
    lon: float
    media_url: str | None
    requested_at: datetime
    state: str | None  # the case's state; None while it has no case
    department: str | None
    updated_at: datetime | None
    expected_at: datetime | None


def request_view(row: RequestRow, taxonomy: Taxonomy) -> dict[str, Any]:
    category = taxonomy.categories.get(row.service_code)
    if row.state is None:
        status, notes = "open", "已受理，待登记"
    elif row.state in CLOSED_STATES:
        status, notes = "closed", FINAL_NOTES[row.state]
    else:
        status, notes = "open", _OPEN_NOTES.get(row.state, row.state)
    return {
        "service_request_id": row.id, "status": status, "status_notes": notes,
        "service_name": category.zh if category else row.service_code, "service_code": row.service_code,
        "description": row.description or None,
        "agency_responsible": taxonomy.departments.get(row.department, row.department) if row.department else None,
        "service_notice": None, "requested_datetime": w3(row.requested_at),
        "updated_datetime": w3(row.updated_at or row.requested_at),
        "expected_datetime": w3(row.expected_at) if row.expected_at and status == "open" else None,
        "address": row.address, "address_id": None, "zipcode": None, "lat": row.lat, "long": row.lon,
        "media_url": row.media_url,
    }


_OPEN_NOTES = {"reported": "待核实", "verified": "待立案", "registered": "待派遣", "dispatched": "处置中",
               "handled": "待核查", "checked": "待结案", "parked": "已挂账"}




@dataclass(frozen=True)
class Query:
    ids: list[str] | None
    service_codes: list[str] | None
    start: datetime
    end: datetime
    statuses: set[str]


def read_query(args: Mapping[str, str], now: datetime) -> Query:
    """GET requests' filters: service_request_id (overrides the rest), service_code, start_date / end_date
    (at most 90 days apart; by default the last 90 days), status (open, closed)."""
    ids = _list(args.get("service_request_id"))
    if ids is not None and len(ids) > MAX_REQUESTS:
        raise Open311Error(400, f"at most {MAX_REQUESTS} service_request_id at once")
    start_text, end_text = args.get("start_date"), args.get("end_date")
    end = _time(end_text, "end_date") if end_text else now
    start = _time(start_text, "start_date") if start_text else end - timedelta(days=MAX_RANGE_DAYS)
    if start_text and not end_text:
        end = start + timedelta(days=MAX_RANGE_DAYS)  # the 90 days from it (a poller asking "since when")
    if end < start:
        raise Open311Error(400, "end_date is before start_date")
    if end - start > timedelta(days=MAX_RANGE_DAYS):
        raise Open311Error(400, f"start_date and end_date may not span more than {MAX_RANGE_DAYS} days")
    statuses = set(_list(args.get("status")) or ["open", "closed"])
    if not statuses <= {"open", "closed"}:
        raise Open311Error(400, "status is open, closed, or both (comma-separated)")
    return Query(ids, _list(args.get("service_code")), start, end, statuses)


# ------------------------------------------------------------------------------------------ formats

_ITEM = {"services": "service", "service_requests": "request", "errors": "error", "attributes": "attribute",
         "values": "value", "endpoints": "endpoint", "formats": "format"}


def render(value: Any, root: str, fmt: str) -> tuple[bytes, str]:
    """A document in the asked format: JSON as the spec's examples have it, or XML (the spec's required
    format: `root` holding one element per item, the XML declaration first, UTF-8)."""
    if fmt == "json":
        return json.dumps(value, ensure_ascii=False).encode("utf-8"), FORMATS["json"]
    element = _element(root, value)
    ET.indent(element)
    body = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(element, encoding="utf-8",
                                                                     xml_declaration=False)
    return body, FORMATS["xml"]


def _element(name: str, value: Any) -> ET.Element:
    element = ET.Element(name)
    if isinstance(value, Mapping):
        for key, item in value.items():
            element.append(_element(key, item))
    elif isinstance(value, list):
        for item in value:
            element.append(_element(_ITEM.get(name, "item"), item))
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = str(value)
    return element


def w3(value: datetime) -> str:
    """The W3C subset of ISO 8601 the spec asks for, with the zone: 2026-12-05T09:30:00+08:00."""
    return value.isoformat(timespec="seconds")


# -------------------------------------------------------------------------------------------- parts

def _number(form: Mapping[str, str], name: str) -> float | None:
    text = (form.get(name) or "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise Open311Error(400, f"{name} must be a number, not {text[:40]!r}") from None
    if not math.isfinite(value):
        raise Open311Error(400, f"{name} must be a finite number")
    return value


def _time(text: str, name: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00") if text.strip().endswith("Z")
                                       else text.strip())
    except ValueError:
        raise Open311Error(400, f"{name} must be an ISO 8601 time with its zone, not {text[:40]!r}") from None
    if value.tzinfo is None:
        raise Open311Error(400, f"{name} must name its zone (Z or +08:00), as the spec asks")
    return value


def _list(text: str | None) -> list[str] | None:
    if text is None or not text.strip():
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


def _reporter(text: str | None) -> str | None:
    """A pseudonym of the reporter's account: the same account is the same reporter on every request, and no
    screen shows an account id that may be a phone number."""
    if not text:
        return None
    return "acct-" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


_UNIT_ZH = {LimitUnit.WORKING_HOURS: "个工作小时", LimitUnit.WORKING_DAYS: "个工作日", LimitUnit.CALENDAR_HOURS: "小时"}


def _limit_text(limit: Limit) -> str:
    return f"{limit.amount:g}{_UNIT_ZH[limit.unit]}"
