/* Wall screen live layer: the shared part. The wall's scripts, by concern (Dash loads them in this order):
 *   clock.js (cc.time: the centre's zone, durations, a case's light) · live.js (cc.state: the snapshot and delta
 *   apply, no drawing) · wall.js (this: config, texts, what a case shows, the snapshot + deltas as they reach
 *   the screen) · wall_map.js (the map) · wall_panels.js (counts, queue, ticker, grid card, title bar) ·
 *   wall_start.js (the socket and the start-up). They share what they need through cc.wall.
 *
 * Socket.IO deltas (namespace /live, event "delta") are applied in sequence on top of a snapshot loaded
 * over HTTP; a gap or a reset in the sequence reloads the snapshot. Live markers (patrols, cases, cameras)
 * are drawn on canvases of their own and moved in place, never rebuilt; grids are recoloured only where
 * their colour changes. The merged view (counts, urgent queue, ticker) goes into the Dash store "wall-live"
 * at most twice a second; window.dash_clientside.cc.renderLive draws it. The grid card and the trail of a
 * selected patrol are fetched over HTTP on a click. Cases of a drill never show on a live wall; a wall opened
 * with ?drill=<id> joins that drill's room, loads its snapshot, and shows its cases only.
 * Field text is untrusted: it only ever reaches the page as text (React children, textContent).
 * Replay (/replay): the page's config carries "replay"; then no socket is opened and no live snapshot
 * loaded: assets/replay.js feeds the snapshot and frames of /api/replay through resetTo and applyDelta,
 * and sets cc.clock, the replayed time, which the clock, the SLA lights and countdowns, who is on duty and
 * the data age all follow (clockNow). Visual timings (flashes, "new" marks, latency) stay on real time.
 */
