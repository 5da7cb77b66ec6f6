"""Every case action through the real path: Dash's endpoint (as the console calls it) → the command on Redis
Streams → the ingest → the database, the audit trail and the verdict back. Who may act and who is refused.

A real Redis and database, the real app with Flask's test client, the ingest running in a thread."""
from __future__ import annotations

import json
import logging
import threading
from dataclasses import asdict

import pytest
from sqlalchemy import select

from dashboard import ids
from dashboard.app import create_app
from dashboard.security.access import USER_ROLES, Permission, Role, may
from dashboard.security.users import add_user
from dashboard.views.case_actions import Seen
from feeds.bus.channels import Merged, RedisBus, StreamBus, publish_messages
from feeds.bus.push import RecordingPusher
from feeds.bus.snapshots import RedisSnapshotStore
from feeds.bus.verdicts import RedisVerdicts
from feeds.cases.writes import case_view
from feeds.ingest.pipeline import Ingest
from feeds.schemas import FEED_CHANNELS
from feeds.settings import Settings
from feeds.store.engine import make_engine, migrate
from feeds.store.models import CaseAudit, CaseRow
from tests import factories
from tests.waiting import wait_until

FAST_HASH = "pbkdf2:sha256:1000"
PASSWORD = "correct horse"
ACTING = (Role.DISPATCHER, Role.OPERATOR)


@pytest.fixture
def site(redis_client, redis_server, db_url):
    migrate(db_url)
    engine = make_engine(db_url)
    with engine.begin() as conn:
        for role in USER_ROLES:
            add_user(conn, role.value, role.value, PASSWORD, method=FAST_HASH, display_name=f"{role} 李")
    settings = Settings(redis_url=redis_server, database_url=db_url, secret_key="k" * 40, kiosk_token="t" * 20,
                        password_hash_method=FAST_HASH, command_timeout_s=10)
    app, _ = create_app(settings, engine=engine, snapshots=RedisSnapshotStore(redis_client), async_mode="threading")
    ingest = Ingest(engine, RedisSnapshotStore(redis_client), RecordingPusher(), window_s=0.01,
                    verdicts=RedisVerdicts(redis_client))
    stop = threading.Event()
    subscription = Merged([RedisBus(redis_client).subscribe(FEED_CHANNELS),
                           StreamBus(redis_client).subscribe(FEED_CHANNELS)])
    thread = threading.Thread(target=ingest.run, args=(subscription, stop), daemon=True)
    thread.start()
    yield app, engine, StreamBus(redis_client)
    stop.set()
    thread.join(5)
    subscription.close()
    engine.dispose()


def client_of(app, role: Role | None):
    c = app.server.test_client()
    if role is not None:
        assert c.post("/login", data={"username": role.value, "password": PASSWORD}).status_code == 302
    return c


def case_now(engine, case_id):
    with engine.connect() as conn:
        row = conn.execute(select(CaseRow.__table__).where(CaseRow.id == case_id)).first()
    return None if row is None else case_view(row._mapping)


def trail(engine, case_id):
    with engine.connect() as conn:
        return [(r.action, r.by) for r in conn.execute(select(CaseAudit.__table__)
                                                         .where(CaseAudit.case_id == case_id).order_by(CaseAudit.id))]


def open_case(engine, bus, text="北街垃圾满溢", offset=0.0):
    report = factories.incident(text, lat=factories.CENTRE[0] + offset, lon=factories.CENTRE[1] + offset)
    publish_messages(bus, [report])
    return wait_until(lambda: case_now(engine, report.id), 10, "the case")


