"""GET /api/replay and the /replay page on the real app, a real Redis and a real database (SQLite and
PostgreSQL): chunks, validation with reasons, drill against live, who may replay, and that replaying writes
nothing (every table's row count and the live snapshot's Redis keys stay as they were)."""
from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import redis
from sqlalchemy import func, insert, select

from dashboard.app import create_app
from dashboard.security import auth
from dashboard.security.users import add_user
from feeds.bus.push import RecordingPusher
from feeds.bus.snapshots import RedisSnapshotStore
from feeds.calendar import WorkingCalendar
from feeds.ingest.pipeline import Ingest
from feeds.replay.frames import played
from feeds.replay.reads import state_at
from feeds.settings import Settings
from feeds.store.engine import make_engine
from feeds.store.models import Base, DrillRow
from feeds.taxonomy import load
from tests import factories

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Beijing
END = T0 + timedelta(minutes=10)
FAST_HASH = "pbkdf2:sha256:1000"
PASSWORD = "correct horse"
KIOSK = "kiosk-token-for-the-replay-tests"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def _history(engine, client) -> None:
    """Ten minutes through the real ingest into the database and the live snapshot in Redis: patrols,
    reports and alerts, live and in drill D1, and cases worked through the loop (some closed)."""
    rng = random.Random(5)
    clock = Clock()
    ingest = Ingest(engine, RedisSnapshotStore(client), RecordingPusher(), clock=clock)
    steps = [("verify", {}), ("register", {}), ("dispatch", {"department": "sanitation"}), ("handle", {}),
             ("check_pass", {}), ("close", {})]
    progress: dict[str, int] = {}
    with engine.begin() as conn:
        conn.execute(insert(DrillRow.__table__).values(
            id="D1", scenario="typhoon-night", title_zh="台风夜", title_en="Typhoon night", targets="{}",
            duration_min=10, starts_at="21:00", started_at=T0, started_by="trainer", ended_at=END,
            ended_by="trainer", clock=json.dumps([[int(T0.timestamp() * 1000), 0, 1.0]])))
    while clock.now < END:
        batch = [factories.position(f"P{u}", lat=30.69 + rng.random() / 100, at=clock.now) for u in range(1, 5)]
        if rng.random() < 0.25:
            drill = "D1" if rng.random() < 0.3 else None
            report = factories.incident(f"报告{len(progress)}", at=clock.now, lat=30.6 + rng.random() / 10,
                                        drill_id=drill)
            batch.append(report)
            progress[report.id] = 0
        for cid, done in list(progress.items()):
            if done < len(steps) and rng.random() < 0.3:
                action, extra = steps[done]
                batch.append(factories.command(cid, action, done + 1, at=clock.now, **extra))
                progress[cid] = done + 1
        clock.now += timedelta(milliseconds=3)
        factories.send(ingest, *batch)
        clock.now += timedelta(seconds=rng.choice([2, 3, 5]))


@pytest.fixture
def site(redis_server, db_url):
    engine = make_engine(db_url)
    client = redis.Redis.from_url(redis_server)
    client.flushall()
    _history(engine, client)
    settings = Settings(redis_url=redis_server, database_url=db_url, secret_key="s" * 40, kiosk_token=KIOSK,
                        password_hash_method=FAST_HASH)
    throttle = auth.LoginThrottle(client, 50, 60, prefix=f"cc:login:{uuid.uuid4().hex}")
    app, _ = create_app(settings, engine=engine, snapshots=RedisSnapshotStore(client), async_mode="threading",
                        login_throttle=throttle)
    with engine.begin() as conn:
        for role in ("leader", "trainer", "dispatcher"):
            add_user(conn, role, role, PASSWORD, method=FAST_HASH)
    yield app, engine, client
    client.close()
    engine.dispose()


def _client(app, who: str | None):
    c = app.server.test_client()
    if who == "kiosk":
        assert c.get(f"/?kiosk={KIOSK}").status_code == 302
    elif who:
        assert c.post("/login", data={"username": who, "password": PASSWORD}).status_code == 302
    return c


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def _all_chunks(c, query: str) -> tuple[dict, list[dict], int]:
    first = c.get(f"/api/replay?{query}&limit=40")
    assert first.status_code == 200, first.text
    body = first.json
    snapshot, frames, chunks = body["snapshot"], list(body["frames"]), 1
    while not body["done"]:
        assert len(body["frames"]) <= 40
        body = c.get(f"/api/replay?{query}&limit=40&after_seq={body['next_after_seq']}").json
        assert "snapshot" not in body
        frames += body["frames"]
        chunks += 1
    return snapshot, frames, chunks


