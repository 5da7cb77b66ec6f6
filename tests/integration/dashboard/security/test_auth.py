"""Sign-in and the guard on the real app: pages, API, Dash's endpoints, callbacks and the socket.

A real Redis (the login throttle and the Socket.IO queue), a migrated SQLite database, Flask's test client,
an injected clock: no sleeps."""
from __future__ import annotations

import logging
import socket
import threading
import uuid
from dataclasses import dataclass

import dash
import hypothesis
import pytest
import redis
import socketio as socketio_client
from dash import Dash, Input, Output
from dash.exceptions import PreventUpdate
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

from dashboard.app import create_app
from dashboard.security import auth
from dashboard.security.access import USER_ROLES, Permission, Role, rule_for
from dashboard.security.users import add_user, set_disabled, set_password
from devstack.services import free_port
from feeds.bus.push import NAMESPACE
from feeds.bus.snapshots import RedisSnapshotStore
from feeds.settings import Settings
from feeds.store.engine import make_engine, migrate
from tests.waiting import wait_until

FAST_HASH = "pbkdf2:sha256:1000"  # the tests' users; real ones get scrypt (settings)
KIOSK = "kiosk-token-for-the-tests-0123"
PASSWORD = "correct horse"
ATTEMPTS, WINDOW_S = 3, 60


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Site:
    app: Dash
    socketio: object
    settings: Settings
    engine: object
    clock: Clock
    throttle: auth.LoginThrottle


@pytest.fixture(scope="module")
def site(redis_server, tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('auth') / 'cc.sqlite'}"
    migrate(url)
    engine = make_engine(url)
    clock = Clock()
    settings = Settings(redis_url=redis_server, database_url=url, secret_key="s" * 40, kiosk_token=KIOSK,
                        password_hash_method=FAST_HASH, session_hours=8, session_idle_minutes=30)
    client = redis.Redis.from_url(redis_server)
    throttle = auth.LoginThrottle(client, ATTEMPTS, WINDOW_S, clock=clock, prefix=f"cc:login:{uuid.uuid4().hex}")
    app, socketio = create_app(settings, engine=engine, snapshots=RedisSnapshotStore(client),
                               async_mode="threading", login_throttle=throttle, clock=clock)
    with engine.begin() as conn:
        for role in USER_ROLES:
            add_user(conn, role.value, role.value, PASSWORD, method=FAST_HASH, display_name=f"{role} 张")
        add_user(conn, "gone", "dispatcher", PASSWORD, method=FAST_HASH)
        set_disabled(conn, "gone")
    yield Site(app, socketio, settings, engine, clock, throttle)
    engine.dispose()
    client.close()


@pytest.fixture
def fresh(site):
    """No failed attempts counted yet, and the clock in a new throttle window."""
    site.clock.now += WINDOW_S * 3
    return site


def sign_in(site, who: Role | None):
    c = site.app.server.test_client()
    if who is Role.KIOSK:
        assert c.get(f"/?kiosk={KIOSK}").status_code == 302
    elif who is not None:
        r = c.post("/login", data={"username": who.value, "password": PASSWORD})
        assert r.status_code == 302, r.text
    return c


def route_to(c, path: str):
    """What Dash's page router asks the server for when the browser shows `path`."""
    return c.post("/_dash-update-component", json={
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": path},
                   {"id": "_pages_location", "property": "search", "value": ""}],
        "changedPropIds": ["_pages_location.pathname"], "state": []})


WHO = [None, *Role]
PAGE_READERS = {"/": set(Role), "/dead-letters": {Role.OPERATOR, Role.ADMIN}}


