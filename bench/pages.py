"""Every page, as every role opens it: how soon it can be read and used, what it costs the browser.

    .venv/bin/python -m bench.pages [--grids 96] [--cases 20000] [--open 800] [--soak-minutes 0]

Builds a district at --grids with --cases case rows of the last 90 days (--open of them open, also in the
live snapshot; as bench/wall.py does), starts Redis, the ingest, the KPI job and the dashboard, then, for each
role (once the KPI job's first pass is over, as the pages meet the centre in operation), signs in with a
fresh headless Chromium at 1920×1080 and opens every page the role may open. Per page,
on the page's own clock (ms from navigation):
- readable: the page's main figures on screen (the wall: map, snapshot and figures; the dispatcher console:
  the queue's rows; the leader page: the KPI cards and the grid ranking's rows; the others: interactive);
- interactive: Dash's callbacks settled (none requested, waiting or running, twice in a row);
- click → response, for the control a user clicks again and again (the dispatcher's queue row → the case's
  header, drawn at once from its row; the leader's period switch → the cards of the period), and for the
  queue row also → the case's detail from the server;
- long tasks (> 50 ms) in the first 10 s and the longest; JS heap after load; DOM nodes; Dash components.
With --soak-minutes N, the wall and the dispatcher console are then left open N minutes (patrols moving, the
KPI job ticking) and their heap is read again.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import redis

from bench.latency import Publisher
from bench.wall import fill, wait_for_first_board
from dashboard.security.access import ROLE_PERMISSIONS, Permission, Role
from devstack.demo import DEMO_USERS, start_stack
from devstack.services import free_port, headless_chromium
from feeds.bus.channels import RedisBus
from feeds.settings import Settings
from simulators.geography import build_district

# page path -> the permission it needs
PAGES = {"": Permission.VIEW_WALL, "kpis": Permission.VIEW_WALL, "dispatch": Permission.VIEW_DISPATCH,
         "leader": Permission.VIEW_LEADER, "replay": Permission.VIEW_REPLAY, "drill": Permission.RUN_DRILLS,
         "dead-letters": Permission.VIEW_DEAD_LETTERS}
READABLE = {
    "": "return !!(window.cc && cc.live && cc.live.interactiveAt)",
    "dispatch": "return !!document.querySelector('#dispatch-queue tr[data-case]')",
    "leader": "const v = document.querySelector('#lv-kpi-open .lv-kpi-value');"
              " return !!(v && /\\d/.test(v.textContent) && document.querySelector('#leader-grids .ag-row'))",
}
# long tasks, from the first script on: installed in every new document before its own scripts
OBSERVE = """
window.__longTasks = [];
new PerformanceObserver((list) => { for (const e of list.getEntries()) {
  window.__longTasks.push([e.startTime, e.duration]); } }).observe({type: 'longtask', buffered: true});
"""
# no callback requested, waiting or running, and no component marked loading
SETTLED = """
const s = window.store && window.store.getState();
if (!s || !s.callbacks) { return false; }
const c = s.callbacks;
return ['requested', 'prioritized', 'executing', 'watched', 'executed'].every(k => !c[k] || c[k].length === 0)
  && document.querySelectorAll('[data-dash-is-loading="true"]').length === 0;
"""
# the components Dash's renderer holds: every object of its layout tree with a type, a namespace and props
COMPONENTS = """
const seen = (node) => {
  if (Array.isArray(node)) { return node.reduce((n, x) => n + seen(x), 0); }
  if (!node || typeof node !== 'object') { return 0; }
  const own = node.type && node.namespace && node.props ? 1 : 0;
  return own + Object.values(own ? node.props : node).reduce((n, x) => n + seen(x), 0);
};
return window.store ? seen(window.store.getState().layout) : 0;
"""
COSTS = """
return {heap: performance.memory ? performance.memory.usedJSHeapSize : null,
        dom: document.getElementsByTagName('*').length};
"""
# click → response: the click and the wait for its effect both on the page's clock (resolves with ms or null)
CLICKS = {
    "dispatch": """
