"""The database's rows: SQLAlchemy 2 models of the territory, the feeds, the cases and their audit, people,
drills and the KPI caches; and the map read back as GeoJSON layers."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    TypeDecorator,
    select,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from feeds.schemas import ReportChannel


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite (which has no zones) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class Area(Base):
    """A piece of territory: district, street (街道), community (社区) or grid (网格). Geometry as GeoJSON."""

    __tablename__ = "areas"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    level: Mapped[str] = mapped_column(String(16), index=True)
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    households: Mapped[int] = mapped_column(Integer, default=0)
    population: Mapped[int] = mapped_column(Integer, default=0)
    geometry: Mapped[str] = mapped_column(Text)


class MapFeature(Base):
    """Base-map features drawn without a tile server: roads (arterial / street) and similar."""

    __tablename__ = "map_features"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    layer: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(100))
    geometry: Mapped[str] = mapped_column(Text)


class Department(Base):
    """A functional department (职能部门) cases are dispatched to; seeded from the taxonomy."""

    __tablename__ = "departments"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))


class Person(Base):
    """Someone with a job in the district: grid worker (网格员), grid chief (网格长), inner- or outer-net
    patroller (内网 / 外网巡查员), dispatcher (座席员). `area_code` is the area they answer for (实名落图)."""

    __tablename__ = "people"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    role: Mapped[str] = mapped_column(String(32), index=True)
    area_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code"), index=True)
    department: Mapped[str | None] = mapped_column(ForeignKey("departments.code"))
    unit_id: Mapped[str | None] = mapped_column(String(64), index=True)  # the GPS unit they carry


class Asset(Base):
    """A city component (部件) placed in a grid: camera, street light, manhole cover, hydrant."""

    __tablename__ = "assets"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    grid_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)


def drill_index(table: str) -> Index:
    """Drill rows are few and looked up by drill; live rows (the many) pay nothing for this index."""
    where = text("drill_id IS NOT NULL")
    return Index(f"ix_{table}_drill", "drill_id", sqlite_where=where, postgresql_where=where)


class _FeedRow:
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the message id: idempotency key
    source: Mapped[str] = mapped_column(String(32))
    drill_id: Mapped[str | None] = mapped_column(String(64))  # indexed only where set (see drill_index)
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PatrolFix(_FeedRow, Base):
    __tablename__ = "patrol_fixes"
    unit_id: Mapped[str] = mapped_column(String(64))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float] = mapped_column(Float)
    speed_mps: Mapped[float | None] = mapped_column(Float)
    fix_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Time first: fixes arrive in about time order, so each batch lands at the end of the index (a few
    # pages written per commit; unit first, every batch rewrote a page per unit). A unit's track over a
    # period is read from the index alone: the period's range, filtered on unit_id.
    # Live fixes by receipt: what the cell-visit tally reads each tick (feeds/kpis/visits.py). They too land at
    # the end of the index.
    __table_args__ = (Index("ix_patrol_fixes_time_unit", "fix_at", "unit_id"), drill_index("patrol_fixes"),
                      Index("ix_patrol_fixes_received_live", "received_at", sqlite_where=text("drill_id IS NULL"),
                            postgresql_where=text("drill_id IS NULL")))


class IncidentRow(_FeedRow, Base):
    __tablename__ = "incident_reports"
    __table_args__ = (drill_index("incident_reports"),)
    category: Mapped[str] = mapped_column(String(64), index=True)
    description: Mapped[str] = mapped_column(Text)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    grid_code: Mapped[str | None] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    reporter_id: Mapped[str | None] = mapped_column(String(64))
    urgent: Mapped[bool] = mapped_column(Boolean)
    occurred_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    address: Mapped[str | None] = mapped_column(String(400))
    media_url: Mapped[str | None] = mapped_column(String(2000))


class CameraAlertRow(_FeedRow, Base):
    __tablename__ = "camera_alerts"
    __table_args__ = (drill_index("camera_alerts"),)
    camera_id: Mapped[str] = mapped_column(String(64), index=True)
    alert_class: Mapped[str] = mapped_column(String(64))
    confidence: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    seen: Mapped[str | None] = mapped_column(String(200))
    snapshot_url: Mapped[str | None] = mapped_column(String(2000))
    clip_url: Mapped[str | None] = mapped_column(String(2000))


class CameraStatusRow(_FeedRow, Base):
    """A camera's health as its video system said it; the newest `since` per camera is its health now."""

    __tablename__ = "camera_statuses"
    __table_args__ = (Index("ix_camera_statuses_camera_since", "camera_id", "since"), drill_index("camera_statuses"))
    camera_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))  # feeds.schemas.CameraState
    since: Mapped[datetime] = mapped_column(UtcDateTime)
    detail: Mapped[str | None] = mapped_column(String(200))


