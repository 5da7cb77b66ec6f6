"""Sends a person's command on a case and waits for its verdict: the screen's end of the write path.

The command goes on the durable bus (Redis Streams) like every producer's message, through the ingest's
validate → persist → push; the verdict comes back from the ingest once the change is committed and pushed
to every screen (feeds/bus/verdicts.py).
"""
from __future__ import annotations

import logging

from feeds.bus.channels import Bus, publish_messages
from feeds.bus.verdicts import Verdict, VerdictBoard
from feeds.schemas import CaseCommand

log = logging.getLogger(__name__)


class CaseDesk:
    def __init__(self, bus: Bus, verdicts: VerdictBoard, timeout_s: float = 5.0) -> None:
        self._bus = bus
        self._verdicts = verdicts
        self.timeout_s = timeout_s

    def send(self, command: CaseCommand) -> Verdict | None:
        """Publish and wait; None when no verdict came in time (the command stays queued on the bus and
        applies when the ingest reads it: nothing is lost)."""
        publish_messages(self._bus, [command])
        verdict = self._verdicts.wait(command.id, self.timeout_s)
        if verdict is None:
            log.warning("no verdict on command %s (%s on case %s) within %.1f s", command.id, command.action,
                        command.case_id, self.timeout_s)
        return verdict
