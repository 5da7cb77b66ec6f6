"""Invented Chinese place names for the synthetic district: plausible on a wall screen, not real addresses."""
from __future__ import annotations

import random

_DISTRICT_FIRST = "峡楚望临滨翠"
_DISTRICT_SECOND = "川岸宁原湾洲"

# Two-character words are built from these: 清江, 和平, 兴华, 桃园, 翠湖 ...
_FIRST = "清和兴福安宁明康云望翠桃樟文建胜光荣新永乐长丰盛晴桂星金玉锦紫红柳枫松竹梅沙滨南北东西"
_SECOND = "江平华安和德泰湖林园山河桥阳春苑港源溪坪岗湾洲城坝岭庄堤光明"

ARTERIAL_SUFFIXES = ("大道", "路")
STREET_SUFFIXES = ("路", "路", "街")


def district_name(rng: random.Random) -> str:
    """A district (区) name such as 峡川区."""
    return f"{rng.choice(_DISTRICT_FIRST)}{rng.choice(_DISTRICT_SECOND)}区"


def word_pool() -> list[str]:
    """Every two-character place word, in a fixed order."""
    return [a + b for a in _FIRST for b in _SECOND if a != b]


def unique_words(rng: random.Random, count: int) -> list[str]:
    """`count` distinct place words drawn with the seeded RNG."""
    pool = word_pool()
    if count > len(pool):
        raise ValueError(f"{count} names asked for, only {len(pool)} can be made")
    return rng.sample(pool, count)


def road_name(word: str, arterial: bool, rng: random.Random) -> str:
    """A road name: 清江大道, 和平路, 兴华街."""
    return word + rng.choice(ARTERIAL_SUFFIXES if arterial else STREET_SUFFIXES)


def is_chinese(name: str) -> bool:
    """True when the name has CJK characters and no Latin letters (digits are allowed: 第3网格)."""
    has_han = any("\u4e00" <= ch <= "\u9fff" for ch in name)
    return has_han and not any(ch.isascii() and ch.isalpha() for ch in name)
