"""Click → other screens: how long a dispatcher's reassignment takes to reach every other screen.

    .venv/bin/python -m bench.reassign [--rounds 30] [--units 1000] [--consoles 2]

Starts its own Redis, SQLite, ingest and dashboard, keeps 1,000 patrols reporting at 1 Hz (the live feed the
write path shares the pipeline with), opens one acting dispatcher console and, in separate Chromium
browsers, `--consoles` more consoles showing the same case and one wall screen. Each round the acting
dispatcher reassigns the case by click (reassign → first suggestion → a ready-made reason → confirm), and
every other page records, with Date.now(), when the pushed change reached it and, on the consoles, when the
case's detail was redrawn with it. Both clocks are this machine's. Prints p50/p95/max of click → pushed,
click → shown, and click → the acting dispatcher's own verdict.
"""
from __future__ import annotations

import argparse
import os
import platform
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import redis
from selenium.webdriver.common.by import By
from sqlalchemy import create_engine, select

from bench.latency import Publisher
from devstack.demo import DEMO_USERS, start_stack
from devstack.services import free_port, headless_chromium
from feeds.bus.channels import RedisBus, StreamBus, publish_messages
from feeds.schemas import CaseCommand, IncidentReport
from feeds.settings import Settings
from feeds.store.models import CaseRow
from simulators.geography import build_district

# installed in every watching page: when a pushed delta carries the case at a version, and (on a console)
# when the case's detail first changed after it (the console writes a pushed change in place at once)
WATCH = """
window.__seen = {}; window.__shown = {}; window.__batch = {};
var caseId = arguments[0];
var sock = (window.cc && (cc.dispatch && cc.dispatch.socket)) || (window.cc && cc.socket);
sock.on("delta", function (d) {
  var v = d.cases && d.cases[caseId];
  if (v && !(v.version in window.__seen)) {
    window.__seen[v.version] = Date.now(); window.__batch[v.version] = d.at; window.__want = v;
  }
});
var detail = document.getElementById("dispatch-detail");
if (detail) new MutationObserver(function () {  // the first redraw of the detail after the push
  var v = window.__want;
  if (v && !(v.version in window.__shown)) window.__shown[v.version] = Date.now();
}).observe(detail, {childList: true, subtree: true, characterData: true});
return !!sock;
"""
CLICK = """
var done = arguments[arguments.length - 1];
function wait(test, then, left, what) {
  var got = test();
  if (got) return then(got);
  if (left <= 0) return done({failed: what, result: document.getElementById("act-result").textContent});
  setTimeout(function () { wait(test, then, left - 1, what); }, 20);
}
document.querySelector("#act-buttons [data-action='reassign']").click();
wait(function () { var f = document.getElementById("act-form"); return f && !f.hidden &&
                   document.querySelector("#act-target label"); }, function (label) {
  label.click();
  document.querySelector("#act-quick [data-reason]").click();
  wait(function () { return document.getElementById("act-reason").value; }, function () {
    var result = document.getElementById("act-result"), confirm = document.getElementById("act-confirm");
    var busy = false, at;
    new MutationObserver(function (changes, watcher) {  // the button is disabled while the command is out
      if (confirm.disabled) { busy = true; return; }
      if (!busy) return;
      watcher.disconnect();
      wait(function () { return result.textContent.indexOf("已执行") >= 0; }, function () {
        done({clicked: at, verdict: Date.now(), result: result.textContent});
      }, 50, "the verdict");
    }).observe(confirm, {attributes: true, attributeFilter: ["disabled"]});
    at = Date.now();
    confirm.click();
  }, 250, "the reason");
}, 250, "the form");
"""


def sign_in(driver, url: str, username: str, password: str, path: str) -> None:  # type: ignore[no-untyped-def]
    driver.get(f"{url}login?next=/{path}")
    driver.find_element(By.ID, "login-username").send_keys(username)
    driver.find_element(By.ID, "login-password").send_keys(password + "\n")
    deadline = time.monotonic() + 20
    while "/login" in driver.current_url and time.monotonic() < deadline:
        time.sleep(0.1)


def wait_for(probe, seconds: float, what: str, state=None):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        got = probe()
        if got:
            return got
        time.sleep(0.05)
    raise SystemExit(f"timed out waiting for {what}" + (f": {state()}" if state else ""))


def a_dispatched_case(bus: StreamBus, district, db_url: str) -> str:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    lat, lon = district.centre
    now = datetime.now(UTC)
    report = IncidentReport(schema_version=1, id=f"bench-case-{int(time.time())}", source="bench", ts=now,
                            drill_id=None, kind="incident_report", category="env.garbage",
                            description="基准测试: 垃圾满溢", lat=lat, lon=lon,
                            grid_code=district.grid_areas()[0].code, channel="patrol", reporter_id=None,
                            urgent=False, occurred_at=None)
    publish_messages(bus, [report])
    engine = create_engine(db_url)

    def version() -> int | None:
        with engine.connect() as conn:
            return conn.execute(select(CaseRow.version).where(CaseRow.id == report.id)).scalar()

    wait_for(version, 20, "the case")
    for n, (action, fields) in enumerate((("verify", {}), ("register", {}),
                                          ("dispatch", {"department": "sanitation"})), start=1):
        publish_messages(bus, [CaseCommand(schema_version=1, id=f"{report.id}-{action}", source="bench", ts=now,
                                           drill_id=None, kind="case_command", case_id=report.id, action=action,
                                           by="dispatcher", reason="基准测试", expected_version=n,
                                           department=fields.get("department"), assignee=None,
                                           reject_reason=None, hours=None)])
        wait_for(lambda n=n: version() == n + 1, 20, f"the case's {action}")
    engine.dispose()
    return report.id