class CaseRow(Base):
    """A case (案件): opened by its first report, moved along the loop by commands, never edited in place
    without its audit row. `version` grows by one with every change."""

    __tablename__ = "cases"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the id of the report that opened it
    category: Mapped[str] = mapped_column(String(64), index=True)
    urgent: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(16), index=True)
    level: Mapped[str] = mapped_column(String(16))
    department: Mapped[str | None] = mapped_column(String(64))
    assignee: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    step_started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    extended_hours: Mapped[float] = mapped_column(Float)
    reworks: Mapped[int] = mapped_column(Integer)
    parked_from: Mapped[str | None] = mapped_column(String(16))
    reject_reason: Mapped[str | None] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))  # how it was found: patrol, citizen, camera, hotline
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    grid_code: Mapped[str | None] = mapped_column(String(64), index=True)
    description: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reported_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    drill_id: Mapped[str | None] = mapped_column(String(64), index=True)
    last_command: Mapped[str | None] = mapped_column(String(64))  # id of the last command applied to it


class CaseReport(Base):
    """Which case each report belongs to: the one it opened, or the open case it was merged into."""

    __tablename__ = "case_reports"
    report_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    merged: Mapped[bool] = mapped_column(Boolean)  # True: a duplicate of a case already open
    channel: Mapped[str] = mapped_column(String(16))
    reported_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CaseAudit(Base):
    """One change of one case: who, what, when, why, before → after. Append-only."""

    __tablename__ = "case_audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    command_id: Mapped[str | None] = mapped_column(String(64), unique=True)  # a replayed command is found here
    action: Mapped[str] = mapped_column(String(20))
    by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    before: Mapped[str] = mapped_column(Text)  # JSON of the fields that changed
    after: Mapped[str] = mapped_column(Text)


class DeadLetter(Base):
    """Input that was refused: kept with its raw payload and the reason, for an operator to read and re-drive."""

    __tablename__ = "dead_letters"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(100))
    stage: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    redriven_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # when an operator sent it through again


