"""Labels for the screens, zh-CN first: case categories (from the taxonomy), camera alert classes and
report channels."""
from __future__ import annotations

from typing import NamedTuple

from feeds.taxonomy import load as load_taxonomy


class Label(NamedTuple):
    zh: str
    en: str


CATEGORIES: dict[str, Label] = {code: Label(c.zh, c.en) for code, c in load_taxonomy().categories.items()}

ALERT_CLASSES: dict[str, Label] = {
    "garbage_overflow": Label("垃圾满溢", "Garbage overflow"),
    "street_vendor": Label("流动摊贩", "Street vendor"),
    "illegal_parking": Label("违停", "Illegal parking"),
    "crowd_gathering": Label("人员聚集", "Crowd gathering"),
    "smoke_fire": Label("烟火", "Smoke or fire"),
    "waterlogging": Label("积水", "Waterlogging"),
}

CHANNELS: dict[str, Label] = {
    "patrol": Label("巡查上报", "Patrol"),
    "citizen": Label("市民反映", "Citizen"),
    "camera": Label("视频发现", "Camera"),
    "hotline": Label("12345热线", "Hotline"),
}


def labels(table: dict[str, Label], lang: str) -> dict[str, str]:
    return {code: (label.zh if lang == "zh" else label.en) for code, label in table.items()}