def test_a_period_comes_in_chunks_that_add_up_to_the_state_at_its_end(site):
    app, engine, _ = site
    c = _client(app, "leader")
    start = T0 + timedelta(minutes=2)
    snapshot, frames, chunks = _all_chunks(c, f"from={_ms(start)}&to=2026-11-23T01:10:00Z")
    assert chunks >= 3 and len(frames) > 40
    assert [f["seq"] for f in frames] == sorted({f["seq"] for f in frames})
    assert all(start.timestamp() * 1000 <= f["at"] < END.timestamp() * 1000 for f in frames)
    assert not any(v and v["drill"] for f in frames for v in f["cases"].values())  # live only
    assert any(v is None for f in frames for v in f["cases"].values())  # cases were closed in the period
    with engine.connect() as conn:
        direct = state_at(conn, END, None, load(), WorkingCalendar())
    assert played(snapshot, frames)["cases"] == direct["cases"]
    # a time without a zone is the command centre's (Beijing): the same period
    same = c.get("/api/replay?from=2026-11-23T09:02&to=2026-11-23T09:10&limit=40").json
    assert (same["period"]["from"], same["period"]["to"]) == (_ms(start), _ms(END))


def test_a_drill_is_replayed_from_its_own_rows_over_its_own_period(site):
    app, _, _ = site
    c = _client(app, "trainer")
    snapshot, frames, _ = _all_chunks(c, "drill=D1")
    first = c.get("/api/replay?drill=D1").json["period"]
    assert (first["from"], first["to"], first["drill"], first["title_zh"]) == (_ms(T0), _ms(END), "D1", "台风夜")
    cases = {cid for f in frames for cid in f["cases"]}
    assert cases and all(v["drill"] == "D1" for f in frames for v in f["cases"].values() if v)
    live = c.get(f"/api/replay?from={_ms(T0)}&to={_ms(END)}&limit=600").json["frames"]
    assert not cases & {cid for f in live for cid in f["cases"]}
    assert snapshot["cases"] == {} and not any(f["patrols"] for f in frames)  # the drill had no patrols of its own


@pytest.mark.parametrize(("query", "why"), [
    ("from=yesterday&to=2026-11-23T10:00", "not a time: 'yesterday'"),
    ("from=2026-11-23T10:00&to=2026-11-23T10:00", "must be after the start"),
    ("from=2026-11-23T10:00&to=2026-11-23T09:00", "must be after the start"),
    ("from=2026-11-01T00:00&to=2026-11-23T00:00", "at most 7 days"),
    ("drill=NOPE", "no drill 'NOPE'"),
    ("drill=bad%20id!", "not a drill id"),
    ("from=2026-11-23T09:00", "from and to are required"),
    ("from=2026-11-23T09:00&to=2026-11-23T10:00&limit=0", "limit must be between 1 and 600"),
    ("from=2026-11-23T09:00&to=2026-11-23T10:00&after_seq=x", "after_seq must be a whole number"),
])
def test_a_bad_request_is_refused_with_the_reason(site, query, why):
    app, _, _ = site
    r = _client(app, "leader").get(f"/api/replay?{query}")
    assert r.status_code == 400 and why in r.json["error"], r.text


def test_replaying_writes_nothing_and_leaves_the_live_state_alone(site):
    app, engine, client = site

    def rows():
        with engine.connect() as conn:
            return {t.name: conn.execute(select(func.count()).select_from(t)).scalar()
                    for t in Base.metadata.sorted_tables}

    def live_keys():
        return {k: client.dump(k) for k in sorted(client.keys("cc:live:*"))}

    c = _client(app, "leader")  # signing in writes its session row: before the count
    before_rows, before_live = rows(), live_keys()
    assert before_rows["cases"] > 0 and before_live
    _all_chunks(c, f"from={_ms(T0)}&to={_ms(END)}")
    _all_chunks(c, "drill=D1")
    assert c.get("/replay").status_code == 200
    assert rows() == before_rows
    assert live_keys() == before_live


def test_who_may_replay(site):
    app, _, _ = site
    query = f"/api/replay?from={_ms(T0)}&to={_ms(END)}"
    assert _client(app, None).get(query).status_code == 401
    kiosk = _client(app, "kiosk")
    assert kiosk.get(query).status_code == 403 and kiosk.get("/replay").status_code == 403
    for who in ("leader", "trainer", "dispatcher"):
        c = _client(app, who)
        assert c.get(query).status_code == 200 and c.get("/replay").status_code == 200