def confirm(c, seen: dict, *, action: str, reason: str = "按规定处理", target=None, department=None, assignee=None,
            hours=None, reject=None, done=0):
    """What the console sends when the confirm button is clicked: the form's fields as Dash states."""
    outputs = [{"id": ids.ACT_RESULT, "property": "children"}, {"id": ids.ACT_UNDO, "property": "hidden"},
               {"id": ids.ACT_UNDO_DATA, "property": "data"}, {"id": ids.ACT_DONE, "property": "data"}]
    states = [(ids.ACT_SEEN, "data", {**seen, "action": action}), (ids.ACT_TARGET, "value", target),
              (ids.ACT_DEPARTMENT, "value", department), (ids.ACT_ASSIGNEE, "value", assignee),
              (ids.ACT_HOURS, "value", hours), (ids.ACT_REJECT, "value", reject), (ids.ACT_REASON, "value", reason),
              (ids.ACT_DONE, "data", done), (ids.DISPATCH_LANG, "data", "zh")]
    return c.post("/_dash-update-component", json={
        "output": "..." .join(f"{o['id']}.{o['property']}" for o in outputs).join(["..", ".."]),
        "outputs": outputs,
        "inputs": [{"id": ids.ACT_CONFIRM, "property": "n_clicks", "value": 1}],
        "changedPropIds": [f"{ids.ACT_CONFIRM}.n_clicks"],
        "state": [{"id": i, "property": p, "value": v} for i, p, v in states]})


def note(response) -> str:
    body = response.get_json()["response"]
    return json.dumps(body[ids.ACT_RESULT]["children"], ensure_ascii=False)


def act(c, engine, case, action, **form) -> str:
    response = confirm(c, Seen.of(case).data(), action=action, **form)
    assert response.status_code == 200, response.text
    return note(response)


# a case's whole life, every action once: (action, form, the state it leads to)
LIFE = [
    ("verify", {}, "verified"),
    ("register", {}, "registered"),
    ("park", {}, "parked"),
    ("restore", {}, "registered"),
    ("dispatch", {"department": "sanitation"}, "dispatched"),
    ("reassign", {"target": "person:GW-7"}, "dispatched"),
    ("extend", {"hours": 8}, "dispatched"),
    ("escalate", {}, "dispatched"),
    ("send_back", {}, "registered"),
    ("dispatch", {"department": "sanitation", "assignee": "GW-8"}, "dispatched"),
    ("handle", {}, "handled"),
    ("check_fail", {}, "dispatched"),
    ("handle", {}, "handled"),
    ("check_pass", {}, "checked"),
    ("close", {}, "closed"),
]
ENDINGS = [("reject", {"reject": "untrue"}, "rejected"), ("self_handle", {}, "handled"), ("void", {}, "void")]


@pytest.mark.parametrize("role", ACTING)
def test_every_action_goes_through_the_pipeline_with_its_audit_row_and_verdict(site, role):
    app, engine, bus = site
    c = client_of(app, role)
    case = open_case(engine, bus)
    for action, form, state in LIFE:
        text = act(c, engine, case, action, **form)
        assert "已执行" in text, (action, text)
        case = case_now(engine, case["id"])
        assert case["state"] == state, action
    assert case["level"] == "community" and case["extended_hours"] == 8 and case["reworks"] == 1
    assert trail(engine, case["id"]) == [("report", "P0001")] + [(a, role.value) for a, *_ in LIFE]
    for n, (action, form, state) in enumerate(ENDINGS, start=1):
        other = open_case(engine, bus, f"第{n}件", offset=0.01 * n)
        assert "已执行" in act(c, engine, other, action, **form)
        assert case_now(engine, other["id"])["state"] == state


