"""The answer to a person's case command: applied, refused because someone changed the case first
(conflict), or refused as not allowed, with the reason in words.

A screen sends its command on the bus like every other producer and waits for the verdict here. The ingest
posts verdicts once the batch is committed and its delta pushed, so when a dispatcher reads "done", every
other screen has already been told. Verdicts live a minute: a screen that gave up waiting (the ingest was
down) finds the command applied later from the pushed change, never lost, because the bus is durable.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Protocol

import redis

VERDICT_TTL_S = 60
KEY_PREFIX = "cc:verdict:"


class Outcome(StrEnum):
    APPLIED = "applied"
    CONFLICT = "conflict"  # the case changed since the person saw it: nothing was overwritten
    REFUSED = "refused"  # not allowed as the case is (wrong step, missing field, no such case)
    REPLAYED = "replayed"  # the same command came twice; it had been applied the first time


@dataclass(frozen=True)
class Verdict:
    command_id: str
    case_id: str
    outcome: Outcome
    reason: str = ""
    version: int | None = None  # the case's version after the command (applied)

    @property
    def done(self) -> bool:
        return self.outcome in (Outcome.APPLIED, Outcome.REPLAYED)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: bytes | str) -> Verdict:
        data = json.loads(raw)
        return cls(data["command_id"], data["case_id"], Outcome(data["outcome"]), data["reason"], data["version"])


class VerdictBoard(Protocol):
    def post(self, verdicts: Iterable[Verdict]) -> None:
        """Make each verdict available to whoever waits for its command."""

    def wait(self, command_id: str, timeout_s: float) -> Verdict | None:
        """The verdict on a command, waiting up to `timeout_s`; None when none came."""


class RedisVerdicts:
    """One short-lived list per command (RPUSH by the ingest, BLPOP by the screen that sent it)."""

    def __init__(self, client: redis.Redis) -> None:
        self._client = client

    def post(self, verdicts: Iterable[Verdict]) -> None:
        pipe = self._client.pipeline(transaction=False)
        for v in verdicts:
            key = KEY_PREFIX + v.command_id
            pipe.rpush(key, v.to_json())
            pipe.expire(key, VERDICT_TTL_S)
        pipe.execute()

    def wait(self, command_id: str, timeout_s: float) -> Verdict | None:
        found = self._client.blpop([KEY_PREFIX + command_id], timeout=timeout_s)
        return None if found is None else Verdict.from_json(found[1])


class MemoryVerdicts:
    """The same in one process, for tests."""

    def __init__(self) -> None:
        self._verdicts: dict[str, Verdict] = {}
        self._changed = threading.Condition()
        self.posted: list[Verdict] = []

    def post(self, verdicts: Iterable[Verdict]) -> None:
        with self._changed:
            for v in verdicts:
                self._verdicts[v.command_id] = v
                self.posted.append(v)
            self._changed.notify_all()

    def wait(self, command_id: str, timeout_s: float) -> Verdict | None:
        with self._changed:
            self._changed.wait_for(lambda: command_id in self._verdicts, timeout=timeout_s)
            return self._verdicts.pop(command_id, None)
