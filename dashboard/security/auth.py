"""Signing in, and the guard on every request, Dash callback and socket (docs/security.md).

`install` puts it on the dashboard's Flask server: Flask-Login keeps who is signed in (in the signed
session cookie), a before_request hook applies the path policy of dashboard/security/access.py to pages, the
HTTP API and Dash's own endpoints, and /login, /logout and `/?kiosk=<token>` sign in and out.
Every Dash callback is registered under the permission of the page it serves (`callbacks_of_page`); the
guard refuses a call to a callback the caller's role may not use, and a call to any callback registered
without one (deny by default). Callbacks that act also call `require(Permission.…)` (or use `@requires(…)`);
the socket calls `may_connect`.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlencode

import redis
from dash.exceptions import PreventUpdate
from flask import Flask, Response, current_app, jsonify, redirect, render_template_string, request, session
from flask_login import LoginManager, current_user, login_user, logout_user
from sqlalchemy.engine import Engine
from werkzeug.security import check_password_hash, generate_password_hash

from dashboard.i18n import LANGS, t
from dashboard.security.access import Access, Permission, Role, Rule, may, rule_for
from dashboard.security.users import end_session, find_user, session_open, start_session
from feeds.settings import Settings

__all__ = ["Identity", "LoginThrottle", "Permission", "Role", "current_identity", "current_user", "install",
           "may_connect", "require", "requires"]

log = logging.getLogger(__name__)
EXTENSION = "cc_auth"
CALLBACK_NEEDS = "cc_callback_needs"  # server extension: a callback's output key -> what calling it needs
PAGES_CONTENT = "_pages_content"  # Dash's page container: its children are the layout of a page
PAGES_LOCATION = "_pages_location"
SEEN_EVERY_S = 30  # the idle clock is moved on at most this often (each move rewrites the cookie)


@dataclass(frozen=True)
class Identity:
    """Who is signed in: a person with a role, or the kiosk. `username` is what the audit records."""

    username: str
    display_name: str
    role: Role
    session_key: str = field(repr=False)

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return self.session_key

    def can(self, permission: Permission) -> bool:
        return may(self.role, permission)


class LoginThrottle:
    """Failed sign-ins counted in Redis per fixed window, per user name and per address, so every dashboard
    process shares the count. At `attempts` failures either key is blocked until its window ends."""

    def __init__(self, client: redis.Redis, attempts: int, window_s: int,
                 clock: Callable[[], float] = time.time, prefix: str = "cc:login") -> None:
        self.client, self.attempts, self.window_s, self.clock, self.prefix = client, attempts, window_s, clock, prefix

    def _keys(self, username: str, address: str) -> list[str]:
        window = int(self.clock() // self.window_s)
        return [f"{self.prefix}:user:{username}:{window}", f"{self.prefix}:addr:{address}:{window}"]

    def blocked(self, username: str, address: str) -> bool:
        return any(int(n or 0) >= self.attempts for n in self.client.mget(self._keys(username, address)))

    def failed(self, username: str, address: str) -> None:
        pipe = self.client.pipeline()
        for key in self._keys(username, address):
            pipe.incr(key)
            pipe.expire(key, self.window_s * 2)
        pipe.execute()

    def retry_after_s(self) -> int:
        return int(self.window_s - self.clock() % self.window_s) + 1


@dataclass
class _Auth:
    settings: Settings
    engine: Engine
    throttle: LoginThrottle
    clock: Callable[[], float]
    dummy_hash: str  # checked against when a user name is unknown, so both take the same time

    def fingerprint(self, value: str) -> str:
        key = str(current_app.secret_key).encode()
        return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:20]

    def kiosk(self) -> Identity | None:
        token = self.settings.kiosk_token
        return Identity("kiosk", t("kiosk_name"), Role.KIOSK, f"kiosk:{self.fingerprint(token)}") if token else None


def _auth() -> _Auth:
    return current_app.extensions[EXTENSION]


def _load(session_key: str) -> Identity | None:
    """Flask-Login's user loader: the session names a user, a fingerprint of the password hash (or of the
    kiosk token) and the id of the sign-in, so a disabled user, a new password, a new kiosk token or signing
    out ends the session at once, even for a copy of the cookie."""
    auth = _auth()
    kind, _, rest = session_key.partition(":")
    if kind == "kiosk":
        kiosk = auth.kiosk()
        return kiosk if kiosk is not None and hmac.compare_digest(kiosk.session_key, session_key) else None
    username, _, rest = rest.partition(":")
    print_, _, session_id = rest.partition(":")
    if kind != "user" or not session_id:
        return None
    with auth.engine.connect() as conn:
        account = find_user(conn, username)
        if account is None or account.disabled or not session_open(conn, session_id, username):
            return None
    if not hmac.compare_digest(print_, auth.fingerprint(account.password_hash)):
        return None
    return Identity(account.username, account.display_name, account.role, session_key)


def current_identity() -> Identity | None:
    """Who is signed in on this request (None: nobody, or the session has ended). People's sessions end one
    shift after signing in, or after the idle timeout; the kiosk's lasts as long as its token is valid."""
    user = current_user
    if not getattr(user, "is_authenticated", False):
        return None
    assert isinstance(user, Identity)
    if user.role is Role.KIOSK:
        return user
    auth = _auth()
    now = auth.clock()
    since, seen = float(session.get("cc_since", 0)), float(session.get("cc_seen", 0))
    if now - since > auth.settings.session_hours * 3600 or now - seen > auth.settings.session_idle_minutes * 60:
        log.info("session of %s (%s) ended: %s", user.username, user.role,
                 "idle" if now - since <= auth.settings.session_hours * 3600 else "shift over")
        logout_user()
        session.clear()
        return None
    if now - seen >= SEEN_EVERY_S:
        session["cc_seen"] = now
    return user