(function () {
  "use strict";
  var cc = (window.cc = window.cc || {});
  var W = (cc.wall = cc.wall || {});  // what the wall's scripts share (wall_map.js, wall_panels.js, wall_start.js)
  cc.maps = cc.maps || {};
  if (window.L && !L.Map.ccHooked) {
    L.Map.addInitHook(function () {
      cc.maps[this.getContainer().id] = this;
      if (cc.mapMade) cc.mapMade(this.getContainer().id);
    });
    L.Map.ccHooked = true;
  }

  var MAP_ID = "wall-map";
  var RENDER_EVERY_MS = 500;
  var CASES_EVERY_MS = 250;  // case markers and grid colours follow case changes at most this often
  var MAX_LATENCIES = 200000;
  var NEW_FOR_MS = 5000;  // a new ticker item stands out this long
  var FLASH_MS = 8000;  // a camera flashes this long after an alert
  var TRAIL_MS = 60 * 60 * 1000;
  var LIGHTS = cc.time.COLOURS;  // assets/clock.js (loaded first)

  var firstSeen = {};  // ticker item id -> when a delta brought it (items from a snapshot are not new)
  var live = (cc.live = {
    seq: null, loading: false, buffer: [], patrols: {}, incidents: [], alerts: [], cases: {}, cameras: {},
    counts: { fixes: 0, incidents: 0, alerts: 0, rejected: 0 },
    receivedAt: 0, dataAt: 0, connected: false, beatAt: 0, snapshots: 0, deltas: 0, latencies: [], painted: [],
    patrolDots: null, caseMarks: null, cameraMarks: null, layers: null, gridStyle: {},
    selectedGrid: null, card: null, selectedUnit: null, trail: null, shown: null,
    // performance.now() of the first load's steps
    startedAt: null, connectedAt: null, snapshotFetchedAt: null, snapshotAt: null, territoryFetchedAt: null,
    territoryAt: null, interactiveAt: null,
  });

  function config() {
    if (!cc.config) {
      var el = document.getElementById("wall-config");
      if (!el) return null;
      cc.config = JSON.parse(el.getAttribute("data-config"));
      cc.config.shapeOf = {};
      cc.config.groups.forEach(function (g) { cc.config.shapeOf[g.code] = g.shape; });
    }
    return cc.config;
  }
  // the territory (grids, cameras, roads, outlines), fetched once from /api/wall/territory
  var territory = (cc.territory = { grids: [], cameras: [], gridByCode: {}, cameraById: {}, roads: {}, outlines: {} });
  function text(key) { var c = config(); return (c && c.text[key]) || key; }
  // "now" for what the screen shows: the real clock, or the replayed one (cc.clock, set by assets/replay.js)
  function clockNow() { return cc.clock ? cc.clock() : Date.now(); }
  function replaying() { var c = config(); return !!(c && c.replay); }
  function onDutyMs() { var c = config(); return (c && c.onDutyMs) || 300000; }
  function setText(id, text, className) {  // a leaf span no callback owns: written directly, only on change
    var el = document.getElementById(id);
    if (!el) return;
    if (el.textContent !== text) el.textContent = text;
    if (className !== undefined && el.className !== className) el.className = className;
  }
  function setProps(id, props) {
    if (window.dash_clientside && window.dash_clientside.set_props) window.dash_clientside.set_props(id, props);
  }
  var remPx = null;
  function rem() {  // the root font size, read once per window size (getComputedStyle is not free)
    if (remPx === null) remPx = parseFloat(getComputedStyle(document.documentElement).fontSize) || 18;
    return remPx;
  }
  window.addEventListener("resize", function () { remPx = null; });

  /* ---- what a case shows: live (not a drill), its light, its countdown ---- */
  // drills: a wall opened with ?drill=<id> shows that drill's cases only (its own room and snapshot)
  function drillId() { var c = config(); return (c && c.drill) || null; }
  function isLive(c) { return (c.drill || null) === drillId(); }
  function light(c, now) { return cc.time.light(c, now); }  // assets/clock.js
  function countdown(c, now) {
    if (c.deadline === null || c.deadline === undefined) return text("no_clock");
    var left = c.deadline - now;
    return (left >= 0 ? text("time_left") : text("overdue_by")).replace("{t}", cc.time.duration(left));
  }
  var queueOrder = null;  // open live cases with a clock by deadline; deadlines do not move with time
  function urgentFirst() {  // least time left first (the overdue lead); recomputed only when cases change
    if (queueOrder === null) {
      queueOrder = Object.keys(live.cases).map(function (id) { return live.cases[id]; })
        .filter(function (c) { return isLive(c) && c.deadline !== null && c.deadline !== undefined; })
        .sort(function (a, b) { return (a.deadline - b.deadline) || (a.id < b.id ? -1 : 1); });
    }
    return queueOrder;
  }
  cc.urgentFirst = urgentFirst;


  /* ---- snapshot + ordered deltas ---- */
  function resetTo(snap) {
    var map = cc.maps[MAP_ID], now = clockNow();
    live.seq = snap.seq;
    live.patrols = {};
    Object.keys(snap.patrols).forEach(function (id) { if (W.onDuty(snap.patrols[id], now)) live.patrols[id] = snap.patrols[id]; });
    live.incidents = snap.incidents;
    live.alerts = snap.alerts;
    live.counts = snap.counts;
    live.cases = snap.cases || {};
    live.cameras = snap.cameras || {};
    live.dataAt = snap.at;
    live.snapshots += 1;
    if (map) drawLive(map, now);
    if (live.snapshotAt === null) live.snapshotAt = performance.now();
    W.scheduleRender();
  }

  function drawLive(map, now) {  // the live patrols and cases on the map, as the snapshot left them
    var lyr = W.layers(map);
    Object.keys(lyr.patrols.points).forEach(function (id) { if (!live.patrols[id]) lyr.patrols.remove(id); });
    Object.keys(live.patrols).forEach(function (id) { lyr.patrols.set(id, live.patrols[id].lat, live.patrols[id].lon); });
    W.drawCases(now);
    W.drawCameraHealth();
  }

  function applyDelta(d) {  // the state's part is assets/live.js (cc.state.fold); what follows is drawing
    var map = cc.maps[MAP_ID];
    var lyr = map ? W.layers(map) : null;
    var sent = [], now = clockNow(), real = Date.now();
    var recent = Math.max(live.incidents.length, live.alerts.length, 30);
    // a late fix of a unit gone off duty is no live position
    var step = cc.state.fold(live, d, recent, function (p) { return W.onDuty(p, now); });
    step.moved.forEach(function (id) {
      var p = d.patrols[id];
      if (lyr) lyr.patrols.set(id, p.lat, p.lon);
      if (id === live.selectedUnit && live.trail) {
        live.trail.addLatLng([p.lat, p.lon]);
        if (live.trailInfo) live.trailInfo.points += 1;
      }
      sent.push(p.sent);
    });
    d.incidents.concat(d.alerts).forEach(function (it) { firstSeen[it.id] = real; });
    if (d.alerts.length) W.flashCameras(d.alerts);
    if (step.cameras.length) W.drawCameraHealth(step.cameras);
    var changed = step.changed;
    live.dataAt = d.at;
    live.receivedAt = now;
    live.deltas += 1;
    if (changed.length) { queueOrder = null; W.scheduleCases(); }
    if (sent.length && !replaying()) recordLatency(sent);
    W.scheduleRender();
  }

  // publish → screen, on the wall clock both sides use: "latencies" at the start of the frame that paints
  // the moved markers (requestAnimationFrame), "painted" at the first task after that frame
  function recordLatency(sent) {
    requestAnimationFrame(function () {
      var framed = Date.now();
      setTimeout(function () {
        var painted = Date.now();
        if (live.latencies.length > MAX_LATENCIES) {  // full: keep every other sample, the whole span thinned
          live.latencies = live.latencies.filter(function (_, k) { return k % 2 === 0; });
          live.painted = live.painted.filter(function (_, k) { return k % 2 === 0; });
        }
        for (var i = 0; i < sent.length; i++) {
          live.latencies.push(framed - sent[i]);
          live.painted.push(painted - sent[i]);
        }
      }, 0);
    });
  }

  function loadSnapshot() {
    if (live.loading) return;
    live.loading = true;
    fetch("/api/live/snapshot" + (drillId() ? "?drill=" + encodeURIComponent(drillId()) : ""), { cache: "no-store" })
      .then(function (r) { if (!r.ok) throw new Error("snapshot " + r.status); return r.json(); })
      .then(function (snap) {
        live.loading = false;
        if (live.snapshotFetchedAt === null) live.snapshotFetchedAt = performance.now();
        resetTo(snap);
        // deltas that came while loading: apply those that follow the snapshot in sequence; drop the
        // rest (older ones are in it; one that still leaves a gap is superseded by the next live delta)
        var pending = live.buffer.sort(function (a, b) { return a.seq - b.seq; });
        live.buffer = [];
        pending.forEach(function (d) { if (d.seq === live.seq + 1) applyDelta(d); });
      })
      .catch(function () { live.loading = false; setTimeout(loadSnapshot, 2000); });
  }

  function onDelta(d) {
    if (live.loading || live.seq === null) { live.buffer.push(d); loadSnapshot(); return; }
    if (d.seq === live.seq + 1) { applyDelta(d); return; }
    // a gap (missed deltas) or a reset (the ingest started over): start again from a snapshot
    live.buffer.push(d);
    loadSnapshot();
  }
  cc.onDelta = onDelta;  // for tests that inject deltas

  function el(type, props, children) {
    return { type: type, namespace: "dash_html_components", props: Object.assign({ children: children }, props || {}) };
  }
  function casesChanged() { queueOrder = null; }  // the urgent queue is sorted again when next read

  Object.assign(W, {
    CASES_EVERY_MS: CASES_EVERY_MS,
    FLASH_MS: FLASH_MS,
    LIGHTS: LIGHTS,
    MAP_ID: MAP_ID,
    NEW_FOR_MS: NEW_FOR_MS,
    RENDER_EVERY_MS: RENDER_EVERY_MS,
    applyDelta: applyDelta,
    casesChanged: casesChanged,
    clockNow: clockNow,
    config: config,
    countdown: countdown,
    drawLive: drawLive,
    drillId: drillId,
    el: el,
    firstSeen: firstSeen,
    isLive: isLive,
    light: light,
    live: live,
    loadSnapshot: loadSnapshot,
    onDelta: onDelta,
    onDutyMs: onDutyMs,
    rem: rem,
    replaying: replaying,
    resetTo: resetTo,
    setProps: setProps,
    setText: setText,
    territory: territory,
    text: text,
    urgentFirst: urgentFirst,
  });
})();
