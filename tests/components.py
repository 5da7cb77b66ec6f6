"""Reading Dash component trees in tests: every component, by class, by id, and the texts a page shows."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any


def walk(component: Any) -> Iterator[Any]:
    """The component and everything under it, depth first (strings included)."""
    yield component
    children = getattr(component, "children", None)
    if isinstance(children, (list, tuple)):
        for c in children:
            yield from walk(c)
    elif children is not None and not isinstance(children, str):
        yield from walk(children)


def with_class(tree: Any, name: str) -> list[Any]:
    return [c for c in walk(tree) if name in (getattr(c, "className", None) or "").split()]


def by_id(tree: Any, cid: str) -> Any:
    return next(c for c in walk(tree) if getattr(c, "id", None) == cid)


def shown_texts(component: Any) -> list[str]:
    """Every string in a component tree, in order (what the page shows)."""
    tree = json.loads(json.dumps(component.to_plotly_json(), default=lambda c: c.to_plotly_json()))
    out: list[str] = []

    def visit(node: Any) -> None:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, list):
            for n in node:
                visit(n)
        elif isinstance(node, dict):
            visit(node.get("props", {}).get("children"))
    visit(tree)
    return out
