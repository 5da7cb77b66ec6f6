"""The one settings object. Only entry points build it; everything else receives it."""
from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from feeds.calendar import DEFAULT_TIMEZONE, WorkingCalendar, official_days, parse_calendar

log = logging.getLogger(__name__)
_WARNED: set[int] = set()  # the years whose unknown successors this process has warned about (once each)


class Settings(BaseSettings):
    """Read from the environment with the CC_ prefix (REDIS_URL and DATABASE_URL are also honoured)."""

    model_config = SettingsConfigDict(env_prefix="CC_", extra="ignore", frozen=True)

    redis_url: str | None = Field(default=None, validation_alias=AliasChoices("CC_REDIS_URL", "REDIS_URL"))
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("CC_DATABASE_URL", "DATABASE_URL")
    )
    data_dir: Path = Path("data")

    host: str = "127.0.0.1"
    port: int = 8050
    tile_url: str | None = None  # an intranet tile server, e.g. http://tiles.local/{z}/{x}/{y}.png
    timezone: str = DEFAULT_TIMEZONE  # every time on every screen is shown in this zone
    stale_after_s: float = Field(default=30.0, gt=0)  # the wall warns when no update came for this long
    escalation_interval_s: int = Field(default=60, ge=1)  # how often overdue cases are checked
    kpi_interval_s: int = Field(default=30, ge=1)  # how often the wall's KPI board is computed and pushed

    # the working calendar that turns time limits into deadlines
    work_periods: str = "08:30-12:00,14:00-18:00"
    workdays: str = "1-5"  # Monday = 1
    official_calendar: bool = True  # China's public holidays and make-up working days (the chinesecalendar package)
    holidays: str = ""  # the site's own days off besides them: comma-separated ISO dates, e.g. 2026-10-08
    makeup_workdays: str = ""  # the site's own weekend days worked instead (调休), or official holidays it works

    # how producers of this project publish (the ingest always reads both)
    bus: Literal["pubsub", "streams"] = "pubsub"
    stream_maxlen: int = Field(default=100_000, ge=1000)  # entries kept per stream (approximately)
    # behind Redis Sentinel: a producer's entry counts once this many replicas hold it (WAIT); 0: once the
    # primary has it (a primary that dies may take its last entries with it: docs/deployment.md)
    stream_replicas: int = Field(default=0, ge=0, le=5)
    ingest_consumer: str = "ingest-1"  # this ingest's name in the consumer group (each ingest its own)
    # one ingest is active, the others stand by; the active one renews its lease every third of this, and a
    # standby takes over this long after the active one stopped renewing (feeds/bus/lease.py)
    lease_ttl_s: float = Field(default=3.0, ge=0.5, le=60)

    # adapters (feeds/adapters): the OsmAnd / Traccar Client endpoint for patrollers' phones
    osmand_port: int = Field(default=5055, ge=1, le=65535)
    # and the Open311 GeoReport v2 endpoint for the 12345 hotline's system and citizens' apps
    open311_port: int = Field(default=8311, ge=1, le=65535)
    open311_contact: str = "区网格化治理指挥中心值班室"  # who a system's developers ask (in discovery)
    # and the Frigate bridge: the MQTT broker Frigate publishes to, and which of its cameras and objects are ours
    mqtt_url: str | None = None  # mqtt://host:1883; the demo starts a broker when it is not set
    frigate_mapping: str | None = None  # a TOML file (docs/integrations.md)
    # hosts (host or host:port, comma-separated) whose photos and snapshots the dispatcher console shows inline,
    # e.g. the Frigate NVR's; a link from anywhere else (a citizen's photo URL) stays a link: the console never
    # loads what an outsider named
    media_hosts: str = ""

    # push: one delta per window at most, holding the latest fix per unit
    push_window_ms: int = Field(default=15, ge=5, le=2000)
    recent_items: int = Field(default=30, ge=1, le=500)  # incidents / alerts kept in the live snapshot
    future_tolerance_s: float = 5.0  # messages stamped further ahead than this are rejected
    max_age_days: float = Field(default=30.0, gt=0)  # and those stamped longer ago than this (docs/feeds.md)
    command_timeout_s: float = Field(default=5.0, gt=0, le=60)  # a screen waits this long for a command's verdict

    # the simulated district and its feeds
    seed: int = 7
    grids: int = Field(default=96, ge=4, le=2000)
    patrol_interval_s: float = Field(default=2.0, gt=0)
    # problems arising per 10,000 residents a day: ~40 gives a ~100k-resident street its 200–500 patrol
    # reports and ~100 citizen and hotline reports a day (shared/kpi.md, "Realistic levels")
    problems_per_10k_day: float = Field(default=40.0, ge=0)

    # sign-in (docs/security.md): the session cookie's signing key, one shift and an idle timeout,
    # failed sign-ins allowed per window, and the token that signs a wall screen in as a read-only kiosk
    secret_key: str | None = Field(default=None, repr=False)
    session_hours: float = Field(default=8.0, gt=0)
    session_idle_minutes: float = Field(default=60.0, gt=0)
    login_attempts: int = Field(default=5, ge=1)
    login_window_s: int = Field(default=300, ge=1)
    kiosk_token: str | None = Field(default=None, min_length=16, repr=False)
    password_hash_method: str = "scrypt:32768:8:1"  # werkzeug.security method string
    proxies: int = Field(default=0, ge=0, le=5)  # reverse proxies in front of the dashboard (nginx: 1), trusted for
    # the client's address (the sign-in rate limit counts per address) and scheme
    secure_cookies: bool = False  # the session cookie only over HTTPS: set it where the site is served by TLS

    def working_calendar(self, today: date | None = None) -> WorkingCalendar:
        """The calendar of these settings; ValueError says what is wrong with them. Warns (once per process) from
        December on when the official calendar does not know next year's holidays yet."""
        calendar = parse_calendar(self.work_periods, self.workdays, self.holidays, self.makeup_workdays,
                                  self.timezone, self.official_calendar)
        if (self.official_calendar and (today or date.today()) >= date(last := official_days()[2], 12, 1)
                and last not in _WARNED):
            _WARNED.add(last)
            log.warning("China's official holidays are known up to %d only (the chinesecalendar package): deadlines "
                        "after it count weekends alone; update the package, or name the days in CC_HOLIDAYS and "
                        "CC_MAKEUP_WORKDAYS", last)
        return calendar

    @property
    def trusted_media_hosts(self) -> frozenset[str]:
        return frozenset(h.strip().lower() for h in self.media_hosts.split(",") if h.strip())

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "cc.sqlite"

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.sqlite_path}"
