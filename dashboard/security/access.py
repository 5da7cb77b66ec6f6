"""Who may do what: roles, their permissions, and the path policy of every page and endpoint.

Pure data and pure functions; dashboard/security/auth.py enforces them on requests, Dash callbacks and sockets.
A new page or endpoint is one line in POLICY; a test fails while a registered page or route has none.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    DISPATCHER = "dispatcher"  # 座席员: acts on cases
    LEADER = "leader"  # 领导: reads everything a case touches, acts on nothing
    OPERATOR = "operator"  # 值班操作员: reassigns and acts on cases like a dispatcher; the feeds, the dead letters
    TRAINER = "trainer"  # 培训: runs drills, nothing live
    ADMIN = "admin"  # 管理员: manages users, sees every screen
    KIOSK = "kiosk"  # the wall screen itself, signed in by token: reads the wall and nothing else


USER_ROLES = tuple(r for r in Role if r is not Role.KIOSK)  # roles a person can be given


class Permission(StrEnum):
    VIEW_WALL = "view_wall"  # the wall, its KPI panel, the live snapshot and socket
    VIEW_LEADER = "view_leader"
    VIEW_DISPATCH = "view_dispatch"
    VIEW_DEAD_LETTERS = "view_dead_letters"
    ACT_ON_CASES = "act_on_cases"  # reassign, escalate, reject, close …
    REDRIVE_DEAD_LETTERS = "redrive_dead_letters"
    RUN_DRILLS = "run_drills"  # the trainer console and its actions
    MANAGE_USERS = "manage_users"
    VIEW_REPLAY = "view_replay"  # replay a past period (live or drill) on a screen: read only


class Access(StrEnum):
    """Policy entries that are not a permission."""

    PUBLIC = "public"  # no sign-in needed
    SIGNED_IN = "signed_in"  # any signed-in identity, kiosk included


P = Permission
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.DISPATCHER: frozenset({P.VIEW_WALL, P.VIEW_LEADER, P.VIEW_DISPATCH, P.ACT_ON_CASES, P.VIEW_REPLAY}),
    Role.LEADER: frozenset({P.VIEW_WALL, P.VIEW_LEADER, P.VIEW_DISPATCH, P.VIEW_REPLAY}),
    Role.OPERATOR: frozenset({P.VIEW_WALL, P.VIEW_LEADER, P.VIEW_DISPATCH, P.ACT_ON_CASES, P.VIEW_DEAD_LETTERS,
                              P.REDRIVE_DEAD_LETTERS, P.VIEW_REPLAY}),
    Role.TRAINER: frozenset({P.VIEW_WALL, P.RUN_DRILLS, P.VIEW_REPLAY}),
    Role.ADMIN: frozenset({P.VIEW_WALL, P.VIEW_LEADER, P.VIEW_DISPATCH, P.VIEW_DEAD_LETTERS,
                           P.REDRIVE_DEAD_LETTERS, P.RUN_DRILLS, P.MANAGE_USERS, P.VIEW_REPLAY}),
    Role.KIOSK: frozenset({P.VIEW_WALL}),
}


def may(role: Role | None, need: Permission | Access) -> bool:
    """Whether an identity of this role (None: nobody signed in) passes a policy entry."""
    if need is Access.PUBLIC:
        return True
    if role is None:
        return False
    return need is Access.SIGNED_IN or need in ROLE_PERMISSIONS[role]


@dataclass(frozen=True)
class Rule:
    """A path and what it needs. A path ending in "/" is a prefix; any other path matches itself only
    (a trailing slash on the request is ignored)."""

    path: str
    need: Permission | Access
    why: str = ""

    def matches(self, path: str) -> bool:
        if self.path.endswith("/") and self.path != "/":
            return path.startswith(self.path)
        return path == self.path or (path != "/" and path.rstrip("/") == self.path)


POLICY: tuple[Rule, ...] = (
    # pages
    Rule("/", P.VIEW_WALL, "the wall screen"),
    Rule("/kpis", P.VIEW_WALL, "the wall's KPI panel alone"),
    Rule("/leader", P.VIEW_LEADER),
    Rule("/dispatch", P.VIEW_DISPATCH, "reading; actions need ACT_ON_CASES"),
    Rule("/dead-letters", P.VIEW_DEAD_LETTERS),
    Rule("/drill", P.RUN_DRILLS, "the trainer console"),
    Rule("/replay", P.VIEW_REPLAY, "a past period (live or a drill) replayed on the wall; not the kiosk"),
    # HTTP API: anything under /api/ that is not listed here is refused
    Rule("/api/live/snapshot", P.VIEW_WALL),
    Rule("/api/health", Access.PUBLIC, "open for monitoring: sequence, time and patrol count only"),
    Rule("/api/wall/", P.VIEW_WALL, "the wall map's territory, grid cards and patrol trails"),
    Rule("/api/kpis", P.VIEW_WALL, "the latest KPI board"),
    # drills: the after-action report (HTML, XLSX) and a drill's status for the banner of its screens
    Rule("/drill/report/", P.RUN_DRILLS, "a drill's after-action report, HTML and XLSX"),
    Rule("/api/drills/", P.VIEW_WALL, "a drill's status, for the banner of its screens"),
    # replay: the start snapshot and frames of a past period, read from the database (never written)
    Rule("/api/replay", P.VIEW_REPLAY, "a past period's snapshot and frames, in chunks"),
    # signing in and out
    Rule("/login", Access.PUBLIC),
    Rule("/logout", Access.PUBLIC),
    # static code and styles: no data in them, and the sign-in page needs its stylesheet
    Rule("/assets/", Access.PUBLIC),
    # Dash's own endpoints; the page a layout belongs to is checked again on /_dash-update-component
    Rule("/_dash-layout", Access.SIGNED_IN),
    Rule("/_dash-dependencies", Access.SIGNED_IN),
    Rule("/_dash-update-component", Access.SIGNED_IN),
    Rule("/_dash-component-suites/", Access.SIGNED_IN),
    Rule("/_reload-hash", Access.SIGNED_IN),
    Rule("/_favicon.ico", Access.PUBLIC),
    Rule("/static/", Access.SIGNED_IN),
)


def rule_for(path: str, policy: tuple[Rule, ...] = POLICY) -> Rule | None:
    """The most specific rule for a path; None means no rule: refused."""
    found = [r for r in policy if r.matches(path)]
    return max(found, key=lambda r: len(r.path)) if found else None


def allowed(role: Role | None, path: str, policy: tuple[Rule, ...] = POLICY) -> bool:
    rule = rule_for(path, policy)
    return rule is not None and may(role, rule.need)

