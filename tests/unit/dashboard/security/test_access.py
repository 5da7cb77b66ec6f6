"""The permission table and the path policy, every role against every page, endpoint and action.

The expected answers are written out here from the brief, not computed from dashboard/security/access.py."""
from __future__ import annotations

import pytest

from dashboard.security.access import POLICY, USER_ROLES, Access, Permission, Role, allowed, may, rule_for

D, L, OP, T, A, K = Role.DISPATCHER, Role.LEADER, Role.OPERATOR, Role.TRAINER, Role.ADMIN, Role.KIOSK
EVERYONE = {D, L, OP, T, A, K}
IDENTITIES = [None, *Role]

# path → who may open it (None: nobody signed in)
PATHS: dict[str, set[Role | None]] = {
    "/": EVERYONE,
    "/kpis": EVERYONE,
    "/dead-letters": {OP, A},
    "/dead-letters/": {OP, A},
    "/leader": {L, A, D, OP},
    "/dispatch": {D, OP, A, L},
    "/drill": {T, A},
    "/replay": {D, L, OP, T, A},  # replaying a past period: the people in the centre, not the wall's kiosk
    "/api/replay": {D, L, OP, T, A},
    "/api/replayx": set(),
    "/api/live/snapshot": EVERYONE,
    "/api/health": EVERYONE | {None},
    "/api/wall/trail/P0001": EVERYONE,  # the wall draws it, kiosk included
    "/api/wall/grid/G001": EVERYONE,
    "/api/patrols/P0001/trail": set(),
    "/api/kpis": EVERYONE,
    "/api/cases": set(),  # not in the policy: refused to everyone
    "/api/live/snapshotx": set(),
    "/dispatcher": set(),  # no prefix match for pages
    "/nowhere": set(),
    "/login": EVERYONE | {None},
    "/assets/wall.css": EVERYONE | {None},
    "/_dash-layout": EVERYONE,
    "/_dash-update-component": EVERYONE,
    "/_dash-component-suites/dash/dash-renderer/build/dash_renderer.v4.js": EVERYONE,
}

ACTIONS: dict[Permission, set[Role]] = {
    Permission.ACT_ON_CASES: {D, OP},
    Permission.RUN_DRILLS: {T, A},
    Permission.MANAGE_USERS: {A},
    Permission.REDRIVE_DEAD_LETTERS: {OP, A},
    Permission.VIEW_WALL: EVERYONE,
    Permission.VIEW_REPLAY: {D, L, OP, T, A},
}


@pytest.mark.parametrize("path", sorted(PATHS))
@pytest.mark.parametrize("role", IDENTITIES, ids=lambda r: str(r))
def test_every_identity_against_every_path(role, path):
    assert allowed(role, path) is (role in PATHS[path])


@pytest.mark.parametrize("permission", sorted(ACTIONS))
@pytest.mark.parametrize("role", IDENTITIES, ids=lambda r: str(r))
def test_every_identity_against_every_action(role, permission):
    assert may(role, permission) is (role in ACTIONS[permission])


def test_the_leader_reads_and_acts_on_nothing_and_the_kiosk_reads_the_wall_only():
    acting = {Permission.ACT_ON_CASES, Permission.REDRIVE_DEAD_LETTERS, Permission.RUN_DRILLS,
              Permission.MANAGE_USERS}
    assert not any(may(L, p) for p in acting)
    assert [p for p in Permission if may(K, p)] == [Permission.VIEW_WALL]
    assert K not in USER_ROLES and set(USER_ROLES) == {D, L, OP, T, A}


def test_the_most_specific_rule_wins_and_unknown_paths_have_none():
    assert rule_for("/api/health").need is Access.PUBLIC
    assert rule_for("/api/wall/trail/x").path == "/api/wall/"
    assert rule_for("/api/other") is None and rule_for("") is None


def test_every_policy_path_is_unique():
    paths = [r.path for r in POLICY]
    assert len(paths) == len(set(paths))