@pytest.mark.parametrize("who", WHO, ids=str)
def test_each_identity_gets_exactly_its_pages_the_layouts_and_the_snapshot(fresh, who):
    c = sign_in(fresh, who)
    for page, readers in PAGE_READERS.items():
        page_status = c.get(page).status_code
        layout = route_to(c, page)
        if who in readers:
            assert page_status == 200 and layout.status_code == 200, page
            assert "_pages_content" in layout.text
        else:
            assert page_status == (302 if who is None else 403), page
            assert layout.status_code == (401 if who is None else 403), page
            assert "dead-letters" not in layout.text and "dead-letters-table" not in layout.text
    snapshot = c.get("/api/live/snapshot")
    assert snapshot.status_code == (401 if who is None else 200)
    assert c.get("/api/health").status_code == 200  # open for monitoring
    assert c.get("/api/not-in-the-policy").status_code == 404
    assert c.get("/_dash-layout").status_code == (401 if who is None else 200)


def test_a_page_without_sign_in_goes_to_the_login_and_back(fresh):
    c = fresh.app.server.test_client()
    r = c.get("/dead-letters?lang=en")
    assert r.status_code == 302 and r.location.startswith("/login?next=%2Fdead-letters%3Flang%3Den")
    login = c.get(r.location)
    assert login.status_code == 200 and "Sign in" in login.text and 'id="login-form"' in login.text
    assert "登录" in c.get("/login").text  # zh-CN first
    r = c.post("/login", data={"username": "operator", "password": PASSWORD, "next": "/dead-letters?lang=en"})
    assert r.status_code == 302 and r.location == "/dead-letters?lang=en"
    assert c.get("/dead-letters").status_code == 200


def test_sign_in_never_sends_you_to_another_site(fresh):
    c = fresh.app.server.test_client()
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example", "/\t/evil.example",
                   "/\n/evil.example", "/\r\n/evil.example", " //evil.example", "/%0A", "/x\ny", "/\x00"):
        r = c.post("/login", data={"username": "leader", "password": PASSWORD, "next": target})
        assert r.status_code == 302 and r.location in ("/", "/%0A"), (target, r.location)


def test_wrong_password_unknown_and_disabled_users_are_refused_and_logged(fresh, caplog):
    c = fresh.app.server.test_client()
    caplog.set_level(logging.INFO, logger="dashboard.security.auth")
    wrong = c.post("/login", data={"username": "dispatcher", "password": "not it at all"})
    assert wrong.status_code == 401 and "用户名或密码错误" in wrong.text
    assert c.post("/login", data={"username": "nobody", "password": PASSWORD}).status_code == 401
    disabled = c.post("/login", data={"username": "gone", "password": PASSWORD})
    assert disabled.status_code == 401 and "已停用" in disabled.text
    assert c.get("/").status_code == 302  # still nobody
    failed = [r.getMessage() for r in caplog.records if "failed sign-in" in r.getMessage()]
    assert len(failed) == 3 and "wrong password" in failed[0] and "no such user" in failed[1]
    assert "user disabled" in failed[2]
    assert not any("not it at all" in r.getMessage() or PASSWORD in r.getMessage() for r in caplog.records)


def test_sign_in_is_rate_limited_per_user_name_until_the_window_ends(fresh):
    c = fresh.app.server.test_client()
    for _ in range(ATTEMPTS):
        assert c.post("/login", data={"username": "leader", "password": "wrong wrong"}).status_code == 401
    blocked = c.post("/login", data={"username": "leader", "password": PASSWORD})  # even the right one
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) <= WINDOW_S + 1
    assert "尝试次数过多" in blocked.text
    fresh.clock.now += WINDOW_S
    assert c.post("/login", data={"username": "leader", "password": PASSWORD}).status_code == 302


