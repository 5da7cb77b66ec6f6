"""The dispatcher's case queue, pure: the traffic light of a case's open step, its countdown in words, and
the filter, search and order of the queue. No I/O: the views come from the database (feeds/cases/reads.py),
`now` is given."""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dashboard.i18n import t
from feeds.calendar import Light

LIGHTS = (Light.RED, Light.AMBER, Light.GREEN)  # worst first: the queue's order
MINUTE_MS = 60_000


def light(view: Mapping[str, Any], now_ms: int) -> Light | None:
    """green before `amber`, amber until `deadline`, red after; None when no step's clock runs (the browser's
    cc.time.light in assets/clock.js is the same rule)."""
    deadline, amber = view.get("deadline"), view.get("amber")
    if deadline is None or amber is None:
        return None
    if now_ms >= deadline:
        return Light.RED
    return Light.AMBER if now_ms >= amber else Light.GREEN


def span(ms: int, lang: str = "zh") -> str:
    """A duration in whole minutes, as a dispatcher reads it: '45分', '2时05分', '3天4时'."""
    minutes = max(0, ms) // MINUTE_MS
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return t("dq_span_dh", lang).format(d=days, h=hours)
    if hours:
        return t("dq_span_hm", lang).format(h=hours, m=f"{mins:02d}")
    return t("dq_span_m", lang).format(m=mins)


def countdown(view: Mapping[str, Any], now_ms: int, lang: str = "zh") -> str:
    """'剩余 45分' before the deadline, '超时 2时05分' after it; '' when no step's clock runs."""
    deadline = view.get("deadline")
    if deadline is None:
        return ""
    if now_ms >= deadline:
        return t("dq_late", lang).format(t=span(now_ms - deadline, lang))
    left = math.ceil((deadline - now_ms) / MINUTE_MS) * MINUTE_MS  # '1分' up to the last second, never '0分'
    return t("dq_left", lang).format(t=span(left, lang))


@dataclass(frozen=True)
class Names:
    """Names that go with codes, for the search and for the screen (untrusted text, shown as text)."""

    categories: Mapping[str, str] = field(default_factory=dict)  # in the page's language
    grids: Mapping[str, str] = field(default_factory=dict)
    departments: Mapping[str, str] = field(default_factory=dict)
    people: Mapping[str, str] = field(default_factory=dict)  # and cameras, by the id they act under


@dataclass(frozen=True)
class QueueFilter:
    """What the dispatcher asked for: empty sets let everything through; the search needs every word."""

    states: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    grids: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()
    overdue: bool = False
    urgent: bool = False
    search: str = ""

    @classmethod
    def of(cls, states: Iterable[str] | None = None, categories: Iterable[str] | None = None,
           grids: Iterable[str] | None = None, channels: Iterable[str] | None = None, overdue: bool = False,
           urgent: bool = False, search: str | None = None) -> QueueFilter:
        """From the values of the page's controls (None for a control left empty)."""
        return cls(frozenset(states or ()), frozenset(categories or ()), frozenset(grids or ()),
                   frozenset(channels or ()), bool(overdue), bool(urgent), (search or "").strip())


def haystack(view: Mapping[str, Any], names: Names) -> str:
    """Everything the search looks in: id, text, category, grid, department, assignee (codes and names)."""
    parts = [view["id"], view.get("text") or "", view["category"], names.categories.get(view["category"], ""),
             view.get("grid") or "", names.grids.get(view.get("grid") or "", "")]
    for key, table in (("department", names.departments), ("assignee", names.people)):
        code = view.get(key)
        if code:
            parts += [code, table.get(code, "")]
    return "\n".join(parts).casefold()


def matches(view: Mapping[str, Any], f: QueueFilter, now_ms: int, names: Names) -> bool:
    if f.states and view["state"] not in f.states:
        return False
    if f.categories and view["category"] not in f.categories:
        return False
    if f.grids and view.get("grid") not in f.grids:
        return False
    if f.channels and view.get("channel") not in f.channels:
        return False
    if f.urgent and not view.get("urgent"):
        return False
    if f.overdue and light(view, now_ms) != "red":
        return False
    if f.search:
        found = haystack(view, names)
        return all(word in found for word in f.search.casefold().split())
    return True


def order_key(view: Mapping[str, Any], now_ms: int) -> tuple[int, float, int, int, str]:
    """Red first, then amber, then green, then cases with no clock; within a light the least time left
    first; cases that ended, the latest ended first."""
    lit = light(view, now_ms)
    rank = LIGHTS.index(lit) if lit else len(LIGHTS)
    deadline = view.get("deadline")
    return (rank, deadline if deadline is not None else math.inf, -(view.get("ended") or 0), view["reported"],
            view["id"])


def select_cases(views: Iterable[Mapping[str, Any]], f: QueueFilter, now_ms: int,
                 names: Names) -> list[Mapping[str, Any]]:
    """The queue: the views that pass the filter and the search, in the order a dispatcher works them."""
    return sorted((v for v in views if matches(v, f, now_ms, names)), key=lambda v: order_key(v, now_ms))