class TrackerDevice(Base):
    """A phone (or any tracker) that reports positions through an adapter (feeds/adapters/osmand.py): the id it
    sends, the patrol unit its fixes are for, and who carries it. Retired devices are kept, refused."""

    __tablename__ = "tracker_devices"
    device_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    unit_id: Mapped[str] = mapped_column(String(64), index=True)
    person_id: Mapped[str | None] = mapped_column(ForeignKey("people.id"))
    note: Mapped[str] = mapped_column(String(200), default="")
    added_at: Mapped[datetime] = mapped_column(UtcDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ApiKey(Base):
    """A key a system posts reports with (feeds/adapters/open311_server.py): whose it is, which channel its reports
    come by (a citizens' app, the 12345 hotline), how many it may post a minute. Only a hash is kept."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the key, hex
    prefix: Mapped[str] = mapped_column(String(12))  # the key's first characters, to tell keys apart in lists
    owner: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(16))
    per_minute: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class UserRow(Base):
    """A person who signs in to the screens: a role (dashboard/security/auth.py) and a salted password hash."""

    __tablename__ = "users"
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)


class UserSessionRow(Base):
    """One sign-in of a person: the cookie carries its id, and signing out ends it here, so a copy of the
    cookie taken before is worth nothing after (docs/security.md). Only a hash of the id is kept."""

    __tablename__ = "user_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(ForeignKey("users.username"), index=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class DrillRow(Base):
    """A drill (应急演练): its scenario and targets, who started and ended it when, and its clock
    (feeds/drills/control.py)."""

    __tablename__ = "drills"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    scenario: Mapped[str] = mapped_column(String(64))
    title_zh: Mapped[str] = mapped_column(String(100))
    title_en: Mapped[str] = mapped_column(String(100))
    targets: Mapped[str] = mapped_column(Text)  # JSON: {"dispatch_min": 5, ...}
    duration_min: Mapped[float] = mapped_column(Float)
    starts_at: Mapped[str] = mapped_column(String(5))  # the scenario's local time at drill minute 0
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    started_by: Mapped[str] = mapped_column(String(64))
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_by: Mapped[str | None] = mapped_column(String(64))
    clock: Mapped[str] = mapped_column(Text)  # JSON: [[wall ms, drill ms, speed], ...]


class CaseFactsRow(Base):
    """The facts of a live case (feeds.kpis.figures.case_facts, as JSON) as they were at its `version`: every change
    of a case raises its version, so a row whose version is the case's is exactly what replaying the case's
    trail gives now. Written by the KPI board's job (feeds/kpis/cache.py), never by the ingest."""

    __tablename__ = "kpi_case_facts"
    __table_args__ = (Index("ix_kpi_case_facts_finished_reported", "finished_hour", "reported_hour"),)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    finished_hour: Mapped[str | None] = mapped_column(String(13))  # utc_hour closed / rejected / voided
    reported_hour: Mapped[str] = mapped_column(String(13))  # utc_hour first reported
    tallied: Mapped[int | None] = mapped_column(Integer, index=True)  # the tally batch that counts it
    facts: Mapped[str] = mapped_column(Text)


class TallyBatch(Base):
    """One batch of finished cases counted into kpi_case_days, under the rules (limits, calendar) of
    `rules_key`. A batch never changes once written: readers rely on it (feeds/kpis/cache.py)."""

    __tablename__ = "kpi_tally_batches"
    batch: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    rules_key: Mapped[str] = mapped_column(String(16), index=True)
    made_at: Mapped[datetime] = mapped_column(UtcDateTime)


# The counts of a tally (feeds.kpis.figures.Tally), in its order: the columns of kpi_case_days
TALLY_FIELDS = (
    "timely", "found",  # 发现及时率
    "registered_reports", "decided",  # 发现准确率
    *(f"{ch.value}_{part}" for ch in ReportChannel for part in ("registered", "decided")),
    "verify_on_time", "verify_due", "check_on_time", "check_due",  # 核查及时率
    "closed", "on_time_closed", "due_to_close",  # 结案率, 按期结案率
    "reworked", "first_handled",  # 返工率
    "handled_on_time", "handling_due",  # 按期处置率
    "open", "overdue",
    "handling_us", "handled", "dispatch_us", "dispatched",  # average hours, in whole microseconds
    "citizen_first", "registered",  # 漏报率
)

# The tally (feeds.kpis.figures.Tally) of one batch's finished cases per hour they finished
# (feeds.kpis.figures.utc_hour), grid ('' for none) and local day of the events counted; `month` is that
# day's 'YYYY-MM' (for the case-count score).
CASE_DAYS = Table(
    "kpi_case_days", Base.metadata,
    Column("batch", ForeignKey("kpi_tally_batches.batch"), primary_key=True),
    Column("finished_hour", String(13), primary_key=True),
    Column("grid_code", String(64), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("month", String(7), nullable=False),
    *(Column(name, BigInteger, nullable=False) for name in TALLY_FIELDS),
    Index("ix_kpi_case_days_day", "day"),
)


# The counts of a duty tally (feeds.kpis.figures.DutyTally), in its order: the columns of kpi_duty_days
DUTY_FIELDS = (
    "reports_registered", "reports_decided",  # a person's reports decided (valid-report rate)
    "verify_on_time", "verify_due", "check_on_time", "check_due",  # done: the person's; undone: the grid's
    "citizen_first", "registered",  # a grid's cases registered, first reported by citizens (missed rate)
    "handled_on_time", "handling_due",  # a department's handle runs (按期处置率)
    "reworked", "first_handled",  # the cases a department handled first
    "handling_us", "handled",  # the cases a department handled last (as of `as_of`)
    "holding",  # cases with a department at `as_of`, not yet handled
)

# The duty tallies (feeds.kpis.figures.DutyTally) of one batch's finished cases per hour they finished, local day of
# the events, grid of the cases ('' for none) and holder: a person, a grid or a department
# (feeds.kpis.figures.finished_duty_tallies).
DUTY_DAYS = Table(
    "kpi_duty_days", Base.metadata,
    Column("batch", ForeignKey("kpi_tally_batches.batch"), primary_key=True),
    Column("finished_hour", String(13), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("grid_code", String(64), primary_key=True),
    Column("holder_kind", String(10), primary_key=True),
    Column("holder", String(64), primary_key=True),
    *(Column(name, BigInteger, nullable=False) for name in DUTY_FIELDS),
    Index("ix_kpi_duty_days_day", "day"),
)


class CellVisitRow(Base):
    """A unit cell visited by a patrol unit on a settled local day (live fixes only; feeds/kpis/cache.py)."""

    __tablename__ = "kpi_cell_visits"
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    unit_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    cell_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    # when the visit was first made (feeds.kpis.coverage.Pieces); NULL for days stored before it was kept
    first_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class GridDayRow(Base):
    """Per settled local day and grid: how many of its unit cells any live patrol visited."""

    __tablename__ = "kpi_grid_days"
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    grid_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    visited: Mapped[int] = mapped_column(Integer)


class UnitDayRow(Base):
    """Per settled local day, patrol unit and grid: how many of the grid's unit cells the unit visited (the
    patrollers' coverage without reading every visit)."""

    __tablename__ = "kpi_unit_days"
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    unit_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    grid_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    visited: Mapped[int] = mapped_column(Integer)


class CoverageDayRow(Base):
    """A local day whose cell visits are stored in kpi_cell_visits and kpi_grid_days (a day without a single
    visit is stored too: this row says it was computed)."""

    __tablename__ = "kpi_coverage_days"
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LiveVisitRow(Base):
    """The running tally of a day's cell visits (feeds/kpis/visits.py): how many pieces of the unit's track
    (fixes inside the cell, segments crossing it) make the visit; a visit while pieces > 0."""

    __tablename__ = "kpi_live_visits"
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    cell_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    unit_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    grid_code: Mapped[str] = mapped_column(String(64))
    pieces: Mapped[int] = mapped_column(Integer)
    first_at: Mapped[datetime] = mapped_column(UtcDateTime)  # its earliest piece (feeds.kpis.coverage.Pieces)


class VisitTailRow(Base):
    """The newest fix the tally has counted of each unit: the context of its next fixes."""

    __tablename__ = "kpi_visit_tails"
    unit_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    fix_at: Mapped[datetime] = mapped_column(UtcDateTime)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)


class VisitCursorRow(Base):
    """One row: the tally counts the live fixes received after `since`, up to `through`."""

    __tablename__ = "kpi_visit_cursor"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    since: Mapped[datetime] = mapped_column(UtcDateTime)
    through: Mapped[datetime] = mapped_column(UtcDateTime)


class FenceRow(Base):
    """One row per role that runs one active process (the ingest): the newest epoch of its lease that wrote
    (feeds/bus/lease.py), and how many transactions it has committed. A transaction of an older epoch is
    refused; the count tells a process taking over whether the live state in Redis is behind the database, and
    `seq` the live state's sequence number it may not go below (so that screens see it move on, never back,
    whichever process writes it and whatever Redis lost)."""

    __tablename__ = "fences"
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    epoch: Mapped[int] = mapped_column(Integer)
    batches: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)


# The Core table of each row class, for the queries written in SQLAlchemy Core (one name each, everywhere)
CASES: Any = CaseRow.__table__
AUDIT: Any = CaseAudit.__table__
CASE_REPORTS: Any = CaseReport.__table__
INCIDENTS: Any = IncidentRow.__table__
ALERTS: Any = CameraAlertRow.__table__
HEALTH: Any = CameraStatusRow.__table__
AREAS: Any = Area.__table__
ASSETS: Any = Asset.__table__
PEOPLE: Any = Person.__table__
FIXES: Any = PatrolFix.__table__
DEAD_LETTERS: Any = DeadLetter.__table__
DRILLS: Any = DrillRow.__table__
FACTS: Any = CaseFactsRow.__table__
BATCHES: Any = TallyBatch.__table__
VISITS: Any = CellVisitRow.__table__
GRID_DAYS: Any = GridDayRow.__table__
UNIT_DAYS: Any = UnitDayRow.__table__
COVERED_DAYS: Any = CoverageDayRow.__table__
LIVE_VISITS: Any = LiveVisitRow.__table__
VISIT_TAILS: Any = VisitTailRow.__table__
VISIT_CURSOR: Any = VisitCursorRow.__table__


def load_map(conn: Connection) -> dict[str, Any]:
    """The territory as GeoJSON FeatureCollections per layer, for the wall map (without the patrol cells)."""
    layers: dict[str, list[dict[str, Any]]] = {"district": [], "street": [], "community": [], "grid": []}
    for a in conn.execute(select(Area.__table__).where(Area.level != "cell").order_by(Area.code)):
        layers.setdefault(a.level, []).append({
            "type": "Feature",
            "geometry": json.loads(a.geometry),
            "properties": {"code": a.code, "name": a.name, "parent": a.parent_code,
                           "households": a.households, "population": a.population},
        })
    roads: dict[str, list[dict[str, Any]]] = {}
    for f in conn.execute(select(MapFeature.__table__).order_by(MapFeature.id)):
        roads.setdefault(f.layer, []).append({
            "type": "Feature", "geometry": json.loads(f.geometry), "properties": {"name": f.name},
        })
    out = {level: {"type": "FeatureCollection", "features": feats} for level, feats in layers.items()}
    out.update({layer: {"type": "FeatureCollection", "features": feats} for layer, feats in roads.items()})
    return out
