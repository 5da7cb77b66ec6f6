"""A camera alert sent again as it goes on (Frigate's review updates): the row follows it, the case it opened
does not move, and the same message again changes nothing."""
from datetime import timedelta

from sqlalchemy import func, select

from feeds.bus.push import RecordingPusher
from feeds.bus.snapshots import MemorySnapshotStore
from feeds.ingest.pipeline import Ingest
from feeds.store.models import CameraAlertRow, CaseRow
from tests import factories
from tests.factories import send


def _row(engine, alert_id):
    with engine.connect() as conn:
        return conn.execute(select(CameraAlertRow.__table__).where(CameraAlertRow.id == alert_id)).first()


def _cases(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(CaseRow)).scalar_one()


def test_an_alert_followed_to_its_end(engine):
    ingest = Ingest(engine, MemorySnapshotStore(), RecordingPusher())
    first = factories.alert(at=factories.now() - timedelta(minutes=2), confidence=0.62, seen="person")
    send(ingest, first)
    assert _cases(engine) == 1
    case_version = _version(engine, first.id)
    snapshot = "http://frigate.local:5000/api/events/1718987128.947436-g92ztx/snapshot.jpg"
    update = first.model_copy(update={"confidence": 0.91, "seen": "person, car · 菜场北门", "snapshot_url": snapshot,
                                      "ts": first.ts + timedelta(seconds=20)})
    send(ingest, update)
    row = _row(engine, first.id)
    assert (row.confidence, row.seen, row.snapshot_url, row.ended_at) == (0.91, "person, car · 菜场北门", snapshot,
                                                                          None)
    lower = update.model_copy(update={"confidence": 0.5, "seen": None, "snapshot_url": None,
                                      "ended_at": first.started_at + timedelta(minutes=3)})
    send(ingest, lower)  # the end: a lower score of the last frame does not lower what was seen
    row = _row(engine, first.id)
    assert (row.confidence, row.seen, row.snapshot_url) == (0.91, "person, car · 菜场北门", snapshot)
    assert row.ended_at == first.started_at + timedelta(minutes=3)
    send(ingest, lower)  # replayed: nothing moves
    assert _row(engine, first.id) == row
    send(ingest, first.model_copy(update={"seen": "person, dog · 菜场南门"}))  # an earlier one, late: it only adds
    assert _row(engine, first.id).seen == "person, car, dog · 菜场北门, 菜场南门"
    assert _cases(engine) == 1 and _version(engine, first.id) == case_version  # the case stays as it was


def _version(engine, case_id):
    with engine.connect() as conn:
        return conn.execute(select(CaseRow.version).where(CaseRow.id == case_id)).scalar_one()
