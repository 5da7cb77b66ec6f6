"""The territory as the figures need it: each area's parent and level, the grids under an area."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class Territory:
    """Areas and their parents (district → street → community → grid; cells hang below grids)."""

    parent: Mapping[str, str | None]
    level: Mapping[str, str]

    @cached_property
    def _grids_of(self) -> dict[str, frozenset[str]]:
        under: dict[str, set[str]] = defaultdict(set)
        for g, lvl in self.level.items():
            if lvl == "grid":
                for a in self.chain(g):
                    under[a].add(g)
        return {a: frozenset(gs) for a, gs in under.items()}

    def grids_under(self, code: str) -> frozenset[str]:
        """The grids in an area (a grid is under itself)."""
        return self._grids_of.get(code, frozenset())

    def chain(self, code: str) -> list[str]:
        """The code and its ancestors, nearest first."""
        out = []
        at: str | None = code
        while at is not None and at not in out:
            out.append(at)
            at = self.parent.get(at)
        return out

    def ancestor_at(self, code: str, level: str) -> str | None:
        return next((a for a in self.chain(code) if self.level.get(a) == level), None)

    def at_level(self, level: str) -> list[str]:
        return sorted(c for c, lvl in self.level.items() if lvl == level)
