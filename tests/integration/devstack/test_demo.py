"""The demo command: everything starts, the path is live, Ctrl-C stops all of it, nothing is left behind."""
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
import urllib.parse
import urllib.request

import paho.mqtt.client as mqtt

from devstack.services import free_port, redis_answers
from tests.waiting import wait_until


def _port_open(port: int) -> bool:
    import socket

    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _processes_with(marker: str) -> list[int]:
    """Pids whose environment mentions marker (every child of the demo inherits CC_DATA_DIR)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                with open(f"/proc/{entry}/environ", "rb") as f:
                    if marker.encode() in f.read():
                        found.append(int(entry))
            except OSError:
                continue
    return found


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def _health_answers(health) -> bool:  # type: ignore[no-untyped-def]
    try:
        return bool(health())
    except OSError:
        return False


def test_children_die_with_a_parent_killed_outright(tmp_path):
    parent = subprocess.Popen([sys.executable, "-c", textwrap.dedent("""
        import sys, time
        from devstack.services import start_redis
        child, url = start_redis()
        print(url, flush=True)
        time.sleep(60)
    """)], stdout=subprocess.PIPE, text=True)
    url = parent.stdout.readline().strip()
    assert redis_answers(url)
    parent.kill()  # SIGKILL: no chance to clean up
    parent.wait()
    wait_until(lambda: not redis_answers(url, 0.1), 10, "the orphaned server to die")


def test_the_demo_runs_the_live_path_and_ctrl_c_stops_everything(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CC_REDIS_URL", "DATABASE_URL",
                                                            "CC_DATABASE_URL"}}
    env.update({"CC_DATA_DIR": str(tmp_path / "data"), "CC_PATROL_INTERVAL_S": "0.5"})
    demo = subprocess.Popen([sys.executable, "-m", "devstack.demo", "--port", str(port), "--grids", "12",
                             "--history-days", "0.5"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    try:
        wait_until(lambda: lines.append(demo.stdout.readline()) or "Press Ctrl-C" in lines[-1], 90, "the demo banner")
        banner = "".join(lines)
        redis_url = re.search(r"redis://127\.0\.0\.1:\d+/0", banner).group(0)
        assert f"http://127.0.0.1:{port}/" in banner and "cc.sqlite" in banner
        kiosk = (tmp_path / "data" / "kiosk_token").read_text().strip()
        assert f"http://127.0.0.1:{port}/?kiosk={kiosk}" in banner and "dispatcher-demo" in banner

        def health():
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as r:
                return json.load(r)

        live = wait_until(lambda: health()["patrols"] >= 1 and health(), 30, "patrols in the live snapshot")
        assert live["seq"] >= 1
        # a new database starts with the past half day simulated into it, so the panels are not empty
        with sqlite3.connect(tmp_path / "data" / "cc.sqlite") as db:
            assert db.execute("SELECT count(*) FROM cases").fetchone()[0] > 0
        # a share of the patrols report as phones do, through the OsmAnd endpoint the banner names
        assert re.search(r"OsmAnd \(phones\)\s+http://127\.0\.0\.1:\d+/", banner)

        def phone_fixes() -> int:
            with sqlite3.connect(tmp_path / "data" / "cc.sqlite") as db:
                return db.execute("SELECT count(*) FROM patrol_fixes WHERE source = 'osmand'").fetchone()[0]
        wait_until(phone_fixes, 30, "fixes of the simulated phones, through the OsmAnd endpoint")
        # the hotline's and the citizens' app's requests come through the Open311 endpoint, with the demo's keys
        open311 = re.search(r"Open311 \(12345, apps\) (http://127\.0\.0\.1:\d+/open311/v2/)", banner).group(1)
        kept = tmp_path / "data" / "open311_keys.json"
        keys = json.loads(kept.read_text())
        assert set(keys) == {"citizen", "hotline"} and kept.stat().st_mode & 0o077 == 0  # its owner's alone
        with sqlite3.connect(tmp_path / "data" / "cc.sqlite") as db:
            community = db.execute("SELECT name FROM areas WHERE level = 'community' LIMIT 1").fetchone()[0]
        form = urllib.parse.urlencode({"api_key": keys["hotline"], "service_code": "env.garbage",
                                       "address_string": f"{community}东门", "description": "垃圾桶满溢"}).encode()
        with urllib.request.urlopen(open311 + "requests.json", data=form, timeout=5) as answer:
            request_id = json.load(answer)[0]["service_request_id"]

        def hotline_case() -> str | None:  # the case it opened, or the open one on the same spot it joined
            with sqlite3.connect(tmp_path / "data" / "cc.sqlite") as db:
                found = db.execute("SELECT channel FROM case_reports WHERE report_id = ?", (request_id,)).fetchone()
            return found and found[0]
        assert wait_until(hotline_case, 30, "the hotline's request opening a case") == "hotline"
        # the cameras speak Frigate over MQTT, through the demo's broker and the Frigate bridge
        broker = re.search(r"MQTT \(embedded\)\s+\S+ at (mqtt://127\.0\.0\.1:\d+)", banner).group(1)
        mapping = (tmp_path / "data" / "frigate.toml").read_text()
        camera = re.search(r'^(cam_CAM\d+) = "(CAM\d+)"', mapping, re.M)
        review = {"id": "1733385600.000001-demo01", "camera": camera.group(1), "start_time": time.time() - 20,
                  "end_time": None, "severity": "alert",
                  "data": {"detections": [], "objects": ["car"], "zones": ["禁停区"], "sub_labels": [], "audio": []}}
        mqtt_host, mqtt_port = broker.removeprefix("mqtt://").split(":")
        publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        publisher.connect(mqtt_host, int(mqtt_port))
        publisher.loop_start()

        def camera_alert() -> str | None:
            publisher.publish("frigate/reviews", json.dumps({"type": "new", "before": review, "after": review}),
                              qos=1).wait_for_publish(5)
            with sqlite3.connect(tmp_path / "data" / "cc.sqlite") as db:
                found = db.execute("SELECT camera_id, alert_class FROM camera_alerts WHERE id = ?",
                                   ("frigate-" + review["id"],)).fetchone()
            return found and found[0] == camera.group(2) and found[1]
        assert wait_until(camera_alert, 30, "Frigate's review as a camera alert", interval=0.5) == "illegal_parking"
        publisher.loop_stop()
        publisher.disconnect()
        # its embedded Redis dies: the demo starts it again on its port, and the live path comes back
        where = redis_url.removeprefix("redis://").removesuffix("/0").encode()  # its process title names it
        [server] = [int(e) for e in os.listdir("/proc") if e.isdigit() and where in _cmdline(int(e))]
        os.kill(server, signal.SIGKILL)
        wait_until(lambda: not redis_answers(redis_url, 0.1), 10, "the embedded Redis to die")
        wait_until(lambda: redis_answers(redis_url, 0.2), 20, "the embedded Redis to be started again")
        before = health()["seq"] if _health_answers(health) else 0
        wait_until(lambda: _health_answers(health) and health()["seq"] > before, 30, "the live path again")
        assert demo.poll() is None, "the demo stopped with its Redis"
    finally:
        demo.send_signal(signal.SIGINT)
        code = demo.wait(30)
    assert code == 0
    wait_until(lambda: not _port_open(port), 10, "the dashboard port to close")
    assert not redis_answers(redis_url, 0.2)
    wait_until(lambda: not _processes_with(str(tmp_path / "data")), 10, "every child process to exit")