const done = arguments[arguments.length - 1];
const rows = Array.from(document.querySelectorAll('#dispatch-queue tr[data-case]'));
if (rows.length < 2) { done(null); return; }
const row = rows[1], id = row.getAttribute('data-case'), t0 = performance.now();
row.click();
let header = null;
const check = () => {  // the case's header (from its row, at once), then its detail from the server
  const preview = document.querySelector('#dispatch-preview:not([hidden]) [data-preview]');
  const head = document.querySelector('#dispatch-detail:not([hidden]) .detail-state[data-case]');
  if (header === null && preview && preview.getAttribute('data-preview') === id) { header = performance.now() - t0; }
  if (head && head.getAttribute('data-case') === id) {
    const detail = performance.now() - t0;
    done(header === null ? detail : header); window.__detailMs = detail; return; }
  if (performance.now() - t0 > 10000) { done(header); return; }
  requestAnimationFrame(check);
};
requestAnimationFrame(check);
""",
    "leader": """
const done = arguments[arguments.length - 1];
const labels = Array.from(document.querySelectorAll('#leader-period label'));
const label = document.getElementById('leader-period-label');
if (labels.length < 2 || !label) { done(null); return; }
const before = label.textContent, t0 = performance.now();
labels[1].click();
const check = () => {
  const cards = document.querySelector('#lv-kpi-open .lv-kpi-value');
  if (label.textContent !== before && cards && !document.querySelector('#leader-cards[data-dash-is-loading="true"]')) {
    done(performance.now() - t0); return; }
  if (performance.now() - t0 > 30000) { done(null); return; }
  requestAnimationFrame(check);
};
requestAnimationFrame(check);
""",
}


def _until(driver: Any, scripts: dict[str, str], timeout: float = 90.0) -> dict[str, float | None]:
    """performance.now() when each script first held, taken by the page itself as it found it so (a busy
    main thread delays the asking, not the answer); those named "settled…" must hold twice in a row, 0.2 s
    apart (the callbacks' first answers can lead to more calls). None for one that never did."""
    deadline = time.time() + timeout
    found: dict[str, float | None] = dict.fromkeys(scripts)
    held: dict[str, float | None] = dict.fromkeys(scripts)
    while time.time() < deadline and any(v is None for v in found.values()):
        for name, script in scripts.items():
            if found[name] is not None:
                continue
            at = driver.execute_script(f"return (function () {{ {script} }})() ? performance.now() : null")
            if at is None:
                held[name] = None
            elif not name.startswith("settled"):
                found[name] = at
            elif held[name] is None:
                held[name] = at
            elif at - held[name] >= 200:  # type: ignore[operator]
                found[name] = held[name]
        time.sleep(0.02)
    return found


# the slowest request the page made to Dash's callback endpoint (server time and transfer), ms
SLOWEST = """
return Math.max(0, ...performance.getEntriesByType('resource')
  .filter(e => e.name.includes('/_dash-update-component')).map(e => e.duration));
"""


def open_page(driver: Any, url: str, path: str) -> dict[str, Any]:
    driver.get(url + path)
    found = _until(driver, {"settled": SETTLED, **({"readable": READABLE[path]} if path in READABLE else {})})
    interactive = found["settled"]
    readable = found.get("readable", interactive)
    if readable is not None and interactive is not None:
        interactive = max(interactive, readable)
    since = driver.execute_script("return performance.now()")
    if since < 10_000:
        time.sleep((10_000 - since) / 1000)
    tasks = driver.execute_script("return window.__longTasks || []")
    first = [d for start, d in tasks if start < 10_000]
    after = [d for start, d in tasks if readable is not None and start >= readable]
    slowest = driver.execute_script(SLOWEST)
    click = driver.execute_async_script(CLICKS[path]) if path in CLICKS else None
    detail = driver.execute_script("return window.__detailMs || null") if path == "dispatch" else None
    return {"readable": readable, "interactive": interactive, "click": click, "detail": detail,
            "long_tasks": len(first),
            "longest": max(first, default=0.0), "longest_after_readable": max(after, default=0.0),
            "slowest_request": slowest, "components": driver.execute_script(COMPONENTS),
            **driver.execute_script(COSTS)}


def sign_in(driver: Any, url: str, kiosk_url: str, role: Role) -> None:
    if role is Role.KIOSK:
        driver.get(kiosk_url)
        return
    username, _, password, _ = next(u for u in DEMO_USERS if u[1] == role.value)
    driver.get(url + "login")
    driver.find_element("id", "login-username").send_keys(username)
    driver.find_element("id", "login-password").send_keys(password + "\n")
    deadline = time.time() + 30
    while "/login" in driver.current_url and time.time() < deadline:
        time.sleep(0.1)


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grids", type=int, default=96)
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--open", type=int, default=800, help="of the cases, how many are open")
    parser.add_argument("--units", type=int, default=200, help="patrols moving at 1 Hz meanwhile")
    parser.add_argument("--soak-minutes", type=float, default=0.0)
    parser.add_argument("--roles", default=",".join(r.value for r in Role))
    args = parser.parse_args()

    settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="cc-bench-pages-")), port=free_port(), seed=7,
                        grids=args.grids, redis_url=None, database_url=None)
    district = build_district(settings.seed, settings.grids)
    figures: dict[str, float] = {}
    began = time.perf_counter()
    stack = start_stack(settings, simulate=False, quiet=True,
                        prepare=fill(district, settings, args.cases, args.open, figures))
    print(f"pages at {args.grids} grids, {args.cases:,} cases ({args.open:,} open), {args.units} patrols at 1 Hz; "
          f"set up in {time.perf_counter() - began:.0f} s", flush=True)
    publisher = Publisher(RedisBus(redis.Redis.from_url(stack.redis_url)), district.bounds, args.units, args.units)
    thread = threading.Thread(target=publisher.run, daemon=True)
    thread.start()
    rows: list[tuple[str, str, dict[str, Any]]] = []
    soak: list[tuple[str, Any]] = []
    try:
        wait_for_first_board(stack.redis_url)  # the KPI job's first pass over (at 100,000 cases about 90 s)
        print(f"  the KPI job's first pass over after {time.perf_counter() - began:.0f} s", flush=True)
        time.sleep(5)
        for role in (Role(r) for r in args.roles.split(",")):
            driver = headless_chromium()
            driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": OBSERVE})
            sign_in(driver, stack.url, stack.kiosk_url, role)
            for path, need in PAGES.items():
                if need not in ROLE_PERMISSIONS[role]:
                    continue
                load = os.getloadavg()[0]
                found = open_page(driver, stack.url if role is not Role.KIOSK else stack.kiosk_url.split("?")[0],
                                  path)
                found["load"] = load
                rows.append((role.value, "/" + path, found))
                print(f"  {role.value:<10} /{path:<13} readable {_ms(found['readable'])} ms, interactive "
                      f"{_ms(found['interactive'])} ms, click {_ms(found['click'])} ms"
                      + (f" (detail {_ms(found['detail'])} ms)" if found["detail"] else "")
                      + f", components {found['components']}", flush=True)
            if args.soak_minutes and role in (Role.KIOSK, Role.DISPATCHER):
                path = "" if role is Role.KIOSK else "dispatch"
                open_page(driver, stack.url if role is not Role.KIOSK else stack.kiosk_url.split("?")[0], path)
                soak.append(("/" + path, driver))
            else:
                driver.quit()
        if soak:
            start = {path: d.execute_script(COSTS)["heap"] for path, d in soak}
            time.sleep(args.soak_minutes * 60)
            for path, d in soak:
                d.execute_script("window.gc && window.gc()")
                end = d.execute_script(COSTS)["heap"]
                print(f"  {path}: JS heap {start[path] / 2**20:.1f} MiB after load, {end / 2**20:.1f} MiB after "
                      f"{args.soak_minutes:g} minutes open")
                d.quit()
    finally:
        publisher.stop.set()
        thread.join()
        stack.stop()
    print(f"\n{os.cpu_count()} cores; ms from navigation, one load each (load average at the start "
          "of each page)")
    print("| role | page | readable | interactive | click → response | slowest callback request | long tasks (10 s) "
          "| longest | longest after readable | JS heap MiB | DOM nodes | Dash components | load avg |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for role_name, path, f in rows:
        heap = "—" if f["heap"] is None else f"{f['heap'] / 2**20:.1f}"
        print(f"| {role_name} | {path} | {_ms(f['readable'])} | {_ms(f['interactive'])} | {_ms(f['click'])} | "
              f"{_ms(f['slowest_request'])} | {f['long_tasks']} | {_ms(f['longest'])} | "
              f"{_ms(f['longest_after_readable'])} | {heap} | "
              f"{f['dom']:,} | {f['components']:,} | {f['load']:.1f} |")
    print("command: .venv/bin/python -m bench.pages " + " ".join(f"--{k.replace('_', '-')} {v}"
                                                                 for k, v in vars(args).items()))


if __name__ == "__main__":
    main()
