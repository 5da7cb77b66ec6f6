"""Today's column says how much of the day it holds, so that an early-morning figure is read for what it is."""
from dashboard.views.kpis import today_head


def test_today_s_column_says_the_day_so_far():
    board = {"computed_at": "2026-12-05T02:30:41+08:00"}
    assert today_head(board, "zh") == "今日 截至 02:30"
    assert today_head(board, "en") == "Today to 02:30"
    assert today_head(None, "zh") == "今日"  # no board yet: every figure reads "—"