def _who(who: Identity | None) -> str:
    return f"{who.username} ({who.role})" if who else "nobody signed in"


def _refused(who: Identity | None, what: str, why: str) -> None:
    log.warning("refused %s to %s from %s: %s", what, _who(who), request.remote_addr, why)


def permitted(permission: Permission) -> Identity | None:
    """In a Dash callback (or any request): the signed-in identity when it has the permission; otherwise None,
    and the refusal is logged."""
    who = current_identity()
    if who is None or not who.can(permission):
        _refused(who, f"callback {request.path}", f"needs {permission}")
        return None
    return who


def may_see_evidence() -> bool:
    """Whether the signed-in viewer may open the leader page and the evidence behind its figures (a kiosk may
    not): asked to decide whether a figure links there, so a no is not logged as a refusal."""
    who = current_identity()
    return who is not None and who.can(Permission.VIEW_LEADER)


def require(permission: Permission) -> Identity:
    """`permitted`, for a callback that shows nothing on refusal: PreventUpdate, so it changes nothing."""
    who = permitted(permission)
    if who is None:
        raise PreventUpdate
    return who


P = ParamSpec("P")
R = TypeVar("R")


def requires(permission: Permission) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator form of `require` for a callback function."""
    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def guarded(*args: P.args, **kwargs: P.kwargs) -> R:
            require(permission)
            return fn(*args, **kwargs)
        return guarded
    return decorate


def may_connect(auth_payload: Any = None) -> bool:
    """The Socket.IO connect check: a signed-in identity that may see the wall."""
    who = current_identity()
    if who is None or not who.can(Permission.VIEW_WALL):
        _refused(who, "the live socket", f"needs {Permission.VIEW_WALL}")
        return False
    return True


def _lang() -> str:
    lang = request.args.get("lang") or request.form.get("lang") or "zh"
    return lang if lang in LANGS else "zh"


def _safe_next(target: str | None) -> str:
    """Only a path on this server is followed after signing in: it starts with one "/", and holds no
    backslash, no control character and no blank (browsers drop tabs and newlines from a URL, so a slash,
    a tab and "/host" would become "//host", another site)."""
    if (not target or len(target) > 2000 or not target.startswith("/") or target.startswith("//")
            or any(c == "\\" or c <= " " or c == "\x7f" for c in target)):
        return "/"
    return target


def _machine(path: str) -> bool:
    return path.startswith(("/api/", "/_"))


def _deny(who: Identity | None, rule: Rule | None) -> Response | tuple[Any, int]:
    path = request.path
    why = "no policy for this path" if rule is None else f"needs {rule.need}"
    _refused(who, f"{request.method} {path}", why)
    if rule is None:
        return jsonify({"error": "not found"}), 404
    if _machine(path):
        status = 401 if who is None else 403
        return jsonify({"error": "sign in first" if who is None else "not allowed"}), status
    if who is None:
        target = request.full_path.rstrip("?")
        return redirect("/login?" + urlencode({"next": target, "lang": _lang()}))
    return _message_page(t("not_allowed", _lang()), t("not_allowed_hint", _lang()), 403)


@contextmanager
def callbacks_of_page(app: Any, need: Permission | Access) -> Iterator[None]:
    """Callbacks registered inside this block serve a page that needs `need`: the guard refuses a call to
    one of them from anybody whose role lacks it. A callback registered outside any such block is refused
    to everybody, so a new callback cannot forget its page."""
    before = set(app.callback_map)
    yield
    needs = app.server.extensions.setdefault(CALLBACK_NEEDS, {})
    for key in set(app.callback_map) - before:
        needs[key] = need


def _callback_need(body: Any) -> Permission | Access | None:
    """What the callback a /_dash-update-component call names needs; None: no callback of a page."""
    output = body.get("output") if isinstance(body, dict) else None
    if not isinstance(output, str):
        return None
    return current_app.extensions.get(CALLBACK_NEEDS, {}).get(output)


def _routed_page() -> str | None:
    """The path whose layout a /_dash-update-component call asks for, when it is Dash's page router."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or PAGES_CONTENT not in str(body.get("output", "")):
        return None
    for item in body.get("inputs") or []:
        if isinstance(item, dict) and item.get("id") == PAGES_LOCATION and item.get("property") == "pathname":
            return str(item.get("value") or "")
    return ""  # a router call without a path: no rule matches it


