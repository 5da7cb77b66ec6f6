/* Wall screen live layer.
 *
 * Socket.IO deltas (namespace /live, event "delta") are applied in sequence on top of a snapshot loaded
 * over HTTP; a gap or a reset in the sequence reloads the snapshot. Patrol markers are canvas circle
 * markers moved in place (setLatLng), never rebuilt. The merged view (figures, ticker) goes into the
 * Dash store "wall-live" at most twice a second; window.dash_clientside.cc.renderLive draws it.
 * Field text is untrusted: it only ever reaches the page as text (React children, textContent).
 */
(function () {
  "use strict";
  var cc = (window.cc = window.cc || {});
  cc.maps = cc.maps || {};
  if (window.L && !L.Map.ccHooked) {
    L.Map.addInitHook(function () {
      cc.maps[this.getContainer().id] = this;
    });
    L.Map.ccHooked = true;
  }

  var MAP_ID = "wall-map";
  var ON_DUTY_MS = 5 * 60 * 1000;
  var RENDER_EVERY_MS = 500;
  var MAX_LATENCIES = 200000;
  var NEW_FOR_MS = 5000;  // a new ticker item stands out this long

  var firstSeen = {};  // ticker item id -> when a delta brought it (items from a snapshot are not new)
  var live = (cc.live = {
    seq: null, loading: false, buffer: [], patrols: {}, incidents: [], alerts: [], cases: {},
    counts: { fixes: 0, incidents: 0, alerts: 0, rejected: 0 },
    receivedAt: 0, dataAt: 0, connected: false, snapshots: 0, deltas: 0, latencies: [], painted: [],
    patrolDots: null, incidentMarkers: {}, alertMarkers: {}, layers: null,
  });

  function config() {
    if (!cc.config) {
      var el = document.getElementById("wall-config");
      if (!el) return null;
      cc.config = JSON.parse(el.getAttribute("data-config"));
    }
    return cc.config;
  }
  function text(key) { var c = config(); return (c && c.text[key]) || key; }
  function setProps(id, props) {
    if (window.dash_clientside && window.dash_clientside.set_props) window.dash_clientside.set_props(id, props);
  }
  function rem() { return parseFloat(getComputedStyle(document.documentElement).fontSize) || 18; }

  /* ---- patrols: one canvas layer, every unit a dot moved in place; one path per frame for all dots ---- */
  function makePatrolDots() {
    return L.Layer.extend({
      initialize: function (style) { this.style = style; this.points = {}; this.pending = false; },
      onAdd: function (map) {
        this.canvas = L.DomUtil.create("canvas", "cc-patrol-dots leaflet-zoom-hide");
        this.getPane().appendChild(this.canvas);
        map.on("moveend zoomend resize viewreset", this.reset, this);
        this.reset();
      },
      onRemove: function (map) {
        map.off("moveend zoomend resize viewreset", this.reset, this);
        L.DomUtil.remove(this.canvas);
      },
      set: function (id, lat, lon) { this.points[id] = L.latLng(lat, lon); this.redraw(); },
      remove: function (id) { delete this.points[id]; this.redraw(); },
      has: function (id) { return Object.prototype.hasOwnProperty.call(this.points, id); },
      get: function (id) { return this.points[id]; },
      size: function () { return Object.keys(this.points).length; },
      reset: function () {
        if (!this._map) return;
        var size = this._map.getSize(), dpr = window.devicePixelRatio || 1;
        this.origin = this._map.containerPointToLayerPoint([0, 0]);
        L.DomUtil.setPosition(this.canvas, this.origin);
        this.canvas.width = size.x * dpr; this.canvas.height = size.y * dpr;
        this.canvas.style.width = size.x + "px"; this.canvas.style.height = size.y + "px";
        this.draw();
      },
      redraw: function () {
        if (this.pending || !this._map) return;
        this.pending = true;
        var self = this;
        requestAnimationFrame(function () { self.pending = false; self.draw(); });
      },
      sprite: function (dpr) {  // the dot, drawn once, blitted for every unit (cheap without a GPU)
        var r = this.style.radius(), key = r + "@" + dpr;
        if (this.spriteKey === key) return this.spriteCanvas;
        var half = Math.ceil((r + this.style.line) * dpr), c = document.createElement("canvas");
        c.width = c.height = 2 * half;
        var ctx = c.getContext("2d");
        ctx.beginPath(); ctx.arc(half, half, r * dpr, 0, 2 * Math.PI);
        ctx.fillStyle = this.style.fill; ctx.fill();
        ctx.lineWidth = this.style.line * dpr; ctx.strokeStyle = this.style.edge; ctx.stroke();
        this.spriteKey = key; this.spriteCanvas = c; this.spriteHalf = half;
        return c;
      },
      draw: function () {
        var map = this._map, ctx = this.canvas.getContext("2d"), dpr = window.devicePixelRatio || 1;
        var sprite = this.sprite(dpr), half = this.spriteHalf, origin = this.origin;
        ctx.setTransform(1, 0, 0, 1, 0, 0);
        ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
        for (var id in this.points) {
          var p = map.latLngToLayerPoint(this.points[id]);
          ctx.drawImage(sprite, Math.round((p.x - origin.x) * dpr) - half, Math.round((p.y - origin.y) * dpr) - half);
        }
      },
    });
  }

  /* ---- map layers, moved in place ---- */
  function layers(map) {
    if (live.layers && live.layers.map === map) return live.layers;
    // live layers get panes of their own: moving a patrol redraws only the patrol canvas, never the
    // base map (grids, roads, outlines) beneath it
    ["cc-patrols", "cc-events"].forEach(function (name, i) {
      if (!map.getPane(name)) map.createPane(name).style.zIndex = String(450 + i * 10);
    });
    var PatrolDots = makePatrolDots();
    live.layers = {
      map: map,
      svg: L.svg({ pane: "cc-events", padding: 0.2 }),
      patrols: new PatrolDots({
        pane: "cc-patrols", fill: "#38bdf8", edge: "#061226", line: 1,
        radius: function () { return Math.max(3, rem() * 0.3); },
      }).addTo(map),
      incidents: L.layerGroup().addTo(map),
      alerts: L.layerGroup().addTo(map),
    };
    live.patrolDots = live.layers.patrols; live.incidentMarkers = {}; live.alertMarkers = {};
    return live.layers;
  }

  function upsertPatrol(lyr, id, p) { lyr.patrols.set(id, p.lat, p.lon); }

  function label(lines) {  // a tooltip built from text nodes only
    var div = document.createElement("div");
    lines.forEach(function (line) { var p = document.createElement("div"); p.textContent = line; div.appendChild(p); });
    return div;
  }

  function syncPoints(lyr, group, store, items, options, describe) {
    var keep = {};
    items.forEach(function (it) {
      keep[it.id] = true;
      if (store[it.id]) return;
      var m = L.circleMarker([it.lat, it.lon], Object.assign({ renderer: lyr.svg, pane: "cc-events", ccLive: true },
                                                             options(it)));
      m.bindTooltip(label(describe(it)), { direction: "top" });
      m.addTo(group);
      store[it.id] = m;
    });
    Object.keys(store).forEach(function (id) {
      if (!keep[id]) { group.removeLayer(store[id]); delete store[id]; }
    });
  }

  function drawPoints(lyr, fresh) {
    var c = config() || { categories: {}, alertClasses: {} };
    var r = rem();
    syncPoints(lyr, lyr.incidents, live.incidentMarkers, live.incidents, function (it) {
      return { radius: r * (it.urgent ? 0.6 : 0.45), color: "#ffffff", weight: 2, fillColor: "#f472b6",
               fillOpacity: 0.9, className: fresh[it.id] ? "marker-new" : "" };
    }, function (it) { return [c.categories[it.category] || it.category, it.text]; });
    syncPoints(lyr, lyr.alerts, live.alertMarkers, live.alerts, function (it) {
      return { radius: r * 0.45, color: "#ffffff", weight: 2, fillColor: "#a78bfa", fillOpacity: 0.9,
               className: fresh[it.id] ? "marker-new" : "" };
    }, function (it) { return [c.alertClasses[it["class"]] || it["class"], it.camera]; });
  }

  /* ---- snapshot + ordered deltas ---- */
  function resetTo(snap) {
    var map = cc.maps[MAP_ID];
    live.seq = snap.seq;
    live.patrols = snap.patrols;
    live.incidents = snap.incidents;
    live.alerts = snap.alerts;
    live.counts = snap.counts;
    live.cases = snap.cases || {};
    live.dataAt = snap.at;
    live.snapshots += 1;
    if (map) {
      var lyr = layers(map);
      Object.keys(lyr.patrols.points).forEach(function (id) { if (!snap.patrols[id]) lyr.patrols.remove(id); });
      Object.keys(snap.patrols).forEach(function (id) { upsertPatrol(lyr, id, snap.patrols[id]); });
      drawPoints(lyr, {});
    }
    scheduleRender();
  }

  function applyDelta(d) {
    var map = cc.maps[MAP_ID];
    var lyr = map ? layers(map) : null;
    var sent = [];
    Object.keys(d.patrols).forEach(function (id) {
      var p = d.patrols[id];
      live.patrols[id] = p;
      if (lyr) upsertPatrol(lyr, id, p);
      sent.push(p.sent);
    });
    var fresh = {};
    var now = Date.now();
    d.incidents.concat(d.alerts).forEach(function (it) { firstSeen[it.id] = now; });
    var recent = Math.max(live.incidents.length, live.alerts.length, 30);
    if (d.incidents.length) {
      live.incidents = d.incidents.concat(live.incidents).slice(0, recent);
      d.incidents.forEach(function (i) { fresh[i.id] = true; });
    }
    if (d.alerts.length) {
      live.alerts = d.alerts.concat(live.alerts).slice(0, recent);
      d.alerts.forEach(function (a) { fresh[a.id] = true; });
    }
    Object.keys(d.counts).forEach(function (k) { live.counts[k] = (live.counts[k] || 0) + d.counts[k]; });
    Object.keys(d.cases || {}).forEach(function (id) {  // null: the case left the live view (closed, rejected, void)
      if (d.cases[id] === null) delete live.cases[id]; else live.cases[id] = d.cases[id];
    });
    live.seq = d.seq;
    live.dataAt = d.at;
    live.receivedAt = Date.now();
    live.deltas += 1;
    if (lyr && (d.incidents.length || d.alerts.length)) drawPoints(lyr, fresh);
    if (sent.length) recordLatency(sent);
    scheduleRender();
  }

  // publish → screen, on the wall clock both sides use: "latencies" at the start of the frame that paints
  // the moved markers (requestAnimationFrame), "painted" at the first task after that frame
  function recordLatency(sent) {
    requestAnimationFrame(function () {
      var framed = Date.now();
      setTimeout(function () {
        var painted = Date.now();
        if (live.latencies.length > MAX_LATENCIES) { live.latencies.length = 0; live.painted.length = 0; }
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
    fetch("/api/live/snapshot", { cache: "no-store" })
      .then(function (r) { if (!r.ok) throw new Error("snapshot " + r.status); return r.json(); })
      .then(function (snap) {
        live.loading = false;
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

  /* ---- figures, ticker, clock, connection, data age ---- */
  var renderTimer = null;
  function scheduleRender() {
    if (renderTimer) return;
    renderTimer = setTimeout(function () { renderTimer = null; pushView(); }, RENDER_EVERY_MS);
  }

  var lastView = "";
  function pushView() {  // only when what the screen shows has changed
    var now = Date.now();
    var onDuty = 0;
    Object.keys(live.patrols).forEach(function (id) { if (now - live.patrols[id].fix < ON_DUTY_MS) onDuty += 1; });
    var items = live.incidents.map(function (i) { return Object.assign({ type: "incident" }, i); })
      .concat(live.alerts.map(function (a) { return Object.assign({ type: "alert" }, a); }))
      .sort(function (a, b) { return b.at - a.at; }).slice(0, 30);
    var seen = {};
    items.forEach(function (it) {
      seen[it.id] = firstSeen[it.id] || 0;
      it.isNew = now - seen[it.id] < NEW_FOR_MS;
    });
    firstSeen = seen;
    var c = live.counts;
    var view = { onDuty: onDuty, openCases: Object.keys(live.cases).length,
                 counts: { incidents: c.incidents, alerts: c.alerts, rejected: c.rejected }, items: items };
    var key = JSON.stringify(view);
    if (key === lastView) return;
    lastView = key;
    setProps("wall-live", { data: view });
  }

  var zoned = null;
  function inZone(ms) {  // the parts of a time in the command centre's zone, whatever the screen's own zone
    if (!zoned) {
      var c = config() || {};
      zoned = new Intl.DateTimeFormat("en-US", {
        timeZone: c.timezone || "Asia/Shanghai", hourCycle: "h23", year: "numeric", month: "2-digit",
        day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", weekday: "short",
      });
    }
    var out = {};
    zoned.formatToParts(new Date(ms)).forEach(function (p) { out[p.type] = p.value; });
    return out;
  }
  var WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  function tick() {
    var c = config();
    if (!c) return;
    var now = new Date(), z = inZone(now.getTime());
    var wd = WEEKDAYS.indexOf(z.weekday), days = text("weekdays");
    var day = c.lang === "zh" ? "星期" + days.charAt(wd) : days.substr(wd * 3, 3);
    setProps("wall-date", { children: z.year + "-" + z.month + "-" + z.day + " " + day });
    setProps("wall-clock", { children: z.hour + ":" + z.minute + ":" + z.second });
    setProps("wall-connection", {
      children: live.connected ? text("connected") : text("disconnected"),
      className: "connection " + (live.connected ? "connected" : "disconnected"),
    });
    var last = Math.max(live.receivedAt, live.dataAt);
    if (!last) { setProps("wall-data-age", { children: text("no_data"), className: "data-age stale" }); return; }
    var age = Math.max(0, Math.round((now.getTime() - last) / 1000));
    if (age * 1000 >= (c.staleAfterMs || 30000)) {
      var span = age >= 120 ? text("minutes").replace("{n}", Math.floor(age / 60)) : text("seconds").replace("{n}", age);
      setProps("wall-data-age", { children: text("stale").replace("{n}", span), className: "data-age stale" });
    } else {
      setProps("wall-data-age", { children: text("updated_ago").replace("{n}", age), className: "data-age" });
    }
  }

  /* Base-map line weights are given in CSS pixels for a 1080-line screen; scale them with the screen
     (rem) so a 4K wall shows the same lines, not hairlines. */
  function scaleLine(layer) {
    var k = rem() / 18;
    var o = layer.options;
    if (Math.abs(k - 1) < 0.05 || layer.ccScaled || !layer.setStyle || !o || o.ccLive || !o.weight) return;
    layer.setStyle({ weight: o.weight * k });
    layer.ccScaled = true;
  }

  /* ---- start once the page, the map and the socket client are there ---- */
  function start() {
    if (!window.io || !cc.maps[MAP_ID] || !config()) { setTimeout(start, 50); return; }
    layers(cc.maps[MAP_ID]);
    cc.maps[MAP_ID].eachLayer(scaleLine);
    cc.maps[MAP_ID].on("layeradd", function (e) { scaleLine(e.layer); });
    var socket = (cc.socket = io("/live", { transports: ["websocket"], reconnectionDelayMax: 5000 }));
    socket.on("connect", function () { live.connected = true; loadSnapshot(); tick(); });
    socket.on("disconnect", function () { live.connected = false; tick(); });
    socket.on("delta", onDelta);
    setInterval(function () { tick(); pushView(); }, 1000);
    tick();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();

  /* ---- clientside renderer of the merged view (registered in dashboard/callbacks/live.py) ---- */
  function el(type, props, children) {
    return { type: type, namespace: "dash_html_components", props: Object.assign({ children: children }, props || {}) };
  }
  function clock(ms) { var z = inZone(ms); return z.hour + ":" + z.minute + ":" + z.second; }
  function grouped(n) { return (n || 0).toLocaleString("en-US"); }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    cc: {
      renderLive: function (view) {
        var c = config() || { categories: {}, alertClasses: {}, channels: {} };
        var rows = (view.items || []).map(function (it) {
          var incident = it.type === "incident";
          var what = incident ? (c.categories[it.category] || it.category) : (c.alertClasses[it["class"]] || it["class"]);
          var where = incident ? (c.channels[it.channel] || it.channel) + (it.grid ? " · " + it.grid : "")
                               : text("camera") + " " + it.camera + " · " + text("confidence") + " " + Math.round(it.confidence * 100) + "%";
          var badges = [el("Span", { className: "tag tag-" + it.type }, what)];
          if (it.urgent) badges.push(el("Span", { className: "tag tag-urgent" }, text("urgent")));
          return el("Li", { key: it.id, className: "ticker-item ticker-" + it.type + (it.urgent ? " urgent" : "") + (it.isNew ? " ticker-new" : "") }, [
            el("Div", { className: "ticker-head" }, [el("Span", { className: "ticker-time" }, clock(it.at))].concat(badges)),
            incident ? el("Div", { className: "ticker-text" }, it.text) : null,
            el("Div", { className: "ticker-where" }, where),
          ]);
        });
        if (!rows.length) rows = [el("Li", { className: "ticker-empty" }, text("ticker_empty"))];
        var n = view.counts || {};
        return [rows, grouped(view.onDuty), grouped(view.openCases), grouped(n.incidents), grouped(n.alerts),
                grouped(n.rejected)];
      },
    },
  });
})();
