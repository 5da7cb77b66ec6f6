"""Cases through the ingest pipeline: opened by reports, moved by commands, audited, pushed."""
import json

import pytest
from sqlalchemy import select

from feeds.bus.push import RecordingPusher
from feeds.bus.snapshots import MemorySnapshotStore
from feeds.bus.verdicts import MemoryVerdicts, Outcome
from feeds.ingest.pipeline import Ingest
from feeds.store.models import Area, Asset, CaseAudit, CaseRow, DeadLetter
from tests import factories
from tests.factories import send


@pytest.fixture
def ingest(engine):
    return Ingest(engine, MemorySnapshotStore(), RecordingPusher())


def audit(engine, case_id):
    with engine.connect() as conn:
        rows = conn.execute(select(CaseAudit.__table__).where(CaseAudit.case_id == case_id)
                            .order_by(CaseAudit.id)).all()
    return [(r.action, r.by, json.loads(r.before), json.loads(r.after)) for r in rows]


def case_row(engine, case_id):
    with engine.connect() as conn:
        return conn.execute(select(CaseRow.__table__).where(CaseRow.id == case_id)).one()


def dead(engine):
    with engine.connect() as conn:
        return conn.execute(select(DeadLetter.__table__).order_by(DeadLetter.id)).all()


def test_a_report_opens_a_case_waiting_for_verification(ingest, engine):
    report = factories.incident("东门井盖缺失", category="facility.manhole", urgent=True)
    delta = send(ingest, report)
    view = delta["cases"][report.id]
    assert (view["state"], view["version"], view["urgent"], view["category"]) == ("reported", 1, True,
                                                                                  "facility.manhole")
    assert case_row(engine, report.id).step_started_at == report.ts
    assert audit(engine, report.id) == [("report", "P0001", {}, {"state": "reported", "version": 1})]
    assert ingest._snapshots.load()["cases"][report.id]["state"] == "reported"
    # what a screen needs to list and colour it: the text, how it came, and the open step's clock
    assert (view["text"], view["channel"], view["reported"]) == ("东门井盖缺失", report.channel.value,
                                                                 view["step_started"])
    assert view["amber"] < view["deadline"] and view["deadline"] > view["reported"]


def test_commands_move_a_case_and_each_leaves_an_audit_row(ingest, engine):
    report = factories.incident()
    send(ingest, report)
    delta = send(ingest, factories.command(report.id, "verify", 1),
                 factories.command(report.id, "register", 2),
                 factories.command(report.id, "dispatch", 3, department="sanitation", assignee="W07"))
    view = delta["cases"][report.id]
    assert (view["state"], view["version"], view["department"], view["assignee"]) == ("dispatched", 4, "sanitation",
                                                                                      "W07")
    trail = audit(engine, report.id)
    assert [a for a, *_ in trail] == ["report", "verify", "register", "dispatch"]
    assert trail[3][2]["state"] == "registered" and trail[3][3]["state"] == "dispatched"
    assert trail[3][3]["department"] == "sanitation" and trail[3][1] == "dispatcher-1"


def test_two_dispatchers_on_one_version_one_wins_the_other_is_refused_with_the_new_state(ingest, engine):
    report = factories.incident()
    send(ingest, report, factories.command(report.id, "verify", 1), factories.command(report.id, "register", 2))
    alice = factories.command(report.id, "dispatch", 3, by="alice", department="sanitation")
    bob = factories.command(report.id, "dispatch", 3, by="bob", department="urban_mgmt")
    delta = send(ingest, alice, bob)
    assert delta["cases"][report.id]["department"] == "sanitation"
    assert delta["counts"]["rejected"] == 1
    [letter] = dead(engine)
    assert letter.stage == "refused" and json.loads(letter.payload)["by"] == "bob"
    assert "now version 4, dispatched; you acted on version 3" in letter.reason
    assert case_row(engine, report.id).department == "sanitation"  # nothing overwritten


def test_a_replayed_command_changes_nothing(ingest, engine):
    report = factories.incident()
    verify = factories.command(report.id, "verify", 1)
    send(ingest, report, verify)
    assert send(ingest, verify) is None  # no delta, no dead letter
    assert case_row(engine, report.id).version == 2 and dead(engine) == []
    assert [a for a, *_ in audit(engine, report.id)] == ["report", "verify"]


@pytest.mark.parametrize("make, reason", [
    (lambda cid: factories.command("NO-SUCH-CASE", "verify", 1), "no case NO-SUCH-CASE"),
    (lambda cid: factories.command(cid, "close", 1), "cannot close a case that is reported"),
    (lambda cid: factories.command(cid, "reject", 1, reject_reason=None), "a rejection needs one of"),
])
def test_a_command_that_cannot_apply_is_refused_with_why(ingest, engine, make, reason):
    report = factories.incident()
    send(ingest, report)
    send(ingest, make(report.id))
    [letter] = dead(engine)
    assert letter.stage == "refused" and reason in letter.reason
    assert case_row(engine, report.id).version == 1