def _guard() -> Response | tuple[Any, int] | None:
    if request.method == "GET" and "kiosk" in request.args:
        return _kiosk_sign_in()
    who = current_identity()
    role = who.role if who else None
    rule = rule_for(request.path)
    if rule is None or not may(role, rule.need):
        return _deny(who, rule)
    if request.path == "/_dash-update-component":
        page = _routed_page()
        if page is not None:
            page_rule = rule_for(page)
            if page_rule is None or not may(role, page_rule.need):
                why = "no policy for this page" if page_rule is None else f"needs {page_rule.need}"
                _refused(who, f"the layout of {page[:200]!r}", why)
                return jsonify({"error": "not allowed"}), 403
            return None
        need = _callback_need(request.get_json(silent=True))
        if need is None or not may(role, need):
            body = request.get_json(silent=True)
            output = str(body.get("output"))[:200] if isinstance(body, dict) else "?"
            _refused(who, f"callback {output}", "no page registered it" if need is None else f"needs {need}")
            return jsonify({"error": "not allowed"}), 403
    return None


def _kiosk_sign_in() -> Response | tuple[Any, int]:
    auth = _auth()
    address = request.remote_addr or "?"
    kiosk = auth.kiosk()
    given = request.args.get("kiosk", "")
    if auth.throttle.blocked("kiosk", address):
        _refused(None, "kiosk sign-in", "too many failed attempts")
        return _message_page(t("login_throttled", _lang()), "", 429)
    if kiosk is None or not hmac.compare_digest(given.encode(), str(auth.settings.kiosk_token).encode()):
        auth.throttle.failed("kiosk", address)
        _refused(None, "kiosk sign-in", "wrong kiosk token" if kiosk else "no kiosk token is set")
        return _message_page(t("kiosk_refused", _lang()), "", 403)
    session.clear()
    login_user(kiosk)
    session.permanent = False  # the wall's browser keeps it until it closes; a new token ends it
    log.info("kiosk signed in from %s", address)
    rest = {k: v for k, v in request.args.items() if k != "kiosk"}
    return redirect(request.path + ("?" + urlencode(rest) if rest else ""))


def _sign_in() -> Response | tuple[Any, int] | str:
    auth = _auth()
    lang = _lang()
    target = _safe_next(request.values.get("next"))
    if request.method == "GET":
        return _login_page(lang, target)
    username = request.form.get("username", "").strip().lower()[:64]
    password = request.form.get("password", "")
    address = request.remote_addr or "?"
    if auth.throttle.blocked(username, address):
        log.warning("failed sign-in for %r from %s: too many failed attempts", username, address)
        return _login_page(lang, target, t("login_throttled", lang), 429,
                           {"Retry-After": str(auth.throttle.retry_after_s())})
    with auth.engine.connect() as conn:
        account = find_user(conn, username) if username else None
    if account is None:
        check_password_hash(auth.dummy_hash, password)
        why = "no such user"
    elif not account.password_is(password):
        why = "wrong password"
    elif account.disabled:
        why = "user disabled"
    else:
        why = ""
    if why:
        auth.throttle.failed(username, address)
        log.warning("failed sign-in for %r from %s: %s", username, address, why)
        message = t("login_disabled" if why == "user disabled" else "login_failed", lang)
        return _login_page(lang, target, message, 401)
    assert account is not None
    session.clear()
    with auth.engine.begin() as conn:
        session_id = start_session(conn, account.username, datetime.fromtimestamp(auth.clock(), UTC),
                                   timedelta(hours=auth.settings.session_hours * 2))
    login_user(Identity(account.username, account.display_name, account.role,
                        f"user:{account.username}:{auth.fingerprint(account.password_hash)}:{session_id}"))
    session.permanent = True
    session["cc_since"] = session["cc_seen"] = auth.clock()
    log.info("%s (%s) signed in from %s", account.username, account.role, address)
    return redirect(target)


