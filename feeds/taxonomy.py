"""The category taxonomy (案件分类), loaded from feeds/data/taxonomy.toml and checked on load.

A sub-class resolves to: its class, its department, and a time limit for every step of the case loop,
for normal and for urgent cases (its own, else its class's).
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from feeds.calendar import Limit, LimitUnit

DATA = Path(__file__).parent / "data" / "taxonomy.toml"
STEPS = ("verify", "register", "dispatch", "handle", "check", "close")
_LIMIT = re.compile(r"^(\d+(?:\.\d+)?)(wh|wd|h)$")
_UNITS = {"wh": LimitUnit.WORKING_HOURS, "wd": LimitUnit.WORKING_DAYS, "h": LimitUnit.CALENDAR_HOURS}


class TaxonomyError(ValueError):
    pass


@dataclass(frozen=True)
class Category:
    code: str
    zh: str
    en: str
    kind: str  # "event" (事件) or "component" (部件)
    class_code: str
    class_zh: str
    department: str
    limits: dict[str, dict[str, Limit]]  # urgency ("normal" / "urgent") -> step -> limit

    def limit(self, step: str, urgent: bool) -> Limit:
        return self.limits["urgent" if urgent else "normal"][step]


@dataclass(frozen=True)
class AlertClass:
    category: str
    urgent: bool


@dataclass(frozen=True)
class Taxonomy:
    steps: dict[str, str]
    departments: dict[str, str]
    classes: dict[str, dict[str, str]]  # code -> {"zh", "en", "kind"}
    categories: dict[str, Category]
    alert_classes: dict[str, AlertClass]  # camera AI alert class -> what case it opens

    def __getitem__(self, code: str) -> Category:
        try:
            return self.categories[code]
        except KeyError:
            raise KeyError(f"unknown category {code!r}") from None


def parse_limit(text: str, where: str) -> Limit:
    match = _LIMIT.match(text.strip())
    if not match:
        raise TaxonomyError(f"{where}: {text!r} is not a limit like '2wh', '1wd' or '0.5h'")
    return Limit(float(match.group(1)), _UNITS[match.group(2)])


def _limits(table: dict[str, Any], where: str) -> dict[str, Limit]:
    missing = [s for s in STEPS if s not in table]
    unknown = [s for s in table if s not in STEPS]
    if missing or unknown:
        raise TaxonomyError(f"{where}: missing steps {missing}, unknown steps {unknown}")
    return {step: parse_limit(table[step], f"{where}.{step}") for step in STEPS}


def build(raw: dict[str, Any]) -> Taxonomy:
    """Check and resolve a parsed taxonomy; every problem is a TaxonomyError naming where it is."""
    departments = dict(raw.get("departments", {}))
    classes: dict[str, dict[str, str]] = {}
    categories: dict[str, Category] = {}
    for cls in raw.get("class", []):
        code = cls["code"]
        if code in classes:
            raise TaxonomyError(f"class {code!r} appears twice")
        if cls.get("kind") not in ("event", "component"):
            raise TaxonomyError(f"class {code!r}: kind must be 'event' or 'component'")
        classes[code] = {"zh": cls["zh"], "en": cls["en"], "kind": cls["kind"]}
        defaults = {u: _limits(cls[u], f"{code}.{u}") for u in ("normal", "urgent")}
        for sub in cls.get("sub", []):
            sub_code = sub["code"]
            if not sub_code.startswith(code + "."):
                raise TaxonomyError(f"sub-class {sub_code!r} is not under its class {code!r}")
            if sub_code in categories:
                raise TaxonomyError(f"sub-class {sub_code!r} appears twice")
            department = sub.get("department", cls["department"])
            if department not in departments:
                raise TaxonomyError(f"{sub_code}: unknown department {department!r}")
            limits = {u: _limits(sub[u], f"{sub_code}.{u}") if u in sub else defaults[u] for u in defaults}
            categories[sub_code] = Category(sub_code, sub["zh"], sub["en"], cls["kind"], code, cls["zh"],
                                            department, limits)
    alert_classes = {}
    for name, spec in raw.get("alert_classes", {}).items():
        if spec.get("category") not in categories:
            raise TaxonomyError(f"alert class {name!r}: unknown category {spec.get('category')!r}")
        alert_classes[name] = AlertClass(spec["category"], bool(spec.get("urgent", False)))
    return Taxonomy(dict(raw.get("steps", {})), departments, classes, categories, alert_classes)


@cache
def load(path: Path = DATA) -> Taxonomy:
    with path.open("rb") as f:
        return build(tomllib.load(f))