def test_sign_in_is_rate_limited_per_address_across_user_names(fresh):
    c = fresh.app.server.test_client()
    for name in ("a1", "a2", "a3"):
        c.post("/login", data={"username": name, "password": "wrong wrong"})
    assert c.post("/login", data={"username": "admin", "password": PASSWORD}).status_code == 429
    other = fresh.app.server.test_client()
    r = other.post("/login", data={"username": "admin", "password": PASSWORD},
                   environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert r.status_code == 302


def test_a_session_ends_after_the_idle_timeout_and_after_one_shift(fresh):
    c = sign_in(fresh, Role.DISPATCHER)
    fresh.clock.now += 29 * 60
    assert c.get("/").status_code == 200  # activity moves the idle clock on
    fresh.clock.now += 29 * 60
    assert c.get("/").status_code == 200
    fresh.clock.now += 31 * 60
    assert c.get("/").status_code == 302  # idle too long

    c = sign_in(fresh, Role.DISPATCHER)
    for _ in range(16):  # busy all shift long, never idle
        fresh.clock.now += 29 * 60
        assert c.get("/").status_code == 200
    fresh.clock.now += 29 * 60  # 8 h 13 min after signing in, 29 min after the last request
    assert c.get("/").status_code == 302


def test_sign_out_ends_the_session(fresh):
    c = sign_in(fresh, Role.LEADER)
    assert c.get("/").status_code == 200
    assert c.get("/logout").status_code == 302
    assert c.get("/").status_code == 302 and c.get("/api/live/snapshot").status_code == 401


def test_a_copy_of_the_cookie_is_worth_nothing_after_signing_out(fresh):
    c = sign_in(fresh, Role.DISPATCHER)
    copied = c.get_cookie("cc_session").value
    other = sign_in(fresh, Role.DISPATCHER)  # the same person on another screen keeps that session
    thief = fresh.app.server.test_client()
    thief.set_cookie("cc_session", copied)
    assert thief.get("/dispatch").status_code == 200
    assert c.post("/logout").status_code == 302
    assert thief.get("/dispatch").status_code == 302 and thief.get("/api/live/snapshot").status_code == 401
    assert other.get("/dispatch").status_code == 200


def test_the_session_cookie_is_secure_when_the_site_is_served_over_https(site):
    assert site.app.server.config["SESSION_COOKIE_SECURE"] is False  # the tests' site is plain HTTP
    assert Settings(secure_cookies=True).secure_cookies is True


def test_disabling_a_user_or_a_new_password_ends_open_sessions(fresh):
    with fresh.engine.begin() as conn:
        add_user(conn, "temp1", "operator", PASSWORD, method=FAST_HASH)
        add_user(conn, "temp2", "operator", PASSWORD, method=FAST_HASH)
    one, two = (fresh.app.server.test_client() for _ in range(2))
    for c, name in ((one, "temp1"), (two, "temp2")):
        assert c.post("/login", data={"username": name, "password": PASSWORD}).status_code == 302
        assert c.get("/dead-letters").status_code == 200
    with fresh.engine.begin() as conn:
        set_disabled(conn, "temp1")
        set_password(conn, "temp2", "a new password", method=FAST_HASH)
    assert one.get("/dead-letters").status_code == 302
    assert two.get("/dead-letters").status_code == 302


def test_the_kiosk_token_signs_a_wall_in_read_only(fresh):
    c = fresh.app.server.test_client()
    r = c.get(f"/?kiosk={KIOSK}&lang=en")
    assert r.status_code == 302 and r.location == "/?lang=en"  # the token leaves the address bar
    assert c.get("/").status_code == 200 and route_to(c, "/").status_code == 200
    assert route_to(c, "/kpis").status_code == 200
    assert c.get("/dispatch").status_code == 403 and route_to(c, "/dispatch").status_code == 403
    assert c.get("/dead-letters").status_code == 403
    fresh.clock.now += 3 * 24 * 3600  # the wall runs for days: the kiosk has no shift
    assert c.get("/api/live/snapshot").status_code == 200


def test_a_wrong_kiosk_token_is_refused_logged_and_rate_limited(fresh, caplog):
    caplog.set_level(logging.WARNING, logger="dashboard.security.auth")
    c = fresh.app.server.test_client()
    for _ in range(ATTEMPTS):
        assert c.get("/?kiosk=guess-guess-guess-guess").status_code == 403
    assert c.get(f"/?kiosk={KIOSK}").status_code == 429
    assert c.get("/").status_code == 302
    assert any("wrong kiosk token" in r.getMessage() for r in caplog.records)


def test_refusals_are_logged_with_who_what_and_where(fresh, caplog):
    caplog.set_level(logging.WARNING, logger="dashboard.security.auth")
    c = sign_in(fresh, Role.TRAINER)
    c.get("/dead-letters")
    message = caplog.records[-1].getMessage()
    assert "GET /dead-letters" in message and "trainer (trainer)" in message and "127.0.0.1" in message


def _connects(port: int, cookie: str | None) -> bool:
    client = socketio_client.Client()
    try:
        client.connect(f"http://127.0.0.1:{port}", namespaces=[NAMESPACE], transports=["websocket"],
                       headers={"Cookie": cookie} if cookie else {}, wait_timeout=5)
    except socketio_client.exceptions.ConnectionError:
        return False
    client.disconnect()
    return True


def test_the_socket_is_refused_without_a_session_and_accepted_with_one(fresh, caplog):
    caplog.set_level(logging.WARNING, logger="dashboard.security.auth")
    port = free_port()
    threading.Thread(target=fresh.socketio.run, args=(fresh.app.server,), daemon=True,
                     kwargs={"host": "127.0.0.1", "port": port, "allow_unsafe_werkzeug": True,
                             "use_reloader": False, "log_output": False}).start()
    wait_until(lambda: _port_open(port), 10, "the Socket.IO server")
    assert not _connects(port, None)
    assert not _connects(port, "cc_session=forged")
    assert any("the live socket" in r.getMessage() and "nobody" in r.getMessage() for r in caplog.records)
    for who in (Role.KIOSK, Role.TRAINER):
        cookie = sign_in(fresh, who).get_cookie("cc_session").value
        assert _connects(port, f"cc_session={cookie}"), who


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_require_lets_dispatchers_and_operators_act_and_refuses_everyone_else(fresh, caplog):
    caplog.set_level(logging.WARNING, logger="dashboard.security.auth")

    @auth.requires(Permission.ACT_ON_CASES)
    def reassign(case_id: str) -> str:
        return f"{auth.current_identity().username} reassigned {case_id}"

    for who in WHO:
        c = sign_in(fresh, who)
        with c:  # the request context of this client's next request, with its session
            c.get("/api/health")
            if who in (Role.DISPATCHER, Role.OPERATOR):
                assert reassign("C-1") == f"{who.value} reassigned C-1"
                assert auth.require(Permission.ACT_ON_CASES).display_name == f"{who.value} 张"
            else:
                with pytest.raises(PreventUpdate):
                    reassign("C-1")
                assert f"needs {Permission.ACT_ON_CASES}" in caplog.records[-1].getMessage()


def test_a_guarded_dash_callback_writes_for_a_dispatcher_only(fresh):
    """Through Dash's own endpoint, as a dispatcher console's action will be."""
    app = fresh.app
    written: list[str] = []
    if "probe-out.children" not in app.callback_map:
        with auth.callbacks_of_page(app, Permission.VIEW_DISPATCH):
            @app.callback(Output("probe-out", "children"), Input("probe-in", "n_clicks"), prevent_initial_call=True)
            def act(n):  # type: ignore[no-untyped-def]
                who = auth.require(Permission.ACT_ON_CASES)
                written.append(who.username)
                return f"done by {who.username}"
    body = {"output": "probe-out.children", "outputs": {"id": "probe-out", "property": "children"},
            "inputs": [{"id": "probe-in", "property": "n_clicks", "value": 1}],
            "changedPropIds": ["probe-in.n_clicks"], "state": []}
    assert sign_in(fresh, Role.LEADER).post("/_dash-update-component", json=body).status_code == 204
    assert fresh.app.server.test_client().post("/_dash-update-component", json=body).status_code == 401
    ok = sign_in(fresh, Role.DISPATCHER).post("/_dash-update-component", json=body)
    assert ok.status_code == 200 and "done by dispatcher" in ok.text
    assert written == ["dispatcher"]


def test_every_registered_page_and_route_has_a_policy_entry(site):
    missing = [p["path"] for p in dash.page_registry.values() if rule_for(p["path"]) is None]
    for rule in site.app.server.url_map.iter_rules():
        if rule.rule == "/<path:path>":  # Dash's catch-all serves the pages, checked above
            continue
        sample = rule.rule.replace("<", "{").split("{")[0] + ("x" if "<" in rule.rule else "")
        if rule_for(sample) is None:
            missing.append(rule.rule)
    assert missing == [], f"add these to dashboard/security/access.py POLICY: {missing}"


def test_the_wall_page_loads_without_dash_s_polyfill_and_table_loader_other_pages_keep_them(fresh):
    c = sign_in(fresh, Role.ADMIN)
    wall, kpis = c.get("/").text, c.get("/kpis").text
    assert "dash_renderer" in wall and "dash_leaflet" in wall and "wall.js" in wall
    assert "polyfill@" not in wall and "dash_table/bundle" not in wall
    assert "polyfill@" in kpis and "dash_table/bundle" in kpis


def _call(c, output: str):
    """A call of the callback whose output key is `output`, as a browser would send it (inputs empty)."""
    return c.post("/_dash-update-component", json={"output": output, "outputs": [], "inputs": [],
                                                    "changedPropIds": [], "state": []})


@pytest.mark.parametrize("who", WHO, ids=str)
def test_every_dash_callback_answers_only_the_roles_of_its_page(fresh, who):
    """Every callback the app registered, called directly as every identity: one without the permission of
    the callback's page gets 401/403 and no data; one with it is let through to the callback."""
    sign_in(fresh, Role.ADMIN).get("/")  # Dash registers its own callbacks at the first request
    needs = fresh.app.server.extensions[auth.CALLBACK_NEEDS]
    server_side = [key for key, spec in fresh.app.callback_map.items() if spec.get("callback") is not None]
    assert server_side and set(server_side) - {k for k in server_side if "_pages_content" in k} <= set(needs), \
        "a callback registered outside dashboard/callbacks/register_all has no page"
    c = sign_in(fresh, who)
    for key in server_side:
        if "_pages_content" in key:
            continue  # the page router: its layouts are checked per page above
        answer = _call(c, key)
        need = needs[key]
        if who is not None and auth.may(who, need):
            assert answer.status_code not in (401, 403), (who, key)
        else:
            assert answer.status_code == (401 if who is None else 403), (who, key, answer.status_code)
            assert answer.json == {"error": "sign in first" if who is None else "not allowed"}


def test_a_callback_no_page_registered_is_refused_to_everyone(fresh, caplog):
    app = fresh.app
    if "stray-out.children" not in app.callback_map:
        @app.callback(Output("stray-out", "children"), Input("stray-in", "n_clicks"))
        def stray(n):  # type: ignore[no-untyped-def]
            return "leaked"
    with caplog.at_level(logging.WARNING, logger="dashboard.security.auth"):
        answer = _call(sign_in(fresh, Role.ADMIN), "stray-out.children")
    assert answer.status_code == 403 and "leaked" not in answer.text
    assert "no page registered it" in caplog.records[-1].getMessage()


def test_the_leader_figures_are_refused_to_the_kiosk_and_the_trainer(fresh):
    """The attack that was found: the leader page's callback posted by a wall screen or a trainer."""
    leader_keys = [k for k, need in fresh.app.server.extensions[auth.CALLBACK_NEEDS].items()
                   if need is Permission.VIEW_LEADER]
    assert any("leader-patrollers" in k for k in leader_keys)
    for who in (Role.KIOSK, Role.TRAINER):
        c = sign_in(fresh, who)
        for key in leader_keys:
            assert _call(c, key).status_code == 403


def _leader_render(c, area: object):
    """The leader page's figures callback as a signed-in browser would post it, with `area` as the area."""
    key = next(k for k in c.application.extensions[auth.CALLBACK_NEEDS] if "leader-breadcrumb.children" in k)
    outputs = [{"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1]}
               for part in key.strip(".").split("...")]
    return c.post("/_dash-update-component", json={
        "output": key, "outputs": outputs, "changedPropIds": ["leader-area.data"],
        "inputs": [{"id": "leader-area", "property": "data", "value": area},
                   {"id": "leader-period", "property": "value", "value": "month"},
                   {"id": "leader-range", "property": "start_date", "value": None},
                   {"id": "leader-range", "property": "end_date", "value": None},
                   {"id": "leader-refresh", "property": "data", "value": None}],
        "state": [{"id": "leader-lang", "property": "data", "value": "zh"},
                  {"id": "leader-trends", "property": "data", "value": None}]})


@hypothesis.settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(area=st.one_of(st.text(max_size=80), st.integers(), st.none(), st.lists(st.text(max_size=5), max_size=3)))
def test_a_forged_area_on_the_leader_page_is_answered_with_what_is_wrong(fresh, area):
    """Any area code a browser can post to the leader page's figures: a known one gives its figures, any
    other the sentence "没有编码为 … 的区域" in the period line, never a server error."""
    c = sign_in(fresh, Role.LEADER)
    answer = _leader_render(c, area)
    assert answer.status_code in (200, 204), answer.status_code
    if answer.status_code == 200:
        label = answer.json["response"]["leader-period-label"]["children"]
        assert "没有编码为" in label or "·" in label


def _leader_evidence(c, ask: object, person_cell: object, department_cell: object, shown: object, trigger: str):
    """The leader page's evidence callback as a browser would post it: a card asked, or a cell clicked in the
    patrollers' or the departments' table (`trigger`: which)."""
    key = next(k for k in c.application.extensions[auth.CALLBACK_NEEDS] if "leader-evidence-grid.rowData" in k)
    outputs = [{"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1]}
               for part in key.strip(".").split("...")]
    return c.post("/_dash-update-component", json={
        "output": key, "outputs": outputs, "changedPropIds": [trigger],
        "inputs": [{"id": "leader-evidence-ask", "property": "data", "value": ask},
                   {"id": "leader-patrollers", "property": "cellClicked", "value": person_cell},
                   {"id": "leader-departments", "property": "cellClicked", "value": department_cell}],
        "state": [{"id": "leader-shown", "property": "data", "value": shown},
                  {"id": "leader-lang", "property": "data", "value": "zh"}]})


_ANY = st.one_of(st.none(), st.integers(), st.text(max_size=40), st.lists(st.text(max_size=5), max_size=3),
                 st.dictionaries(st.sampled_from(["rowId", "colId", "figure", "value"]),
                                 st.one_of(st.text(max_size=40), st.integers(), st.none(),
                                           st.sampled_from(["score", "verification", "open", "rework", "coverage",
                                                            "on_time_handling", "average_handling"])),
                                 max_size=4))
_SHOWN = st.one_of(_ANY, st.fixed_dictionaries({
    "area": st.one_of(st.just("LW"), st.text(max_size=12), st.integers()),
    "kind": st.one_of(st.sampled_from(["month", "today", "week", "custom"]), st.text(max_size=8)),
    "at": st.one_of(st.just("2026-12-05T10:00:00+08:00"), st.text(max_size=30)),
    "first": st.one_of(st.none(), st.text(max_size=12)), "last": st.one_of(st.none(), st.integers())}))


@hypothesis.settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ask=_ANY, cell=_ANY, shown=_SHOWN,
       trigger=st.sampled_from(["leader-evidence-ask.data", "leader-patrollers.cellClicked",
                                "leader-departments.cellClicked", "nothing.data"]))
def test_a_forged_evidence_click_on_the_leader_page_is_answered_never_with_a_server_error(fresh, ask, cell, shown,
                                                                                          trigger):
    """Whatever a browser posts as the card asked, the cell clicked in a ranking or the page shown, the evidence
    callback answers with evidence or with nothing, never a server error; and never to the kiosk."""
    answer = _leader_evidence(sign_in(fresh, Role.LEADER), ask, cell, cell, shown, trigger)
    assert answer.status_code in (200, 204), (answer.status_code, answer.text[:300])
    if answer.status_code == 200:
        assert "leader-evidence-grid" in answer.json["response"]
    assert _leader_evidence(sign_in(fresh, Role.KIOSK), ask, cell, cell, shown, trigger).status_code == 403
