"""A case's audit trail in words, pure: who did what, when, why, and what changed (before → after), in the
page's language and the command centre's time zone."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from dashboard.i18n import TEXT, t
from dashboard.views.queue import Names
from feeds.cases.reads import TrailEntry
from feeds.categories import CHANNELS

# the fields a change is told by, in this order; the version and the step's start are bookkeeping
SHOWN_FIELDS = ("state", "department", "assignee", "level", "extended_hours", "reworks", "parked_from",
                "reject_reason", "report")
NOBODY = "—"


def coded(prefix: str, code: Any, lang: str = "zh") -> str:
    """The label of a code from the UI strings ("state", "reported" → 待核实); the code itself when it has
    none; "—" for no code."""
    if code is None or code == "":
        return NOBODY
    key = f"{prefix}_{code}"
    return t(key, lang) if key in TEXT else str(code)


def who(by: str, names: Names, lang: str = "zh") -> str:
    """Who acted, as a person reads it: a name with the id it acted under, a department, a channel, the system."""
    if by == "system":
        return t("who_system", lang)
    if by in names.people:
        return f"{names.people[by]} ({by})"
    if by in names.departments:
        return names.departments[by]
    if by in CHANNELS:
        return CHANNELS[by].zh if lang == "zh" else CHANNELS[by].en
    return by


def value_words(field: str, value: Any, names: Names, lang: str = "zh") -> str:
    """One field's value in words."""
    if value is None or value == "":
        return NOBODY
    match field:
        case "state" | "parked_from":
            return coded("state", value, lang)
        case "department":
            return names.departments.get(value, value)
        case "assignee":
            return f"{names.people[value]} ({value})" if value in names.people else str(value)
        case "level":
            return coded("level", value, lang)
        case "reject_reason":
            return coded("reject", value, lang)
        case "extended_hours":
            return t("cd_hours", lang).format(n=f"{value:g}")
        case _:
            return str(value)


def changes(before: dict[str, Any], after: dict[str, Any], names: Names, lang: str = "zh") -> list[str]:
    """'状态:待派遣 → 处置中' for every shown field the entry changed (or set, when it opened the case)."""
    out = []
    for field in SHOWN_FIELDS:
        if field not in before and field not in after:
            continue
        old, new = before.get(field), after.get(field)
        name = coded("field", field, lang)
        sep = ":" if lang == "zh" else ": "
        if field not in before:
            out.append(f"{name}{sep}{value_words(field, new, names, lang)}")
        else:
            out.append(f"{name}{sep}{value_words(field, old, names, lang)} → {value_words(field, new, names, lang)}")
    return out


@dataclass(frozen=True)
class TrailRow:
    action: str  # the action's code (for its colour)
    what: str  # the action in words
    who: str
    when: str
    why: str
    changes: list[str]


def when(at: datetime, zone: ZoneInfo) -> str:
    return f"{at.astimezone(zone):%m-%d %H:%M:%S}"


def trail_rows(trail: list[TrailEntry], names: Names, lang: str, timezone: str) -> list[TrailRow]:
    """The audit trail, oldest first, each row in words."""
    zone = ZoneInfo(timezone)
    return [TrailRow(e.action, coded("action", e.action, lang), who(e.by, names, lang), when(e.at, zone), e.reason,
                     changes(e.before, e.after, names, lang)) for e in trail]
