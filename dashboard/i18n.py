"""UI strings: zh-CN first, English second."""
from __future__ import annotations

LANGS = ("zh", "en")

TEXT: dict[str, tuple[str, str]] = {
    "title": ("网格化治理指挥中心", "Grid Governance Command Centre"),
    "live_situation": ("实时态势", "Live situation"),
    "patrols_on_duty": ("在岗巡查员", "Patrols on duty"),
    "open_cases": ("在办案件", "Open cases"),
    "incidents": ("事件上报", "Incidents reported"),
    "camera_alerts": ("视频告警", "Camera alerts"),
    "rejected": ("拒收消息", "Rejected messages"),
    "territory": ("辖区概况", "Territory"),
    "kpis": ("考核指标", "Key figures"),
    "grids": ("网格", "Grids"),
    "households": ("户数", "Households"),
    "population": ("人口", "Population"),
    "ticker": ("实时事件", "Live events"),
    "ticker_empty": ("等待新事件…", "Waiting for events…"),
    "connecting": ("连接中…", "Connecting…"),
    "connected": ("实时连接", "Live"),
    "disconnected": ("连接中断", "Disconnected"),
    "updated_ago": ("{n} 秒前更新", "updated {n} s ago"),
    "stale": ("数据已 {n}未更新", "No update for {n}"),
    "minutes": ("{n} 分钟", "{n} min"),
    "seconds": ("{n} 秒", "{n} s"),
    "no_data": ("尚无数据", "No data yet"),
    "urgent": ("紧急", "Urgent"),
    "camera": ("摄像头", "Camera"),
    "confidence": ("置信度", "confidence"),
    "legend_patrol": ("巡查员", "Patrol"),
    "legend_incident": ("事件", "Incident"),
    "legend_alert": ("视频告警", "Camera alert"),
    "dead_letters": ("拒收消息", "Dead letters"),
    "dl_hint": ("待处理 {n} 条,最新在前。修正后重新投递:python -m feeds.deadletters redrive 编号 --payload '…'",
                "{n} waiting, newest first. Fix and re-drive: python -m feeds.deadletters redrive ID --payload '…'"),
    "dl_time": ("时间", "Time"),
    "dl_channel": ("通道", "Channel"),
    "dl_stage": ("环节", "Stage"),
    "dl_reason": ("原因", "Reason"),
    "dl_payload": ("原始内容", "Payload"),
    "dl_none": ("没有待处理的拒收消息", "No dead letters waiting"),
    "weekdays": ("日一二三四五六", "SunMonTueWedThuFriSat"),
    # the wall's KPI panel (dashboard/layouts/kpi_panel.py)
    "kpi_today": ("今日", "Today"),
    "kpi_month": ("本月", "This month"),
    "kpi_yesterday": ("昨日同时", "Yesterday to this time"),
    "kpi_last_month": ("上月同期", "Last month to this day"),
    "kpi_discovery_timeliness": ("发现及时率", "Discovery timeliness"),
    "kpi_discovery_accuracy": ("发现准确率", "Discovery accuracy"),
    "kpi_coverage": ("发现覆盖率", "Patrol coverage"),
    "kpi_verification_timeliness": ("核查及时率", "Verification timeliness"),
    "kpi_closure": ("结案率", "Closure rate"),
    "kpi_on_time_closure": ("按期结案率", "On-time closure"),
    "kpi_same": ("持平", "no change"),
    "kpi_points": ("个百分点", "points"),
    "kpi_legend": ("▲▼ 今日较昨日同时,本月较上月同期(百分点)",
                   "▲▼ today vs yesterday to this time, month vs last month to this day (points)"),
    "kpi_computed_at": ("统计于 {time}", "Computed {time}"),
    "kpi_waiting": ("指标计算中…", "Computing the figures…"),
    "kpi_stale": ("指标已 {n}未更新", "Figures not updated for {n}"),
    "kpi_no_value": ("无应计数(分母为 0)", "nothing due (denominator 0)"),
}


def t(key: str, lang: str = "zh") -> str:
    zh, en = TEXT[key]
    return zh if lang == "zh" else en


def bundle(lang: str) -> dict[str, str]:
    """All strings in one language, for the browser script."""
    return {key: t(key, lang) for key in TEXT}