def test_a_closed_case_leaves_the_live_view(ingest, engine):
    report = factories.incident()
    send(ingest, report)
    steps = [("verify", {}), ("register", {}), ("dispatch", {"department": "sanitation"}), ("handle", {}),
             ("check_pass", {}), ("close", {})]
    delta = send(ingest, *[factories.command(report.id, a, v, **f) for v, (a, f) in enumerate(steps, start=1)])
    assert delta["cases"] == {report.id: None}
    assert report.id not in ingest._snapshots.load()["cases"]
    assert case_row(engine, report.id).state == "closed"
    assert len(audit(engine, report.id)) == 7


def test_a_case_changed_by_another_ingest_worker_meanwhile_is_refused_not_overwritten(postgres_server):
    """Two ingest workers on PostgreSQL: the other one commits a change between our read and our write."""
    from sqlalchemy import event, update

    from feeds.store.engine import make_engine, migrate
    from feeds.store.models import CASES

    url = postgres_server.rsplit("/", 1)[0] + "/cc_workers"
    admin = make_engine(postgres_server).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql("DROP DATABASE IF EXISTS cc_workers")
        conn.exec_driver_sql("CREATE DATABASE cc_workers")
    admin.dispose()
    migrate(url)
    engine, other = make_engine(url), make_engine(url)
    ingest = Ingest(engine, MemorySnapshotStore(), RecordingPusher())
    report = factories.incident()
    send(ingest, report)

    interleaved = []

    @event.listens_for(engine, "before_cursor_execute")
    def the_other_worker_commits_first(conn, cursor, statement, *args):
        if statement.startswith("UPDATE cases") and not interleaved:
            interleaved.append(statement)
            with other.begin() as c:
                c.execute(update(CASES).where(CASES.c.id == report.id).values(version=2, state="verified",
                                                                              last_command="theirs"))

    delta = send(ingest, factories.command(report.id, "verify", 1, by="ours"))
    assert interleaved  # the other worker really did write in between
    assert delta["counts"]["rejected"] == 1 and delta["cases"] == {}
    [letter] = dead(engine)
    assert letter.stage == "refused" and "changed by someone else meanwhile" in letter.reason
    row = case_row(engine, report.id)
    assert (row.version, row.last_command) == (2, "theirs")  # theirs stands
    assert [a for a, *_ in audit(engine, report.id)] == ["report"]  # and no audit row for ours
    engine.dispose()
    other.dispose()


def test_an_overdue_case_is_escalated_through_the_pipeline_with_an_audit_row(ingest, engine):
    from datetime import timedelta

    from feeds.bus.channels import MemoryBus
    from feeds.calendar import WorkingCalendar
    from feeds.cases.escalator import tick
    from feeds.schemas import FEED_CHANNELS
    from feeds.taxonomy import load

    reported = factories.now() - timedelta(minutes=45)
    report = factories.incident(category="order.vendor", urgent=True, at=reported)  # verify within 0.5 h
    send(ingest, report)
    bus = MemoryBus()
    sub = bus.subscribe(FEED_CHANNELS)
    late = factories.now()
    assert tick(engine, bus, load(), WorkingCalendar(), late) == 1
    assert tick(engine, bus, load(), WorkingCalendar(), late) == 1  # again before the ingest applied it…
    for _ in range(2):
        delivery = sub.get(1)
        ingest.receive(delivery.channel, delivery.payload)
    delta = ingest.flush()
    assert delta["cases"][report.id]["level"] == "community"
    action, by, before, after = audit(engine, report.id)[-1]
    assert (action, by, before["level"], after["level"]) == ("escalate", "system", "grid", "community")
    assert len(audit(engine, report.id)) == 2  # …and the repeat was a replay that changed nothing
    assert dead(engine) == []
    assert tick(engine, bus, load(), WorkingCalendar(), late) == 0  # at community now: nothing more yet


def _reports(engine):
    from feeds.store.models import CaseReport

    with engine.connect() as conn:
        return {r.report_id: (r.case_id, r.merged) for r in conn.execute(select(CaseReport.__table__))}


def test_a_report_repeating_an_open_case_nearby_is_merged_into_it(ingest, engine):
    first = factories.incident("东门垃圾堆积", lat=30.69200, lon=111.28650)
    send(ingest, first)
    again = factories.incident("东门口有垃圾", lat=30.69215, lon=111.28660, channel="citizen", reporter_id=None)
    delta = send(ingest, again)
    assert delta["cases"] == {}  # no new case
    assert _reports(engine) == {first.id: (first.id, False), again.id: (first.id, True)}
    assert [(a, by, after) for a, by, _, after in audit(engine, first.id)] == [
        ("report", "P0001", {"state": "reported", "version": 1}), ("merge", "citizen", {"report": again.id})]
    assert case_row(engine, first.id).version == 1  # the case itself did not change