def _sign_out() -> Response:
    who = current_identity()
    if who is not None:
        log.info("%s (%s) signed out", who.username, who.role)
        if who.role is not Role.KIOSK:  # the kiosk's session ends with its token, not here
            with _auth().engine.begin() as conn:
                end_session(conn, who.session_key.rpartition(":")[2], datetime.fromtimestamp(_auth().clock(), UTC))
    logout_user()
    session.clear()
    return redirect("/login?" + urlencode({"lang": _lang()}))


def install(server: Flask, settings: Settings, engine: Engine, throttle: LoginThrottle,
            clock: Callable[[], float] = time.time) -> None:
    """Put sign-in and the guard on the dashboard's Flask server (before any other request hook)."""
    if settings.secret_key:
        server.secret_key = settings.secret_key
    else:
        log.warning("no CC_SECRET_KEY set: sessions end when this process stops and are not shared with others")
        server.secret_key = secrets.token_hex(32)
    server.config.update(SESSION_COOKIE_NAME="cc_session", SESSION_COOKIE_HTTPONLY=True,
                         SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=settings.secure_cookies,
                         PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours))
    server.extensions[EXTENSION] = _Auth(settings, engine, throttle, clock,
                                         generate_password_hash(secrets.token_hex(8),
                                                                method=settings.password_hash_method))
    manager = LoginManager()
    manager.session_protection = None  # not bound to an address: screens sit behind proxies (docs/security.md)
    manager.user_loader(_load)
    manager.init_app(server)
    server.add_url_rule("/login", "login", _sign_in, methods=["GET", "POST"])
    server.add_url_rule("/logout", "logout", _sign_out, methods=["GET", "POST"])
    server.before_request_funcs.setdefault(None, []).insert(0, _guard)


def _message_page(title: str, hint: str, status: int) -> tuple[str, int]:
    return render_template_string(PAGE, lang=_lang(), title=title, hint=hint, form=False, t=t), status


def _login_page(lang: str, target: str, error: str = "", status: int = 200,
                headers: dict[str, str] | None = None) -> tuple[str, int, dict[str, str]]:
    other = "en" if lang == "zh" else "zh"
    switch = "/login?" + urlencode({"lang": other, "next": target})
    html = render_template_string(PAGE, lang=lang, title=t("login_title", lang), hint="", form=True,
                                  error=error, target=target, switch=switch, t=t)
    return html, status, {"Cache-Control": "no-store", **(headers or {})}


PAGE = """<!doctype html>
<html lang="{{ 'zh-CN' if lang == 'zh' else 'en' }}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} · {{ t('title', lang) }}</title>
<link rel="stylesheet" href="/assets/signin.css"></head>
<body class="signin-page">
<main class="signin-card">
  <h1 class="signin-brand">{{ t('title', lang) }}</h1>
  <h2 class="signin-title">{{ title }}</h2>
  {% if hint %}<p class="signin-hint">{{ hint }}</p>
  <p><a class="signin-link" href="/logout?lang={{ lang }}">{{ t('login_other', lang) }}</a>
     · <a class="signin-link" href="/?lang={{ lang }}">{{ t('login_to_wall', lang) }}</a></p>{% endif %}
  {% if form %}
  {% if error %}<p class="signin-error" id="login-error" role="alert">{{ error }}</p>{% endif %}
  <form id="login-form" method="post" action="/login">
    <input type="hidden" name="next" value="{{ target }}"><input type="hidden" name="lang" value="{{ lang }}">
    <label>{{ t('login_username', lang) }}
      <input id="login-username" name="username" autocomplete="username" autofocus required></label>
    <label>{{ t('login_password', lang) }}
      <input id="login-password" name="password" type="password" autocomplete="current-password" required>
    </label>
    <button id="login-submit" type="submit">{{ t('login_submit', lang) }}</button>
  </form>
  <p class="signin-switch"><a class="signin-link" href="{{ switch }}">{{ 'English' if lang == 'zh' else '中文' }}</a></p>
  {% endif %}
</main>
</body></html>"""
