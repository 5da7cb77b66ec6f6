"""Where some of the simulation's messages go instead of the bus: to an adapter, sent as the outside system
that adapter reads would send them (simulators/phones.py, hotline.py, frigate_cams.py). The runner hands each
outlet every tick's messages; the outlet takes its own, keeps those it could not send yet, and says how many
went."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Generic, TypeVar

from feeds.schemas import FeedMessage

M = TypeVar("M", bound=FeedMessage)
HELD_LIMIT = 500_000  # messages kept while an adapter is away (as the runner's outbox for the bus)


class Outlet(Generic[M]):
    counted = ""  # the key its sent messages are counted under in the runner's summary, e.g. "… via osmand"

    def __init__(self) -> None:
        self.held: list[M] = []
        self.sent = self.refused = 0

    def takes(self, m: FeedMessage) -> bool:
        raise NotImplementedError

    def send(self, items: Sequence[M], now: datetime) -> list[M]:
        """Send `items` in order; returns those that could not be sent now (to send again next time)."""
        raise NotImplementedError

    def split(self, messages: Sequence[FeedMessage]) -> tuple[list[M], list[FeedMessage]]:
        """Its own messages, and the rest (published on the bus as before)."""
        mine: list[M] = []
        rest: list[FeedMessage] = []
        for m in messages:
            if self.takes(m):
                mine.append(m)  # type: ignore[arg-type]  # takes() admits its own kind only
            else:
                rest.append(m)
        return mine, rest

    def pass_on(self, messages: Sequence[FeedMessage], now: datetime) -> tuple[list[FeedMessage], int]:
        """Send its own of `messages` (after those still held); returns the rest and how many were sent."""
        mine, rest = self.split(messages)
        before = self.sent
        self.held = self.send((self.held + mine)[-HELD_LIMIT:], now)
        return rest, self.sent - before
