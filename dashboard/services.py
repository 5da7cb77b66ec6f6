"""What the screens read and act on, built once by `create_app` and handed to every page and every callback
module's `register(app, services)`: the settings, the database, the live state, the command desks."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import redis
from sqlalchemy.engine import Connection, Engine

from dashboard.background import Recent
from dashboard.http import realtime
from dashboard.http.casedesk import CaseDesk
from dashboard.http.territory import TerritoryCache
from dashboard.views.queue import Names
from feeds.bus.snapshots import SnapshotStore
from feeds.calendar import WorkingCalendar
from feeds.cases.reads import actor_names, grid_names
from feeds.categories import CATEGORIES, labels
from feeds.drills.control import DrillDeskClient, DrillRecord, drill_record
from feeds.kpis.board import BoardStore
from feeds.kpis.figures import KpiRules
from feeds.kpis.load import SettledDays
from feeds.settings import Settings
from feeds.taxonomy import Taxonomy


@dataclass(frozen=True)
class Services:
    settings: Settings
    engine: Engine
    redis: redis.Redis
    snapshots: SnapshotStore  # the live state, as the ingest keeps it
    boards: BoardStore  # the latest KPI board, as its job writes it
    rules: KpiRules  # the taxonomy and the working calendar the figures and clocks follow
    territory: TerritoryCache
    commands: CaseDesk  # sends a person's case command and waits for its verdict
    drills: DrillDeskClient  # sends drill controls to the drill desk
    clock: Callable[[], float] = field(default=time.time)
    trends: SettledDays = field(default_factory=SettledDays)  # the settled days of the trends shown, kept
    leader_pages: Recent[Any] = field(default_factory=Recent)  # the leader pages made lately, kept

    @property
    def taxonomy(self) -> Taxonomy:
        return self.rules.taxonomy

    @property
    def calendar(self) -> WorkingCalendar:
        return self.rules.calendar

    @property
    def zone(self) -> ZoneInfo:
        """The site's zone (CC_TIMEZONE), the one its working calendar counts days in."""
        return self.rules.calendar.zone

    @property
    def timezone(self) -> str:
        return self.zone.key

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def start_of_today(self, now: datetime) -> datetime:
        local = now.astimezone(self.zone)
        return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)

    def names(self, conn: Connection, lang: str) -> Names:
        """How cases' codes are shown: categories, grids, departments and people by name."""
        return Names(labels(CATEGORIES, lang), grid_names(conn), self.taxonomy.departments, actor_names(conn))

    def drill_of(self, drill: Any) -> DrillRecord | None:
        """The drill a screen was opened in (`?drill=`), if it is a drill id and the drill exists."""
        if not isinstance(drill, str) or not realtime.valid_drill(drill):
            return None
        with self.engine.connect() as conn:
            return drill_record(conn, drill)