@pytest.mark.parametrize("other", [
    {"category": "order.parking"},                   # another kind of problem
    {"lat": 30.69300},                               # about 110 m away
])
def test_a_different_or_distant_report_opens_its_own_case(ingest, engine, other):
    first = factories.incident(lat=30.69200, lon=111.28650)
    second = factories.incident(**{"lat": 30.69210, "lon": 111.28650, **other})
    delta = send(ingest, first, second)
    assert set(delta["cases"]) == {first.id, second.id}
    assert _reports(engine)[second.id] == (second.id, False)


def test_a_closed_case_is_not_reopened_by_a_new_report(ingest, engine):
    first = factories.incident()
    send(ingest, first, factories.command(first.id, "reject", 1, reject_reason="untrue"))
    second = factories.incident()
    assert set(send(ingest, second)["cases"]) == {second.id}


def test_a_camera_alert_opens_a_case_to_confirm_in_its_cameras_grid(ingest, engine):
    with engine.begin() as conn:
        conn.execute(Area.__table__.insert(), [{"code": "G9", "level": "grid", "parent_code": None, "name": "九号网格",
                                                "households": 300, "population": 900, "geometry": "{}"}])
        conn.execute(Asset.__table__.insert(), [{"id": "CAM0007", "kind": "camera", "grid_code": "G9",
                                                 "name": "路口摄像头", "lat": 30.69, "lon": 111.28}])
    smoke = factories.alert("CAM0007", alert_class="smoke_fire", confidence=0.91)
    again = factories.alert("CAM0007", alert_class="smoke_fire", confidence=0.88)
    unknown = factories.alert("CAM0007", alert_class="license_plate", lon=111.30)
    delta = send(ingest, smoke, again, unknown)
    view = delta["cases"][smoke.id]
    assert (view["category"], view["urgent"], view["grid"], view["state"]) == ("safety.fire_hazard", True, "G9",
                                                                               "reported")
    row = case_row(engine, smoke.id)
    assert row.channel == "camera" and row.occurred_at == smoke.started_at and "烟火" in row.description
    assert set(delta["cases"]) == {smoke.id}  # the repeat is merged into it; an unmapped class opens nothing
    assert [a for a, *_ in audit(engine, smoke.id)] == ["report", "merge"]


# ---- verdicts: the answer a screen waits for after sending a command


@pytest.fixture
def answered(engine):
    """An ingest that posts verdicts, with the pushes and the verdicts in one record to check their order."""
    events: list[str] = []

    class Pusher(RecordingPusher):
        def push(self, event, data, room=None):
            events.append("push")
            super().push(event, data, room)

    class Verdicts(MemoryVerdicts):
        def post(self, verdicts):
            events.append("verdicts")
            super().post(verdicts)

    verdicts = Verdicts()
    return Ingest(engine, MemorySnapshotStore(), Pusher(), verdicts=verdicts), verdicts, events


def test_every_command_gets_a_verdict_after_every_screen_was_told(answered, engine):
    ingest, verdicts, events = answered
    report = factories.incident()
    send(ingest, report)
    events.clear()
    ok = factories.command(report.id, "verify", 1)
    late = factories.command(report.id, "verify", 1, by="dispatcher-2")  # saw version 1 too: a conflict
    wrong = factories.command(report.id, "close", 2)  # a verified case cannot be closed
    nobody = factories.command("no-such-case", "verify", 1)
    send(ingest, ok, late, wrong, nobody)
    assert events == ["push", "verdicts"]  # the sender hears after the other screens were pushed the change
    got = {v.command_id: v for v in verdicts.posted}
    assert (got[ok.id].outcome, got[ok.id].version) == (Outcome.APPLIED, 2)
    assert got[late.id].outcome is Outcome.CONFLICT and "version 2, verified" in got[late.id].reason
    assert got[wrong.id].outcome is Outcome.REFUSED and "cannot close a case that is verified" in got[wrong.id].reason
    assert got[nobody.id].outcome is Outcome.REFUSED and "no case no-such-case" in got[nobody.id].reason
    send(ingest, ok)  # sent again (a screen retrying): applied once, answered again
    assert verdicts.wait(ok.id, 0.1).outcome is Outcome.REPLAYED
    assert [a for a, *_ in audit(engine, report.id)] == ["report", "verify"]


def test_steps_in_one_batch_get_the_versions_they_made(answered):
    ingest, verdicts, _ = answered
    report = factories.incident()
    send(ingest, report)
    first, second = factories.command(report.id, "verify", 1), factories.command(report.id, "register", 2)
    send(ingest, first, second)
    assert (verdicts.wait(first.id, 0.1).version, verdicts.wait(second.id, 0.1).version) == (2, 3)
