"""The trainer console and the after-action report as view models, pure: a drill's status, figures and
score in, text out. The console, the drill banner, the HTML report and the XLSX all show these numbers.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from dashboard.i18n import t
from dashboard.views.kpis import percent_text
from feeds.clock import from_ms
from feeds.drills.control import DrillRecord, DrillState, DrillStatus
from feeds.drills.score import MEASURES, DrillScore, Tally
from feeds.kpis.figures import AreaFigures, Rate

NO_VALUE = "—"


def hms(total_ms: int) -> str:
    s = max(0, total_ms) // 1000
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def elapsed_now(status: DrillStatus, now_ms: int) -> int:
    """Drill time since the start at `now_ms`: the status's, carried on at its speed while running."""
    elapsed = status.elapsed_ms
    if status.state is DrillState.RUNNING:
        elapsed += round(max(0, now_ms - status.updated_at) * status.speed)
    return min(elapsed, round(status.duration_min * 60_000))


def drill_clock(starts_at: str, elapsed_ms: int) -> str:
    """The scenario's time of day at drill time `elapsed_ms`: "21:00" + 1 h 5 min → "22:05:00"."""
    hour, minute = (int(x) for x in starts_at.split(":"))
    h, rest = hms((hour * 3600 + minute * 60) * 1000 + elapsed_ms).split(":", 1)
    return f"{int(h) % 24:02d}:{rest}"


def local_time(stamp_ms: int | None, zone: str) -> str:
    if stamp_ms is None:
        return NO_VALUE
    return from_ms(stamp_ms).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S")


def speed_text(speed: float) -> str:
    return f"{speed:g}×"


@dataclass(frozen=True)
class StatusView:
    state: str  # none / running / paused / ended
    state_label: str
    title: str
    drill_id: str
    clock: str  # the scenario's clock, e.g. "21:06:30"
    elapsed: str  # "T+00:06:30"
    progress: float  # 0–100

    @property
    def progress_text(self) -> str:
        return f"{self.progress:.1f}%" if self.progress < 100 else "100%"
    speed: str
    started: str
    ended: str
    injected: str
    note: str
    can_start: bool
    can_pause: bool
    can_resume: bool
    can_stop: bool
    can_change: bool  # set the speed, inject


def status_view(status: DrillStatus | None, now_ms: int, lang: str, zone: str) -> StatusView:
    if status is None:
        return StatusView("none", t("dr_none", lang), t("dr_none", lang), "", "--:--:--", "T+00:00:00", 0.0, NO_VALUE,
                          "", "", "", "", True, False, False, False, False)
    elapsed = elapsed_now(status, now_ms)
    state = status.state
    active = state is not DrillState.ENDED
    return StatusView(
        state.value, t(f"dr_state_{state.value}", lang), status.zh if lang == "zh" else status.en, status.id,
        drill_clock(status.starts_at, elapsed), "T+" + hms(elapsed),
        100 * min(1.0, elapsed / (status.duration_min * 60_000)), speed_text(status.speed),
        t("dr_started", lang).format(by=status.started_by, at=local_time(status.started_at, zone)),
        t("dr_ended", lang).format(by=status.ended_by, at=local_time(status.ended_at, zone)) if status.ended_at else "",
        t("dr_injected", lang).format(n=status.injected) if status.injected else "",
        t("dr_desk_said", lang).format(why=status.note) if status.note else "",
        not active, state is DrillState.RUNNING, state is DrillState.PAUSED, active, active)


# ---------------------------------------------------------------------------------- figures and score


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    value: str
    detail: str  # numerator / denominator, or the target


def _minutes(value: float | None, lang: str) -> str:
    return NO_VALUE if value is None else t("dr_minutes", lang).format(n=f"{value:.1f}")


def _rate(rate: Rate) -> tuple[str, str]:
    text = percent_text(rate.numerator, rate.denominator)
    return (text if text == NO_VALUE else f"{text}%"), f"{rate.numerator} / {rate.denominator}"