@pytest.mark.parametrize("role", [r for r in Role if r not in ACTING] + [None], ids=str)
def test_everyone_else_is_refused_every_action_and_the_refusal_is_logged(site, role, caplog):
    app, engine, bus = site
    caplog.set_level(logging.WARNING, logger="dashboard.security.auth")
    case = open_case(engine, bus)
    c = client_of(app, role) if role is not Role.KIOSK else app.server.test_client()
    if role is Role.KIOSK:
        assert c.get("/?kiosk=" + "t" * 20).status_code == 302
    for action, form, _ in LIFE[:1] + ENDINGS + LIFE[4:]:
        response = confirm(c, Seen.of(case).data(), action=action, **form)
        if role is None:
            assert response.status_code == 401  # nobody signed in: not even the endpoint
            continue
        if not may(role, Permission.VIEW_DISPATCH):  # not even the console's callbacks (kiosk, trainer)
            assert response.status_code == 403, action
            assert f"to {role.value} ({role.value})" in caplog.records[-1].getMessage()
            assert f"needs {Permission.VIEW_DISPATCH}" in caplog.records[-1].getMessage()
            continue
        assert response.status_code == 200 and "无权" in note(response), action
        assert f"refused callback /_dash-update-component to {role.value}" in caplog.records[-1].getMessage()
    assert case_now(engine, case["id"])["version"] == 1 and trail(engine, case["id"]) == [("report", "P0001")]


def test_a_stale_form_is_a_conflict_that_names_who_acted_first_and_changes_nothing(site):
    app, engine, bus = site
    first, second = client_of(app, Role.DISPATCHER), client_of(app, Role.OPERATOR)
    case = open_case(engine, bus)
    assert "已执行" in act(first, engine, case, "reject", reject="untrue")
    text = act(second, engine, case, "verify")  # the form opened on version 1, before the rejection
    assert "未执行" in text and "dispatcher 李" in text and "不予立案" in text
    assert trail(engine, case["id"]) == [("report", "P0001"), ("reject", "dispatcher")]


def test_an_incomplete_form_is_refused_with_what_is_missing_and_nothing_is_sent(site):
    app, engine, bus = site
    c = client_of(app, Role.DISPATCHER)
    case = open_case(engine, bus)
    assert "请填写原因" in act(c, engine, case, "verify", reason="  ")
    assert "请选择不予立案原因" in act(c, engine, case, "reject")
    assert "不允许" in act(c, engine, case, "close")
    assert trail(engine, case["id"]) == [("report", "P0001")]


def test_undo_takes_a_reassignment_back_within_its_window(site):
    app, engine, bus = site
    c = client_of(app, Role.DISPATCHER)
    case = open_case(engine, bus)
    for action, form, _ in [*LIFE[:2], ("dispatch", {"department": "sanitation", "assignee": "GW-1"}, None)]:
        act(c, engine, case_now(engine, case["id"]), action, **form)
    before = case_now(engine, case["id"])
    response = confirm(c, Seen.of(before).data(), action="reassign", target="person:GW-9")
    body = response.get_json()["response"]
    undo = body[ids.ACT_UNDO_DATA]["data"]
    assert body[ids.ACT_UNDO]["hidden"] is False and undo["version"] == before["version"] + 1
    assert case_now(engine, case["id"])["assignee"] == "GW-9"
    key = next(k for k, v in app.callback_map.items() if any(i["id"] == ids.ACT_UNDO for i in v["inputs"]))
    outputs = [dict(zip(("id", "property"), part.rsplit(".", 1), strict=True)) for part in key.strip(".").split("...")]
    r = c.post("/_dash-update-component", json={
        "output": key, "outputs": outputs, "inputs": [{"id": ids.ACT_UNDO, "property": "n_clicks", "value": 1}],
        "changedPropIds": [f"{ids.ACT_UNDO}.n_clicks"],
        "state": [{"id": ids.ACT_UNDO_DATA, "property": "data", "value": undo},
                  {"id": ids.ACT_DONE, "property": "data", "value": 1},
                  {"id": ids.DISPATCH_LANG, "property": "data", "value": "zh"}]})
    assert r.status_code == 200, r.text
    after = case_now(engine, case["id"])
    assert (after["assignee"], after["department"], after["state"]) == ("GW-1", "sanitation", "dispatched")
    assert [a for a, _ in trail(engine, case["id"])][-2:] == ["reassign", "reassign"]
    assert asdict(Seen.of(after))["version"] == before["version"] + 2
