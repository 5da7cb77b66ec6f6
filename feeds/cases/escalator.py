"""Entry point: `python -m feeds.cases.escalator` escalates overdue cases, once a minute, through the pipeline.

It only reads the database; every escalation is published as a case command from the user "system", so
the ingest applies it with its version check and audit row like any person's action. Command ids are
derived from the case and its version, so a repeated tick is a replay that changes nothing.
"""
from __future__ import annotations

import logging
import signal
import sys
import threading
from datetime import datetime

import redis
from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from feeds.bus.channels import Bus, producer_bus, publish_messages
from feeds.bus.connect import redis_client
from feeds.bus.lease import Lease, OneActive, holder_name
from feeds.calendar import WorkingCalendar
from feeds.cases.escalation import SYSTEM, OpenStep, escalations
from feeds.cases.machine import OPEN_STEP
from feeds.clock import utcnow
from feeds.outage import Outage
from feeds.schemas import CaseCommand
from feeds.settings import Settings
from feeds.store.engine import make_engine
from feeds.store.models import CASES
from feeds.taxonomy import Taxonomy, load

log = logging.getLogger("feeds.cases.escalator")


def open_steps(conn: Connection) -> list[OpenStep]:
    c = CASES.c
    rows = conn.execute(select(c.id, c.category, c.urgent, c.state, c.level, c.version, c.step_started_at,
                               c.extended_hours).where(c.state.in_([s.value for s in OPEN_STEP])))
    return [OpenStep(r.id, r.category, r.urgent, r.state, r.level, r.version, r.step_started_at, r.extended_hours)
            for r in rows]


def escalation_commands(conn: Connection, taxonomy: Taxonomy, calendar: WorkingCalendar,
                        now: datetime) -> list[CaseCommand]:
    return [CaseCommand(kind="case_command", schema_version=1, id=f"esc-{case.case_id}-v{case.version}"[:64],
                        source="escalator", ts=now, drill_id=None, case_id=case.case_id, action="escalate",
                        by=SYSTEM, reason=reason, expected_version=case.version, department=None, assignee=None,
                        reject_reason=None, hours=None)
            for case, reason in escalations(taxonomy, calendar, open_steps(conn), now)]


def tick(engine, bus: Bus, taxonomy: Taxonomy, calendar: WorkingCalendar, now: datetime) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        commands = escalation_commands(conn, taxonomy, calendar, now)
    if commands:
        publish_messages(bus, commands)
        log.info("escalated %d overdue case(s)", len(commands))
    return len(commands)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s [escalator] %(message)s")
    settings = Settings()
    if not settings.redis_url:
        sys.exit("CC_REDIS_URL (or REDIS_URL) must point at the Redis server of the ingest")
    try:
        calendar = settings.working_calendar()
    except ValueError as err:
        sys.exit(f"the working calendar in the settings is wrong: {err}")
    engine = make_engine(settings.db_url)
    client = redis_client(settings.redis_url)
    bus = producer_bus(client, settings.bus, settings.stream_maxlen, settings.stream_replicas)
    taxonomy = load()
    one = OneActive(Lease(client, "escalator", holder_name(), settings.lease_ttl_s))  # one escalator checks
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, one.halt)

    def check(stop: threading.Event) -> None:
        log.info("checking open cases every %d s", settings.escalation_interval_s)
        outage = Outage("the escalator's Redis or database", log)
        while not stop.is_set():
            try:
                tick(engine, bus, taxonomy, calendar, utcnow())
                outage.ok()
            except (redis.ConnectionError, redis.TimeoutError, OperationalError) as err:
                stop.wait(outage.failed(err))  # tried again soon: an overdue case waits for no interval
                continue
            except Exception:
                log.exception("escalation check failed")
            stop.wait(settings.escalation_interval_s)

    one.run(check)


if __name__ == "__main__":
    main()