def drill_figures(figures: AreaFigures | None, score: DrillScore, lang: str) -> list[Figure]:
    """The drill's own KPIs: its cases, open and overdue, closure and on-time closure, time to dispatch."""
    closure = _rate(figures.closure) if figures else (NO_VALUE, "")
    on_time = _rate(figures.on_time_closure) if figures else (NO_VALUE, "")
    target = score.targets.get("dispatch_min")
    return [
        Figure("cases", t("dr_cases", lang), str(score.total.cases), ""),
        Figure("open", t("dr_open", lang), str(figures.open) if figures else NO_VALUE, ""),
        Figure("overdue", t("dr_overdue", lang), str(score.total.overdue), ""),
        Figure("closure", t("dr_closure", lang), *closure),
        Figure("on_time", t("dr_on_time", lang), *on_time),
        Figure("dispatch", t("dr_avg_dispatch", lang), _minutes(score.total.mean_minutes["dispatch"], lang),
               t("dr_target", lang).format(n=f"{target:g}") if target is not None else ""),
    ]


@dataclass(frozen=True)
class ScoreRow:
    group: str  # total / dispatcher / team
    who: str
    cases: int
    overdue: int
    measures: tuple[tuple[str, str, str], ...]  # per measure: mean minutes, within target (a %), n / m
    met: tuple[bool | None, ...]  # per measure: all within target (None: no target or no cases)


def _row(group: str, who: str, tally: Tally, targets: Mapping[str, float], lang: str) -> ScoreRow:
    measures, met = [], []
    for m in MEASURES:
        rate = tally.within.get(m)
        pct, ratio = _rate(rate) if rate is not None else (NO_VALUE, "")
        measures.append((_minutes(tally.mean_minutes[m], lang), pct, ratio))
        met.append(None if rate is None or not rate.denominator else rate.numerator == rate.denominator)
    return ScoreRow(group, who, tally.cases, tally.overdue, tuple(measures), tuple(met))


def score_rows(score: DrillScore, lang: str, names: Mapping[str, str] | None = None) -> list[ScoreRow]:
    """The whole drill, then each dispatcher, then each team (department), against the targets."""
    names = names or {}
    rows = [_row("total", t("dr_total", lang), score.total, score.targets, lang)]
    rows += [_row("dispatcher", names.get(k, k), v, score.targets, lang) for k, v in score.by_dispatcher.items()]
    rows += [_row("team", names.get(k, k), v, score.targets, lang) for k, v in score.by_team.items()]
    return rows


def measure_heads(targets: Mapping[str, float], lang: str) -> list[tuple[str, str]]:
    """Each measure's name and its target."""
    out = []
    for m in MEASURES:
        target = targets.get(f"{m}_min")
        out.append((t(f"dr_measure_{m}", lang), t("dr_target", lang).format(n=f"{target:g}") if target else NO_VALUE))
    return out


@dataclass(frozen=True)
class PastDrill:
    id: str
    title: str
    started: str
    ended: str
    by: str
    report: str
    xlsx: str
    wall: str
    dispatch: str
    replay: str = ""  # the drill's period replayed on the wall (/replay?drill=<id>)


def past_rows(records: Sequence[DrillRecord], lang: str, zone: str) -> list[PastDrill]:
    def at(t: datetime | None) -> str:
        return NO_VALUE if t is None else t.astimezone(ZoneInfo(zone)).strftime("%m-%d %H:%M")

    q = "" if lang == "zh" else "?lang=en"
    amp = "&lang=en" if lang == "en" else ""
    out = []
    for r in records:
        out.append(PastDrill(r.id, r.zh if lang == "zh" else r.en, at(r.started_at), at(r.ended_at), r.started_by,
                             f"/drill/report/{r.id}{q}", f"/drill/report/{r.id}.xlsx{q}",
                             f"/?drill={r.id}{amp}", f"/dispatch?drill={r.id}{amp}",
                             f"/replay?drill={r.id}{amp}" if r.ended_at else ""))
    return out
