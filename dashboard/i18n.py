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
    # sign-in and refusals (dashboard/auth.py)
    "login_title": ("登录", "Sign in"),
    "login_username": ("用户名", "User name"),
    "login_password": ("密码", "Password"),
    "login_submit": ("登录", "Sign in"),
    "login_failed": ("用户名或密码错误", "Wrong user name or password"),
    "login_disabled": ("该账号已停用,请联系管理员", "This account is disabled; ask an administrator"),
    "login_throttled": ("尝试次数过多,请稍后再试", "Too many attempts; try again later"),
    "login_other": ("换个账号登录", "Sign in as someone else"),
    "login_to_wall": ("返回大屏", "Back to the wall"),
    "not_allowed": ("无权访问此页面", "You may not open this page"),
    "not_allowed_hint": ("当前账号的角色不包含此页面。", "The role of this account does not include this page."),
    "kiosk_refused": ("大屏令牌无效", "This wall-screen token is not valid"),
    "kiosk_name": ("指挥大屏", "Wall screen"),
}


def t(key: str, lang: str = "zh") -> str:
    zh, en = TEXT[key]
    return zh if lang == "zh" else en


def bundle(lang: str) -> dict[str, str]:
    """All strings in one language, for the browser script."""
    return {key: t(key, lang) for key in TEXT}
