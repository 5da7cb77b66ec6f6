/* The replay screen (/replay): a past period played on the wall at a chosen speed.
 *
 * The wall's script (assets/wall.js) sees "replay" in its page config, opens no socket, loads no live
 * snapshot, and calls cc.replay.begin with its own apply path. This script loads the snapshot at the start
 * of the period and its frames from /api/replay in chunks (the next chunk is fetched well before it is
 * needed), and hands each frame to the wall's applyDelta when the replayed time reaches the frame's time.
 * The replayed time runs at `speed` × real time from an anchor; it is the wall's clock (cc.clock), so the
 * title clock, SLA lights and countdowns, who is on duty and the data age all follow it. Playback waits
 * (the clock stands) while a chunk it needs is still on its way. Pause, speed, restart and a click on the
 * progress bar (which starts again from that moment's snapshot) are the controls.
 */
(function () {
  "use strict";
  var cc = (window.cc = window.cc || {});
  var TICK_MS = 100, AHEAD_REAL_MS = 20000, LIMIT = 300;

  function config() {
    var el = document.getElementById("wall-config");
    return el ? JSON.parse(el.getAttribute("data-config")) : null;
  }
  function byId(id) { return document.getElementById(id); }
  function setText(id, text) { var el = byId(id); if (el && el.textContent !== text) el.textContent = text; }

  var R = (cc.replay = {
    cfg: null, api: null, text: {}, speed: 10, playing: false, state: "loading", generation: 0,
    base: 0, to: 0, from: 0, anchorAt: 0, anchorReal: 0, frames: [], nextAfter: 0, frameMs: 1000, done: false,
    fetching: false, applied: 0, chunks: 0, figures: { reports: 0, alerts: 0, steps: 0, ended: 0 }, error: null,
  });

  /* ---- the replayed clock ---- */
  function raw() { return R.playing ? R.anchorAt + (performance.now() - R.anchorReal) * R.speed : R.anchorAt; }
  function horizon() { return R.done ? R.to : Math.min(R.to, R.base + R.nextAfter * R.frameMs); }
  function now() { return Math.min(raw(), horizon()); }
  function anchor(at) { R.anchorAt = at; R.anchorReal = performance.now(); }
  R.now = now;

  R.label = function () {  // what the wall's connection badge says during a replay
    if (R.state === "error") return R.text.rp_error.replace("{why}", R.error || "");
    if (R.state === "done") return R.text.rp_done;
    if (R.state === "loading") return R.text.rp_loading;
    return R.playing ? R.text.rp_playing + " " + R.speed + "×" : R.text.rp_paused;
  };

  /* ---- loading: the snapshot at a moment, then the frames after it, chunk by chunk ---- */
  function url(after) {
    var q = "from=" + Math.floor(R.base) + "&to=" + R.to + "&after_seq=" + after + "&limit=" + LIMIT;
    if (R.cfg.drill) q += "&drill=" + encodeURIComponent(R.cfg.drill);
    return "/api/replay?" + q;
  }
  function fail(why) { R.state = "error"; R.error = why; R.playing = false; show(); }
  function get(after, generation) {
    R.fetching = true;
    return fetch(url(after), { cache: "no-store" })
      .then(function (r) {
        return r.json().then(function (body) { if (!r.ok) throw new Error(body.error || String(r.status)); return body; });
      })
      .then(function (chunk) {
        if (generation !== R.generation) return null;  // a restart or a seek came meanwhile
        R.fetching = false;
        R.chunks += 1;
        R.frameMs = chunk.period.frame_ms;
        R.frames = R.frames.concat(chunk.frames);
        R.nextAfter = chunk.next_after_seq;
        R.done = chunk.done;
        return chunk;
      })
      .catch(function (err) { if (generation === R.generation) { R.fetching = false; fail(err.message); } });
  }
  function load(at) {  // (re)start playback at `at` from that moment's snapshot
    R.generation += 1;
    var generation = R.generation, wasPlaying = R.state === "loading" || R.playing;
    R.base = Math.max(R.from, Math.min(at, R.to - 1));
    R.frames = []; R.nextAfter = 0; R.done = false; R.playing = false; R.state = "loading";
    Object.keys(R.figures).forEach(function (k) { R.figures[k] = 0; });
    anchor(R.base);
    show();
    get(0, generation).then(function (chunk) {
      if (!chunk) return;
      anchor(R.base);
      R.api.resetTo(chunk.snapshot);
      R.state = "ready";
      R.playing = wasPlaying;
      anchor(R.base);
      show();
    });
  }

  /* ---- playing: frames whose time has come go through the wall's own apply path ---- */
  function apply(frame) {
    R.figures.reports += frame.incidents.length;
    R.figures.alerts += frame.alerts.length;
    Object.keys(frame.cases).forEach(function (id) {
      R.figures.steps += 1;
      if (frame.cases[id] === null) R.figures.ended += 1;
    });
    R.applied += 1;
    R.api.applyDelta(frame);
  }
  function step() {
    if (R.state !== "ready" && R.state !== "done") return;
    if (R.playing && raw() > horizon()) anchor(horizon());  // waiting for the next chunk: the clock stands
    var t = now();
    while (R.frames.length && R.frames[0].at <= t) apply(R.frames.shift());
    var buffered = R.done ? Infinity : horizon() - t;
    if (!R.done && !R.fetching && buffered < R.speed * AHEAD_REAL_MS) get(R.nextAfter, R.generation);
    if (R.done && !R.frames.length && t >= R.to) {
      if (R.state !== "done") { R.state = "done"; R.playing = false; anchor(R.to); }
    } else if (R.state === "done") R.state = "ready";
    show();
  }

  /* ---- what the controls, the banner and the progress bar show ---- */
  function show() {  // times in the centre's zone (assets/clock.js)
    if (!R.cfg) return;
    var t = now(), span = Math.max(1, R.to - R.from);
    var clock = cc.time.stamp(t, R.cfg.timezone);
    var tail = R.state === "ready" ? (R.playing ? R.speed + "×" : R.text.rp_paused) : R.label();
    setText("drill-banner-clock", clock + "  " + tail);
    setText("replay-position", cc.time.timeOfDay(t, R.cfg.timezone));
    setText("replay-state", R.state === "ready" && R.playing ? R.speed + "×" : R.label());
    var fill = byId("replay-scrub");
    var width = (Math.max(0, Math.min(1, (t - R.from) / span)) * 100).toFixed(2) + "%";
    if (fill && fill.style.width !== width) fill.style.width = width;
    var play = byId("replay-play");
    var label = R.playing ? R.text.rp_pause : R.text.rp_play;
    if (play && play.textContent !== label) play.textContent = label;
    document.querySelectorAll("#replay-figures [data-figure]").forEach(function (el) {
      var v = String(R.figures[el.getAttribute("data-figure")] || 0);
      if (el.textContent !== v) el.textContent = v;
    });
    if (R.api) R.api.tick();  // the title clock with the banner's, on every step
  }

  function setSpeed(speed) {
    anchor(now());
    R.speed = speed;
    document.querySelectorAll("#replay-speeds [data-speed]").forEach(function (b) {
      b.classList.toggle("active", +b.getAttribute("data-speed") === speed);
    });
    show();
  }
  function toggle() {
    if (R.state === "done") { load(R.from); return; }
    if (R.state !== "ready") return;
    anchor(now());
    R.playing = !R.playing;
    show();
  }
  R.setSpeed = setSpeed; R.toggle = toggle;
  R.seek = function (at) { var playing = R.playing || R.state === "done"; load(at); if (!playing) R.state = "loading"; };

  document.addEventListener("click", function (e) {
    var t = e.target;
    if (!R.cfg || !t || !t.closest) return;
    if (t.closest("#replay-play")) toggle();
    else if (t.closest("#replay-restart")) load(R.from);
    else if (t.closest("#replay-speeds [data-speed]")) setSpeed(+t.closest("[data-speed]").getAttribute("data-speed"));
    else if (t.closest(".rp-track")) {
      var box = t.closest(".rp-track").getBoundingClientRect();
      load(R.from + Math.max(0, Math.min(1, (e.clientX - box.left) / box.width)) * (R.to - R.from));
    }
  });

  function fillForm() {  // the picker shows the period being replayed; the language links keep it
    var from = byId("replay-from"), to = byId("replay-to"), scope = byId("replay-scope");
    if (from && !from.value) from.value = R.cfg.replay.fromLocal;
    if (to && !to.value) to.value = R.cfg.replay.toLocal;
    if (scope) scope.value = R.cfg.drill || "";
    document.querySelectorAll("#lang-switch a, .lang-switch a").forEach(function (a) {
      var lang = (a.getAttribute("href").match(/lang=(\w+)/) || [])[1];
      if (!lang) return;
      var q = new URLSearchParams(window.location.search);
      q.set("lang", lang);
      a.setAttribute("href", "/replay?" + q.toString());
    });
  }

  /* ---- called by the wall's script once its map is up ---- */
  R.begin = function (api) {
    R.api = api;
    R.cfg = config();
    R.text = R.cfg.text;
    R.from = R.cfg.replay.from; R.to = R.cfg.replay.to; R.speed = R.cfg.replay.speed;
    cc.clock = now;
    fillForm();
    load(R.from);
    setInterval(step, TICK_MS);
  };
})();
