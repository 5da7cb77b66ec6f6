"""Labels of case categories and camera alert classes, zh-CN first. (The full taxonomy, with time limits
and departments, grows from this table.)"""
from __future__ import annotations

from typing import NamedTuple


class Label(NamedTuple):
    zh: str
    en: str


CATEGORIES: dict[str, Label] = {
    "env.garbage": Label("暴露垃圾", "Exposed garbage"),
    "env.waterlogging": Label("道路积水", "Waterlogged road"),
    "env.tree": Label("树木倒伏", "Fallen tree"),
    "road.pothole": Label("道路破损", "Damaged road"),
    "facility.manhole": Label("井盖缺失", "Missing manhole cover"),
    "facility.streetlight": Label("路灯不亮", "Street light out"),
    "order.vendor": Label("占道经营", "Street vending"),
    "order.parking": Label("违章停车", "Illegal parking"),
    "safety.fire_hazard": Label("消防隐患", "Fire hazard"),
    "people.dispute": Label("邻里纠纷", "Neighbour dispute"),
}

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
