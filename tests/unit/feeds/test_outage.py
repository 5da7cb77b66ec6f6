import logging

from feeds.outage import Outage


def test_the_first_failure_is_an_error_later_ones_are_throttled_then_restored(caplog):
    now = [0.0]
    outage = Outage("bus", logging.getLogger("t"), first_s=0.2, cap_s=2.0, quiet_s=60, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="t"):
        waits = []
        for _ in range(7):
            waits.append(outage.failed(ConnectionError("refused")))
            now[0] += 1
        assert waits == [0.2, 0.4, 0.8, 1.6, 2.0, 2.0, 2.0]  # capped
        assert [r.levelname for r in caplog.records] == ["ERROR"]  # one line, not one a second
        now[0] += 60
        outage.failed(ConnectionError("refused"))
        assert "still failing after 67 s (8 attempts)" in caplog.records[-1].getMessage()
        outage.ok()
        assert caplog.records[-1].getMessage() == "bus restored after 67.0 s" and not outage.down
        outage.ok()
    assert len(caplog.records) == 3
    assert outage.failed(ConnectionError("again")) == 0.2  # a new outage starts from the first wait