def summary(name: str, values: list[float]) -> str:
    a = np.array(values)
    return (f"{name:<34} p50 {np.percentile(a, 50):6.0f} ms   p95 {np.percentile(a, 95):6.0f} ms   "
            f"max {a.max():6.0f} ms   (n={len(a)})")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=30)
    p.add_argument("--units", type=int, default=1000, help="patrols reporting at 1 Hz meanwhile")
    p.add_argument("--consoles", type=int, default=2, help="other dispatcher consoles watching")
    args = p.parse_args()
    settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="cc-bench-reassign-")), port=free_port(),
                        redis_url=None, database_url=None, password_hash_method="pbkdf2:sha256:1000")
    stack = start_stack(settings, simulate=False, quiet=True)
    district = build_district(settings.seed, settings.grids)
    client = redis.Redis.from_url(stack.redis_url)
    feed = Publisher(RedisBus(client), district.bounds, args.units, args.units) if args.units else None
    drivers = []
    try:
        if feed:
            threading.Thread(target=feed.run, daemon=True).start()
        case_id = a_dispatched_case(StreamBus(client), district, stack.db_url)
        users = {role: (name, password) for name, role, password, _ in DEMO_USERS}
        actor = headless_chromium()
        drivers.append(actor)
        sign_in(actor, stack.url, *users["dispatcher"], f"dispatch?case={case_id}")
        watchers = []
        for n in range(args.consoles):
            d = headless_chromium()
            drivers.append(d)
            sign_in(d, stack.url, *users["operator" if n % 2 else "dispatcher"], f"dispatch?case={case_id}")
            watchers.append(("console", d))
        wall = headless_chromium()
        drivers.append(wall)
        wall.get(f"{stack.url}?kiosk={stack.kiosk_token}")
        watchers.append(("wall", wall))
        for d in [actor] + [w for _, w in watchers]:
            wait_for(lambda d=d: d.execute_script(
                "return !!(window.cc && ((cc.dispatch && cc.dispatch.connected) || (cc.live && cc.live.connected)))"),
                30, "a page's live connection")
        for _, d in watchers:
            wait_for(lambda d=d: d.execute_script(WATCH, case_id), 10, "the watch hook")
        wait_for(lambda: actor.find_elements(By.CSS_SELECTOR, "#act-buttons [data-action='reassign']"), 20,
                 "the reassign button")
        actor.set_script_timeout(30)
        pushed: dict[str, list[float]] = {"console": [], "wall": []}
        batched, relayed = [], []  # click → the ingest's batch (its clock), → the push reached a page
        shown, verdicts = [], []
        for _ in range(args.rounds):
            got = actor.execute_async_script(CLICK)
            if not got or got.get("failed"):
                raise SystemExit(f"a round did not complete: {got}")
            version = _version(stack.db_url, case_id)  # the verdict comes after the commit: this is the new one
            for kind, d in watchers:
                seen = wait_for(lambda d=d, v=version: d.execute_script("return window.__seen[arguments[0]]", v), 10,
                                f"the push on a {kind}")
                pushed[kind].append(seen - got["clicked"])
                batch = d.execute_script("return window.__batch[arguments[0]]", version)
                batched.append(batch - got["clicked"])
                relayed.append(seen - batch)
                if kind == "console":
                    at = wait_for(lambda d=d, v=version: d.execute_script("return window.__shown[arguments[0]]", v), 10,
                                  "the console showing it", lambda d=d: d.execute_script(
                                      "return [window.__want, document.getElementById('dispatch-detail').textContent]"))
                    shown.append(at - got["clicked"])
            verdicts.append(got["verdict"] - got["clicked"])
            time.sleep(1.1)  # the panel redrawn for the case as it is now, and the consoles' re-read throttle
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"click → other screens, {args.rounds} reassignments, {args.consoles} consoles + 1 wall watching, "
              f"{args.units} patrols at 1 Hz meanwhile ({platform.node()}, load average {load})")
        print(summary("click → pushed to all other pages", pushed["console"] + pushed["wall"]))
        print(summary("click → pushed to the other consoles", pushed["console"]))
        print(summary("click → pushed to the wall", pushed["wall"]))
        print(summary("  of which click → the ingest's batch", batched))
        print(summary("  of which the batch → the page", relayed))
        print(summary("click → shown on the other consoles", shown))
        print(summary("click → the actor's own verdict", verdicts))
        print("reproduce: .venv/bin/python -m bench.reassign " + " ".join(
            f"--{k} {v}" for k, v in vars(args).items()))
    finally:
        if feed:
            feed.stop.set()
        for d in drivers:
            d.quit()
        stack.stop()


def _version(db_url: str, case_id: str) -> int:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(CaseRow.version).where(CaseRow.id == case_id)).scalar_one())
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
