/* Wall screen live layer.
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
    seq: null, loading: false, buffer: [], patrols: {}, incidents: [], alerts: [], cases: {},
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

  /* ---- marker shapes, drawn on canvas (the legend draws the same ones in CSS) ---- */
  function shapePath(ctx, shape, x, y, r) {
    var pts = null, i, a;
    ctx.beginPath();
    if (shape === "square") { ctx.rect(x - r * 0.85, y - r * 0.85, r * 1.7, r * 1.7); return; }
    if (shape === "triangle") pts = [[0, -1.1], [0.95, 0.65], [-0.95, 0.65]];
    else if (shape === "down") pts = [[0, 1.1], [0.95, -0.65], [-0.95, -0.65]];
    else if (shape === "diamond") pts = [[0, -1.15], [1.15, 0], [0, 1.15], [-1.15, 0]];
    else if (shape === "pentagon" || shape === "hexagon") {
      var n = shape === "pentagon" ? 5 : 6;
      pts = [];
      for (i = 0; i < n; i++) { a = -Math.PI / 2 + (2 * Math.PI * i) / n; pts.push([Math.cos(a), Math.sin(a)]); }
    } else if (shape === "star") {
      pts = [];
      for (i = 0; i < 10; i++) {
        a = -Math.PI / 2 + (Math.PI * i) / 5;
        var k = i % 2 ? 0.5 : 1.2;
        pts.push([Math.cos(a) * k, Math.sin(a) * k]);
      }
    }
    if (!pts) { ctx.arc(x, y, r, 0, 2 * Math.PI); return; }
    pts.forEach(function (p, j) { if (j) ctx.lineTo(x + p[0] * r, y + p[1] * r); else ctx.moveTo(x + p[0] * r, y + p[1] * r); });
    ctx.closePath();
  }

  /* ---- a canvas layer of glyphs moved in place: one sprite per kind of glyph, blitted per point ---- */
  function makeGlyphs() {
    var scratch = null;  // one image the size of the map, shared by the layers (each draws and puts it in turn)
    return L.Layer.extend({
      initialize: function (style) { this.style = style; this.points = {}; this.pending = false; this.sprites = {}; this.ranks = {}; },
      rankOf: function (key) {  // drawing order of a kind of glyph (higher on top), worked out once per kind
        if (!this.style.order) return 0;
        if (!(key in this.ranks)) this.ranks[key] = this.style.order(key) || 0;
        return this.ranks[key];
      },
      onAdd: function (map) {
        this.canvas = L.DomUtil.create("canvas", "cc-glyphs leaflet-zoom-hide");
        this.getPane().appendChild(this.canvas);
        map.on("moveend zoomend resize viewreset", this.reset, this);
        this.reset();
      },
      onRemove: function (map) {
        map.off("moveend zoomend resize viewreset", this.reset, this);
        L.DomUtil.remove(this.canvas);
      },
      set: function (id, lat, lon, key) {
        var p = this.points[id];
        if (p && p.ll.lat === lat && p.ll.lng === lon && p.key === key) return;
        key = key || "";
        this.points[id] = { ll: L.latLng(lat, lon), key: key, rank: this.rankOf(key) };
        this.redraw();
      },
      remove: function (id) { if (this.has(id)) { delete this.points[id]; this.redraw(); } },
      has: function (id) { return Object.prototype.hasOwnProperty.call(this.points, id); },
      get: function (id) { return this.points[id] ? this.points[id].ll : null; },
      keyOf: function (id) { return this.points[id] ? this.points[id].key : null; },
      size: function () { return Object.keys(this.points).length; },
      nearest: function (containerPoint, within) {  // the id of the glyph nearest a click, if close enough
        var best = null, bestD = within * within, map = this._map;
        for (var id in this.points) {
          var p = map.latLngToContainerPoint(this.points[id].ll), dx = p.x - containerPoint.x, dy = p.y - containerPoint.y;
          var d = dx * dx + dy * dy;
          if (d <= bestD) { bestD = d; best = id; }
        }
        return best;
      },
      reset: function () {  // the view moved: place the canvas now, draw it once before the next frame
        if (!this._map) return;
        var size = this._map.getSize(), dpr = window.devicePixelRatio || 1;
        this.origin = this._map.containerPointToLayerPoint([0, 0]);
        L.DomUtil.setPosition(this.canvas, this.origin);
        if (this.canvas.width !== size.x * dpr || this.canvas.height !== size.y * dpr) {
          this.canvas.width = size.x * dpr; this.canvas.height = size.y * dpr;
          this.canvas.style.width = size.x + "px"; this.canvas.style.height = size.y + "px";
        }
        this.redraw();
      },
      redraw: function () {
        if (this.pending || !this._map) return;
        this.pending = true;
        var self = this;
        requestAnimationFrame(function () { self.pending = false; self.draw(); });
      },
      sprite: function (key, dpr, r) {  // drawn once per kind and size, its pixels copied for every point
        var id = key + "@" + r + "@" + dpr, s = this.sprites[id];
        if (s) return s;
        var line = this.style.line, half = Math.ceil((r * 1.25 + line) * dpr) + 1, c = document.createElement("canvas");
        c.width = c.height = 2 * half;
        var ctx = c.getContext("2d");
        var look = this.style.look(key);
        shapePath(ctx, look.shape, half, half, r * dpr);
        ctx.fillStyle = look.fill; ctx.fill();
        ctx.lineWidth = line * dpr; ctx.strokeStyle = look.edge; ctx.stroke();
        var bytes = ctx.getImageData(0, 0, c.width, c.height).data, words = new Uint32Array(bytes.buffer), at = [];
        for (var k = 0; k < words.length; k++) if (bytes[4 * k + 3]) at.push(k);  // the glyph's own pixels only
        s = this.sprites[id] = { half: half, size: c.width, at: at, words: words, bytes: bytes };
        return s;
      },
      // Every frame draws every glyph: 10,000 patrol units move, ~200 in each frame. Copying the sprites'
      // pixels into one image and putting it once costs a few ms where 10,000 drawImage calls cost ~30 ms
      // on a GPU-less wall PC (measured in headless Chromium), and the main thread is what the pushes wait for.
      draw: function () {
        var map = this._map;
        if (!map) return;
        var w = this.canvas.width, h = this.canvas.height;
        if (!w || !h) return;
        var ctx = this.canvas.getContext("2d"), dpr = window.devicePixelRatio || 1, origin = this.origin;
        var r = this.style.radius(), sprites = {}, zoom = map.getZoom(), po = map.getPixelOrigin();
        var dx = -po.x - origin.x, dy = -po.y - origin.y;
        if (!scratch || scratch.image.width !== w || scratch.image.height !== h) {
          var image = ctx.createImageData(w, h);
          scratch = { image: image, words: new Uint32Array(image.data.buffer) };
        }
        var img = scratch.image.data, out = scratch.words;
        out.fill(0);
        var tiers = [], id, p, i, j, k;
        for (id in this.points) {  // points of a higher rank drawn over those of a lower one
          p = this.points[id];
          (tiers[p.rank] || (tiers[p.rank] = [])).push(p);
        }
        for (i = 0; i < tiers.length; i++) {
          var tier = tiers[i] || [];
          for (j = 0; j < tier.length; j++) {
            p = tier[j];
            if (p.zoom !== zoom) { p.px = map.project(p.ll, zoom); p.zoom = zoom; }  // once per position and zoom
            var s = sprites[p.key] || (sprites[p.key] = this.sprite(p.key, dpr, r));
            var x0 = Math.round((p.px.x + dx) * dpr) - s.half, y0 = Math.round((p.px.y + dy) * dpr) - s.half;
            if (x0 >= w || y0 >= h || x0 + s.size <= 0 || y0 + s.size <= 0) continue;
            for (k = 0; k < s.at.length; k++) {
              var q = s.at[k], x = x0 + (q % s.size), y = y0 + ((q / s.size) | 0);
              if (x < 0 || y < 0 || x >= w || y >= h) continue;
              var o = y * w + x, a = s.bytes[4 * q + 3];
              if (a === 255 || !out[o]) { out[o] = s.words[q]; continue; }
              var b = 4 * o, f = a / 255, g = 1 - f;  // an antialiased edge over another glyph: blended
              img[b] = s.bytes[4 * q] * f + img[b] * g;
              img[b + 1] = s.bytes[4 * q + 1] * f + img[b + 1] * g;
              img[b + 2] = s.bytes[4 * q + 2] * f + img[b + 2] * g;
              img[b + 3] = Math.min(255, a + img[b + 3] * g);
            }
          }
        }
        ctx.putImageData(scratch.image, 0, 0);
      },
    });
  }

  /* ---- grids: one canvas polygon per grid, coloured by its open and overdue cases ---- */
  var GRID_BASE = { color: "#2b5c9e", weight: 1, fillColor: "#0e2a52", fillOpacity: 0.35 };
  function gridStyle(open, overdue, selected) {
    var k = rem() / 18, s;
    if (overdue) s = { color: "#2b5c9e", weight: k, fillColor: "#ef4444", fillOpacity: Math.min(0.3 + 0.1 * overdue, 0.7) };
    else if (open) s = { color: "#2b5c9e", weight: k, fillColor: "#2f80d0", fillOpacity: Math.min(0.3 + 0.08 * open, 0.65) };
    else s = Object.assign({}, GRID_BASE, { weight: k });
    if (selected) { s.color = "#e6eefc"; s.weight = 3 * k; }
    return s;
  }
  var NO_CASES = { open: 0, overdue: 0 };
  function gridKey(code, g) { return g.open + "/" + g.overdue + "/" + (code === live.selectedGrid); }
  function gridLayer(perGrid) {  // coloured at once by the counts of the cases already loaded (not yet on the map)
    var renderer = L.canvas({ pane: "cc-grids", padding: 0.1 }), byCode = {};
    var group = L.geoJSON({ type: "FeatureCollection", features: territory.grids.map(function (g) {
      return { type: "Feature", geometry: g.geometry, properties: { code: g.code } };
    }) }, {
      renderer: renderer, interactive: false,
      style: function (f) {
        var code = f.properties.code, g = perGrid[code] || NO_CASES;
        live.gridStyle[code] = gridKey(code, g);
        return gridStyle(g.open, g.overdue, code === live.selectedGrid);
      },
      onEachFeature: function (f, layer) { byCode[f.properties.code] = layer; layer.ccCounts = perGrid[f.properties.code] || NO_CASES; },
    });
    group.byCode = byCode;
    return group;
  }
  function inRing(lat, lon, ring) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if ((yi > lat) !== (yj > lat) && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }
  function gridAt(latlng) {
    var polys;
    for (var i = 0; i < territory.grids.length; i++) {
      var g = territory.grids[i];
      polys = g.geometry.type === "Polygon" ? [g.geometry.coordinates] : g.geometry.coordinates;
      for (var j = 0; j < polys.length; j++) {
        if (inRing(latlng.lat, latlng.lng, polys[j][0])) return g.code;
      }
    }
    return null;
  }

  /* ---- map layers ---- */
  var PANES = { "cc-grids": 380, "cc-roads": 400, "cc-outlines": 420, "cc-cameras": 440, "cc-cases": 450, "cc-trail": 455, "cc-patrols": 460, "cc-events": 470 };
  var TOGGLED = { grids: ["cc-grids"], cases: ["cc-cases"], patrols: ["cc-patrols", "cc-trail"],
                  cameras: ["cc-cameras", "cc-events"], roads: ["cc-roads"] };
  function layers(map) {
    if (live.layers && live.layers.map === map) return live.layers;
    Object.keys(PANES).forEach(function (name) {
      if (!map.getPane(name)) map.createPane(name).style.zIndex = String(PANES[name]);
    });
    var Glyphs = makeGlyphs();
    live.layers = {
      map: map,
      grids: { byCode: {} },  // drawn when the territory has come
      svg: L.svg({ pane: "cc-events", padding: 0.2 }),
      trailRenderer: L.canvas({ pane: "cc-trail", padding: 0.2 }),
      cameras: new Glyphs({
        pane: "cc-cameras", line: 1, radius: function () { return Math.max(2.5, rem() * 0.22); },
        look: function () { return { shape: "square", fill: "#a78bfa", edge: "#061226" }; },
      }).addTo(map),
      cases: new Glyphs({
        pane: "cc-cases", line: 1.5, radius: function () { return Math.max(4, rem() * 0.38); },
        look: function (key) { var p = key.split(":"); return { shape: p[1], fill: LIGHTS[p[0]], edge: "#061226" }; },
        order: function (key) { return { none: 0, green: 1, amber: 2, red: 3 }[key.split(":")[0]]; },  // red on top
      }).addTo(map),
      patrols: new Glyphs({
        pane: "cc-patrols", line: 1, radius: function () { return Math.max(3, rem() * 0.3); },
        look: function () { return { shape: "circle", fill: "#38bdf8", edge: "#061226" }; },
      }).addTo(map),
      events: L.layerGroup().addTo(map),
    };
    live.patrolDots = live.layers.patrols; live.caseMarks = live.layers.cases; live.cameraMarks = live.layers.cameras;
    live.gridStyle = {};
    if (live.shown) showLayers(live.shown);
    map.on("click", onMapClick);
    return live.layers;
  }

  /* ---- the territory: roads and outlines (no tile server), grids, cameras; drawn once ---- */
  var ROADS = { local: { color: "#1d3c66", weight: 2, opacity: 0.9 }, arterial: { color: "#35598a", weight: 5, opacity: 0.9 } };
  var OUTLINES = { community: { color: "#4f86c6", weight: 2, fill: false }, district: { color: "#7cc4ff", weight: 3, fill: false } };
  function lines(t, k) {  // roads and outlines, each layer on its pane's canvas (not yet on the map)
    var out = [];
    [["cc-roads", ROADS, t.roads], ["cc-outlines", OUTLINES, t.outlines]].forEach(function (spec) {
      var renderer = L.canvas({ pane: spec[0], padding: 0.1 });
      Object.keys(spec[1]).forEach(function (name) {
        if (!spec[2][name]) return;
        var style = Object.assign({}, spec[1][name], { weight: spec[1][name].weight * k });
        out.push(L.geoJSON(spec[2][name], { renderer: renderer, interactive: false, style: function () { return style; } }));
      });
    });
    return out;
  }
  function drawTerritory(map, t) {
    var lyr = layers(map), k = rem() / 18;  // line weights are for a 1080-line screen: scaled with it
    territory.grids = t.grids; territory.cameras = t.cameras;
    t.grids.forEach(function (g) { territory.gridByCode[g.code] = g; });
    t.cameras.forEach(function (c) { territory.cameraById[c.id] = c; });
    live.gridStyle = {};
    var perGrid = drawCases(clockNow()), drawn = lines(t, k);
    lyr.grids = gridLayer(perGrid);
    // fit the district to the map as it is now (the map was first fitted before the page had its final size),
    // before the territory is added: every shape is projected once, at the zoom it is shown at
    var extent = lyr.grids.getBounds();
    if (extent.isValid()) {
      map.invalidateSize(false);
      // clear of the layer toggles (top right) and the legend (bottom)
      map.fitBounds(extent, { paddingTopLeft: [rem(), rem()], paddingBottomRight: [rem() * 8, rem() * 6], animate: false });
    }
    drawn.concat([lyr.grids]).forEach(function (layer) { layer.addTo(map); });
    t.cameras.forEach(function (cam) { lyr.cameras.set(cam.id, cam.lat, cam.lon, "camera"); });
    live.territoryAt = performance.now();
    if (live.interactiveAt === null) pushView(); else scheduleRender();  // the first whole view at once
  }
  function loadTerritory(map, fetched) {
    (fetched || fetchTerritory())
      .then(function (t) { drawTerritory(map, t); })
      .catch(function () { setTimeout(function () { loadTerritory(map); }, 2000); });
  }

  function showLayers(names) {
    live.shown = names;
    var map = cc.maps[MAP_ID];
    if (!map) return;
    Object.keys(TOGGLED).forEach(function (name) {
      TOGGLED[name].forEach(function (pane) {
        var el = map.getPane(pane);
        if (el) el.style.display = names.indexOf(name) >= 0 ? "" : "none";
      });
    });
  }

  /* ---- patrols: only units on duty (a fix in the last few minutes) are counted and drawn ---- */
  function onDuty(p, now) { return now - p.fix < onDutyMs(); }
  function dropStalePatrols(now) {
    var lyr = live.layers;
    Object.keys(live.patrols).forEach(function (id) {
      if (!onDuty(live.patrols[id], now)) {
        delete live.patrols[id];
        if (lyr) lyr.patrols.remove(id);
      }
    });
  }

  /* ---- cases: markers by light and class, grids by open and overdue ---- */
  var casesTimer = null;
  function scheduleCases() {
    if (casesTimer) return;
    casesTimer = setTimeout(function () { casesTimer = null; drawCases(clockNow()); }, CASES_EVERY_MS);
  }
  var nextTurn = Infinity;  // the next moment a case's light turns (amber or deadline passing)
  function drawCases(now) {
    var lyr = live.layers, c = config();
    if (!lyr || !c) return {};
    var perGrid = {}, keep = {};
    queueOrder = null;
    nextTurn = Infinity;
    Object.keys(live.cases).forEach(function (id) {
      var k = live.cases[id];
      if (!isLive(k)) return;
      var lt = light(k, now), group = (k.category || "").split(".")[0];
      if (lt === "green" && k.amber < nextTurn) nextTurn = k.amber;
      else if (lt === "amber" && k.deadline < nextTurn) nextTurn = k.deadline;
      keep[id] = true;
      lyr.cases.set(id, k.lat, k.lon, lt + ":" + (c.shapeOf[group] || "circle"));
      if (k.grid) {
        var g = perGrid[k.grid] || (perGrid[k.grid] = { open: 0, overdue: 0 });
        g.open += 1;
        if (lt === "red") g.overdue += 1;
      }
    });
    Object.keys(lyr.cases.points).forEach(function (id) { if (!keep[id]) lyr.cases.remove(id); });
    Object.keys(lyr.grids.byCode).forEach(function (code) {
      var g = perGrid[code] || NO_CASES, key = gridKey(code, g);
      if (live.gridStyle[code] === key) return;
      live.gridStyle[code] = key;
      lyr.grids.byCode[code].setStyle(gridStyle(g.open, g.overdue, code === live.selectedGrid));
      lyr.grids.byCode[code].ccCounts = g;
    });
    return perGrid;
  }

  function flashCameras(alerts) {
    var lyr = live.layers;
    if (!lyr) return;
    alerts.forEach(function (a) {
      var cam = territory.cameraById[a.camera] || a;
      var m = L.circleMarker([cam.lat, cam.lon], {
        renderer: lyr.svg, pane: "cc-events", radius: rem() * 0.7, color: "#e9d5ff", weight: 3, fillColor: "#a78bfa",
        fillOpacity: 0.6, className: "camera-flash", interactive: false,
      }).addTo(lyr.events);
      setTimeout(function () { lyr.events.removeLayer(m); }, FLASH_MS);
    });
  }

  /* ---- clicks: a patrol dot → its trail; a grid → its card ---- */
  function onMapClick(e) {
    var lyr = live.layers;
    var shown = live.shown || ["patrols", "grids"];
    var unit = shown.indexOf("patrols") >= 0 ? lyr.patrols.nearest(e.containerPoint, rem() * 0.8) : null;
    if (unit) { selectUnit(unit); return; }
    var code = gridAt(e.latlng);
    if (code) selectGrid(code);
  }

  function selectGrid(code) {
    var c = config();
    live.selectedGrid = code;
    live.card = { code: code, loading: true };
    drawCases(clockNow());
    renderCard();
    fetch("/api/wall/grid/" + encodeURIComponent(code) + "?lang=" + c.lang, { cache: "no-store" })
      .then(function (r) { if (!r.ok) throw new Error("grid " + r.status); return r.json(); })
      .then(function (facts) { if (live.selectedGrid === code) { live.card = facts; renderCard(); } })
      .catch(function () { if (live.selectedGrid === code) { live.card = { code: code, failed: true }; renderCard(); } });
  }
  function closeCard() {
    live.selectedGrid = null; live.card = null;
    drawCases(clockNow());
    setProps("wall-grid-card", { className: "grid-card hidden", children: [] });
  }
  cc.selectGrid = selectGrid; cc.closeCard = closeCard;

  function selectUnit(unit) {
    var lyr = live.layers;
    if (live.trail) { live.trail.remove(); live.trail = null; }
    live.selectedUnit = unit;
    live.trailInfo = { unit: unit, person: null, points: 0 };
    live.trail = L.polyline([], { renderer: lyr.trailRenderer, pane: "cc-trail", color: "#fde047",
                                  weight: Math.max(2, rem() * 0.2), opacity: 0.9, interactive: false }).addTo(lyr.map);
    var p = live.patrols[unit];
    if (p) live.trail.addLatLng([p.lat, p.lon]);
    renderTrailInfo();
    if (replaying()) return;  // a replayed trail grows from the replayed fixes only (the stored one is today's)
    fetch("/api/wall/trail/" + encodeURIComponent(unit), { cache: "no-store" })
      .then(function (r) { if (!r.ok) throw new Error("trail " + r.status); return r.json(); })
      .then(function (t) {
        if (live.selectedUnit !== unit || !live.trail) return;
        var pts = t.points.map(function (q) { return [q[0], q[1]]; });
        var now = live.patrols[unit];  // a live fix newer than the stored ones stays at the end
        if (now && (!t.points.length || now.fix > t.points[t.points.length - 1][2])) pts.push([now.lat, now.lon]);
        live.trail.setLatLngs(pts);
        live.trailInfo = { unit: unit, person: t.person, points: pts.length };
        renderTrailInfo();
      })
      .catch(function () {});
  }
  function clearTrail() {
    if (live.trail) live.trail.remove();
    live.trail = null; live.selectedUnit = null; live.trailInfo = null;
    setProps("wall-trail-info", { className: "trail-info hidden", children: [] });
  }
  cc.selectUnit = selectUnit; cc.clearTrail = clearTrail;

  function renderTrailInfo() {
    var t = live.trailInfo;
    if (!t) return;
    var who = t.person ? t.person + " (" + t.unit + ")" : t.unit;
    setProps("wall-trail-info", { className: "trail-info", children: [
      el("Span", { className: "trail-swatch" }, null),
      el("Span", { className: "trail-title" }, text("trail_title").replace("{who}", who)),
      el("Span", { className: "trail-points" }, text("trail_points").replace("{n}", t.points)),
      el("Button", { className: "trail-close", title: text("close") }, "×"),
    ] });
  }

  document.addEventListener("click", function (e) {
    var t = e.target;
    if (!t || !t.closest) return;
    if (t.closest(".grid-card-close")) closeCard();
    else if (t.closest(".trail-close")) clearTrail();
  });

  /* ---- snapshot + ordered deltas ---- */
  function resetTo(snap) {
    var map = cc.maps[MAP_ID], now = clockNow();
    live.seq = snap.seq;
    live.patrols = {};
    Object.keys(snap.patrols).forEach(function (id) { if (onDuty(snap.patrols[id], now)) live.patrols[id] = snap.patrols[id]; });
    live.incidents = snap.incidents;
    live.alerts = snap.alerts;
    live.counts = snap.counts;
    live.cases = snap.cases || {};
    live.dataAt = snap.at;
    live.snapshots += 1;
    if (map) drawLive(map, now);
    if (live.snapshotAt === null) live.snapshotAt = performance.now();
    scheduleRender();
  }

  function drawLive(map, now) {  // the live patrols and cases on the map, as the snapshot left them
    var lyr = layers(map);
    Object.keys(lyr.patrols.points).forEach(function (id) { if (!live.patrols[id]) lyr.patrols.remove(id); });
    Object.keys(live.patrols).forEach(function (id) { lyr.patrols.set(id, live.patrols[id].lat, live.patrols[id].lon); });
    drawCases(now);
  }

  function applyDelta(d) {  // the state's part is assets/live.js (cc.state.fold); what follows is drawing
    var map = cc.maps[MAP_ID];
    var lyr = map ? layers(map) : null;
    var sent = [], now = clockNow(), real = Date.now();
    var recent = Math.max(live.incidents.length, live.alerts.length, 30);
    // a late fix of a unit gone off duty is no live position
    var step = cc.state.fold(live, d, recent, function (p) { return onDuty(p, now); });
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
    if (d.alerts.length) flashCameras(d.alerts);
    var changed = step.changed;
    live.dataAt = d.at;
    live.receivedAt = now;
    live.deltas += 1;
    if (changed.length) { queueOrder = null; scheduleCases(); }
    if (sent.length && !replaying()) recordLatency(sent);
    scheduleRender();
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

  /* ---- counts, queue, ticker, grid card, clock, connection, data age ---- */
  var renderTimer = null;
  function scheduleRender() {
    if (renderTimer) return;
    // until the wall is first shown whole, at once (a leader waits for it); then at most twice a second
    renderTimer = setTimeout(function () { renderTimer = null; pushView(); },
                             live.interactiveAt === null ? 50 : RENDER_EVERY_MS);
  }

  function fits(id, rowRem) {  // how many rows of rowRem height the list with this id holds
    var el = document.getElementById(id);
    var h = el ? el.clientHeight : 0;
    return Math.max(1, Math.floor(h / (rowRem * rem())));
  }
  function queueRow(k, now) {
    var c = config(), g = territory.gridByCode[k.grid];
    return { id: k.id, light: light(k, now), category: c.categories[k.category] || k.category, urgent: !!k.urgent,
             grid: g ? g.name : (k.grid || ""), step: c.steps[k.state] || k.state, countdown: countdown(k, now) };
  }

  var lastView = "";
  function pushView() {  // only when what the screen shows has changed
    if (live.seq === null || !config()) return;
    var now = clockNow(), real = Date.now();
    var items = live.incidents.map(function (i) { return Object.assign({ type: "incident" }, i); })
      .concat(live.alerts.map(function (a) { return Object.assign({ type: "alert" }, a); }))
      .sort(function (a, b) { return b.at - a.at; }).slice(0, fits("wall-ticker", 5.6));
    var seen = {};
    items.forEach(function (it) {
      seen[it.id] = firstSeen[it.id] || 0;
      it.isNew = real - seen[it.id] < NEW_FOR_MS;
    });
    firstSeen = seen;
    var queue = urgentFirst(), open = 0, overdue = 0;
    Object.keys(live.cases).forEach(function (id) { if (isLive(live.cases[id])) open += 1; });
    while (overdue < queue.length && queue[overdue].deadline <= now) overdue += 1;  // sorted by deadline
    var view = { onDuty: Object.keys(live.patrols).length, openCases: open, overdue: overdue, items: items,
                 queue: queue.slice(0, fits("wall-queue", 4.2)).map(function (k) { return queueRow(k, now); }) };
    var key = JSON.stringify(view);
    if (key === lastView) return;
    lastView = key;
    setProps("wall-live", { data: view });
  }

  function renderCard() {
    var card = live.card;
    if (!card) return;
    var now = clockNow();
    var inGrid = urgentFirst().filter(function (k) { return k.grid === card.code; });
    var unclocked = Object.keys(live.cases).filter(function (id) {
      var k = live.cases[id];
      return isLive(k) && k.grid === card.code && (k.deadline === null || k.deadline === undefined);
    }).length;
    var g = territory.gridByCode[card.code] || {};
    var head = el("Div", { className: "card-head" }, [
      el("Div", { className: "card-title" }, [el("Span", { className: "card-name" }, card.name || g.name || card.code),
                                              el("Span", { className: "card-community" }, card.community || g.community || "")]),
      el("Button", { className: "grid-card-close", title: text("close") }, "×"),
    ]);
    var body = [];
    if (card.loading || card.failed) body.push(el("Div", { className: "card-note" }, card.failed ? "—" : text("card_loading")));
    else {
      body.push(el("Div", { className: "card-figures" }, [
        el("Div", { className: "card-figure" }, [el("Div", { className: "card-value" }, card.coverage),
                                                 el("Div", { className: "card-label" }, text("card_coverage"))]),
        el("Div", { className: "card-figure" }, [el("Div", { className: "card-value card-open" }, String(inGrid.length + unclocked)),
                                                 el("Div", { className: "card-label" }, text("card_cases"))]),
      ]));
      body.push(el("H3", {}, text("card_people")));
      body.push(el("Ul", { className: "card-people" }, card.people.length ? card.people.map(function (p, i) {
        return el("Li", { key: "p" + i }, [el("Span", { className: "card-role" }, p.role), el("Span", { className: "card-person" }, p.name)]);
      }) : [el("Li", { className: "card-note" }, text("card_none"))]));
      body.push(el("H3", {}, text("card_assets")));
      body.push(el("Ul", { className: "card-assets" }, card.assets.map(function (a, i) {
        return el("Li", { key: "a" + i }, [el("Span", { className: "card-count" }, a.count), el("Span", {}, a.kind)]);
      })));
    }
    body.push(el("H3", {}, text("card_cases")));
    body.push(el("Ul", { className: "card-cases" }, inGrid.length ? inGrid.slice(0, 4).map(function (k) {
      var r = queueRow(k, now);
      return el("Li", { key: k.id, className: "light-" + r.light }, [
        el("Span", { className: "card-case-what" }, r.category + " · " + r.step),
        el("Span", { className: "card-case-clock" }, r.countdown),
      ]);
    }) : [el("Li", { className: "card-note" }, text("card_none"))]));
    setProps("wall-grid-card", { className: "grid-card", children: [head].concat(body) });
  }

  function inZone(ms) { return cc.time.parts(ms, config().timezone); }  // the centre's zone, not the screen's
  var FEED_SILENT_MS = 4000;
  function onHeartbeat(h) {  // the feed is alive; a seq ahead of ours (a restored state, a missed delta) reloads
    live.beatAt = Date.now();
    var mine = h && (h.drill || null) === (drillId() || null);  // a drill's screen hears the live beat too
    if (mine && live.seq !== null && !live.loading && h.seq > live.seq) loadSnapshot();
  }
  cc.onHeartbeat = onHeartbeat;
  var WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  function tick() {
    var c = config();
    if (!c) return;
    var now = new Date(clockNow()), z = inZone(now.getTime());
    var wd = WEEKDAYS.indexOf(z.weekday), days = text("weekdays");
    var day = c.lang === "zh" ? "星期" + days.charAt(wd) : days.substr(wd * 3, 3);
    setText("wall-date", z.year + "-" + z.month + "-" + z.day + " " + day);
    setText("wall-clock", z.hour + ":" + z.minute + ":" + z.second);
    if (replaying() && cc.replay) setText("wall-connection", cc.replay.label(), "connection replay");
    else {  // the socket to this server, and behind it the feed: the ingest beats every second
      var state = !live.connected ? "disconnected" : Date.now() - live.beatAt > FEED_SILENT_MS ? "feed_down" : "connected";
      setText("wall-connection", text(state), "connection " + (state === "connected" ? "connected" : "disconnected"));
    }
    var last = Math.max(live.receivedAt, live.dataAt);
    if (!last) { setText("wall-data-age", text("no_data"), "data-age stale"); return; }
    var age = Math.max(0, Math.round((now.getTime() - last) / 1000));
    if (age * 1000 >= (c.staleAfterMs || 30000)) {
      var span = age >= 120 ? text("minutes").replace("{n}", Math.floor(age / 60)) : text("seconds").replace("{n}", age);
      setText("wall-data-age", text("stale").replace("{n}", span), "data-age stale");
    } else {
      setText("wall-data-age", text("updated_ago").replace("{n}", age), "data-age");
    }
  }
  function everySecond() {
    var now = clockNow();
    tick();
    dropStalePatrols(now);
    if (now >= nextTurn) drawCases(now);  // lights turn with time, not only with deltas
    pushView();
    renderCard();
  }

  /* ---- start: the socket, the snapshot and the territory early; the rest once the page and the map are there ---- */
  function openSocket(drill) {
    var socket = (cc.socket = io("/live", { transports: ["websocket"], reconnectionDelayMax: 5000,
                                            auth: drill ? { drill: drill } : {} }));
    // the snapshot is fetched once the socket is in its room, at the first connect and at every reconnect:
    // every delta pushed after the snapshot was taken then reaches this page (none falls in between)
    socket.on("connect", function () {
      live.connected = true;
      live.beatAt = Date.now();  // silent from now on means the feed is down
      if (live.connectedAt === null) live.connectedAt = performance.now();
      loadSnapshot();
      tick();
    });
    socket.on("disconnect", function () { live.connected = false; tick(); });
    socket.on("delta", function (d) { live.beatAt = Date.now(); onDelta(d); });
    socket.on("heartbeat", onHeartbeat);
    return socket;
  }
  function fetchTerritory() {
    return fetch("/api/wall/territory", { cache: "no-store" })
      .then(function (r) { if (!r.ok) throw new Error("territory " + r.status); return r.json(); })
      .then(function (t) { if (live.territoryFetchedAt === null) live.territoryFetchedAt = performance.now(); return t; });
  }
  // The live wall (/, no drill) does not wait for Dash to draw the page: this script runs as soon as it has
  // loaded, so the socket opens and the territory and the snapshot download while Dash starts up.
  var early = null;
  if (location.pathname === "/" && !new URLSearchParams(location.search).get("drill") && window.io) {
    early = { socket: openSocket(null), territory: fetchTerritory() };
    early.territory.catch(function () {});  // fetched again by loadTerritory
  }

  var startTimer = null;
  function start() {  // tried when the page is parsed, when the wall's map is made, and every 50 ms till then
    clearTimeout(startTimer);
    if (live.startedAt !== null) return;
    if (!window.io || !cc.maps[MAP_ID] || !config() || (replaying() && !cc.replay)) { startTimer = setTimeout(start, 50); return; }
    live.startedAt = performance.now();
    var map = cc.maps[MAP_ID];
    layers(map);
    var mine = early && !replaying() && !drillId();
    if (early && !mine) { early.socket.close(); early = null; }  // the page is not the live wall after all
    loadTerritory(map, mine ? early.territory : null);
    if (replaying()) {  // a past period from /api/replay (assets/replay.js): no socket, no live snapshot
      cc.replay.begin({ resetTo: resetTo, applyDelta: applyDelta, tick: tick, render: pushView });
      setInterval(everySecond, 1000);
      tick();
      return;
    }
    if (mine) {
      if (live.seq !== null) { drawLive(map, clockNow()); scheduleRender(); }  // the snapshot came first
    } else {
      openSocket(drillId());
    }
    setInterval(everySecond, 1000);
    tick();
  }
  cc.mapMade = function (id) { if (id === MAP_ID) setTimeout(start, 0); };  // once the map has its first view
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();

  /* ---- clientside renderers (registered in dashboard/callbacks/live.py and map_layers.py) ---- */
  function el(type, props, children) {
    return { type: type, namespace: "dash_html_components", props: Object.assign({ children: children }, props || {}) };
  }
  function clock(ms) { return cc.time.timeOfDay(ms, config().timezone); }
  function grouped(n) { return (n || 0).toLocaleString("en-US"); }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    cc: {
      renderLive: function (view) {
        var c = config() || { categories: {}, alertClasses: {}, channels: {} };
        var rows = (view.items || []).map(function (it) {
          var incident = it.type === "incident";
          var what = incident ? (c.categories[it.category] || it.category) : (c.alertClasses[it["class"]] || it["class"]);
          var g = incident && it.grid ? territory.gridByCode[it.grid] : null;
          var where = incident ? (c.channels[it.channel] || it.channel) + (it.grid ? " · " + (g ? g.name : it.grid) : "")
                               : text("camera") + " " + it.camera + " · " + text("confidence") + " " + Math.round(it.confidence * 100) + "%";
          var badges = [el("Span", { className: "tag tag-" + it.type }, what)];
          if (it.urgent) badges.push(el("Span", { className: "tag tag-urgent" }, text("urgent")));
          return el("Li", { key: it.id, className: "ticker-item ticker-" + it.type + (it.urgent ? " urgent" : "") + (it.isNew ? " ticker-new" : "") }, [
            el("Div", { className: "ticker-head" }, [el("Span", { className: "ticker-time" }, clock(it.at))].concat(badges)),
            el("Div", { className: "ticker-text" }, incident ? it.text : where),
            incident ? el("Div", { className: "ticker-where" }, where) : el("Div", { className: "ticker-where" }, ""),
          ]);
        });
        if (!rows.length) rows = [el("Li", { className: "ticker-empty" }, text("ticker_empty"))];
        var queue = (view.queue || []).map(function (r) {
          var head = [el("Span", { className: "queue-what" }, r.category)];
          if (r.urgent) head.push(el("Span", { className: "tag tag-urgent" }, text("urgent")));
          return el("Li", { key: r.id, className: "queue-item light-" + r.light }, [
            el("Div", { className: "queue-head" }, [el("Div", { className: "queue-title" }, head),
                                                   el("Span", { className: "queue-clock" }, r.countdown)]),
            el("Div", { className: "queue-where" }, r.grid + " · " + r.step),
          ]);
        });
        if (!queue.length) queue = [el("Li", { className: "queue-empty" }, text("queue_empty"))];
        if (live.seq !== null && live.territoryAt !== null && live.interactiveAt === null) {
          requestAnimationFrame(function () { if (live.interactiveAt === null) live.interactiveAt = performance.now(); });
        }
        return [rows, queue, grouped(view.onDuty), grouped(view.openCases), grouped(view.overdue)];
      },
      showLayers: function (names) {
        showLayers(names || []);
        return "layer-toggles";
      },
    },
  });
})();
