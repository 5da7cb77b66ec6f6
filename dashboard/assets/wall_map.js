/* The wall's map (assets/wall.js holds the shared state and helpers, in cc.wall): glyph layers moved in place,
 * grids coloured by their cases, the territory drawn once, case and patrol markers, clicks on a grid or a unit.
 */
(function () {
  "use strict";
  var cc = window.cc, W = cc.wall;
  var CASES_EVERY_MS = W.CASES_EVERY_MS, FLASH_MS = W.FLASH_MS, LIGHTS = W.LIGHTS, MAP_ID = W.MAP_ID;
  var clockNow = W.clockNow, config = W.config, el = W.el, isLive = W.isLive, light = W.light, live = W.live;
  var onDutyMs = W.onDutyMs, rem = W.rem, replaying = W.replaying, setProps = W.setProps, territory = W.territory;
  var text = W.text, casesChanged = W.casesChanged;

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
      initialize: function (style) {
        L.setOptions(this, { pane: style.pane });  // its own pane: drawn in its order, hidden with its layer
        this.style = style; this.points = {}; this.pending = false; this.sprites = {}; this.ranks = {};
      },
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
  // roads and outlines over the cases (a dense district stays readable as streets and communities), a camera
  // that cannot alert over them, patrols on top
  var PANES = { "cc-grids": 380, "cc-cameras": 440, "cc-cases": 450, "cc-roads": 451, "cc-outlines": 452,
                "cc-camera-faults": 453, "cc-trail": 455, "cc-patrols": 460, "cc-events": 470 };
  var TOGGLED = { grids: ["cc-grids"], cases: ["cc-cases"], patrols: ["cc-patrols", "cc-trail"],
                  cameras: ["cc-cameras", "cc-camera-faults", "cc-events"], roads: ["cc-roads"] };
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
        look: function () { return CAMERA_LOOKS.online; },
      }).addTo(map),
      // a camera whose health is not online, larger and above the cases (never in SLA colours): it cannot alert
      cameraFaults: new Glyphs({
        pane: "cc-camera-faults", line: 2, radius: function () { return Math.max(4, rem() * 0.42); },
        look: function (key) { return CAMERA_LOOKS[key] || CAMERA_LOOKS.offline; },
        order: function (key) { return { disabled: 1, degraded: 2, offline: 3 }[key] || 0; },
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
    live.cameraFaults = live.layers.cameraFaults;
    live.gridStyle = {};
    if (live.shown) showLayers(live.shown);
    map.on("click", onMapClick);
    return live.layers;
  }

  var CAMERA_LOOKS = {
    online: { shape: "square", fill: "#a78bfa", edge: "#061226" },
    degraded: { shape: "square", fill: "#a78bfa", edge: "#e2e8f0" },  // alerts still come; recording is down
    offline: { shape: "square", fill: "#cbd5e1", edge: "#0f172a" },  // no picture: no alert can come
    disabled: { shape: "square", fill: "#64748b", edge: "#0f172a" },
  };
  function cameraKey(id) { var h = live.cameras && live.cameras[id]; return h ? h.state : "online"; }
  function drawCameraHealth(ids) {  // the cameras whose health changed, or all of them
    var lyr = live.layers;
    if (!lyr) return;
    (ids || territory.cameras.map(function (c) { return c.id; })).forEach(function (id) {
      var cam = territory.cameraById[id], key = cameraKey(id);
      if (!cam) return;
      if (key === "online") { lyr.cameraFaults.remove(id); lyr.cameras.set(id, cam.lat, cam.lon, key); }
      else { lyr.cameras.remove(id); lyr.cameraFaults.set(id, cam.lat, cam.lon, key); }
    });
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
    drawCameraHealth();
    live.territoryAt = performance.now();
    if (live.interactiveAt === null) W.pushView(); else W.scheduleRender();  // the first whole view at once
  }
  function loadTerritory(map, fetched) {
    (fetched || W.fetchTerritory())
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
    W.casesChanged();
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
    W.renderCard();
    fetch("/api/wall/grid/" + encodeURIComponent(code) + "?lang=" + c.lang, { cache: "no-store" })
      .then(function (r) { if (!r.ok) throw new Error("grid " + r.status); return r.json(); })
      .then(function (facts) { if (live.selectedGrid === code) { live.card = facts; W.renderCard(); } })
      .catch(function () { if (live.selectedGrid === code) { live.card = { code: code, failed: true }; W.renderCard(); } });
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

  function turnLights(now) { if (now >= nextTurn) drawCases(now); }  // lights turn with time too

  Object.assign(W, {
    drawCameraHealth: drawCameraHealth,
    drawCases: drawCases,
    dropStalePatrols: dropStalePatrols,
    flashCameras: flashCameras,
    layers: layers,
    loadTerritory: loadTerritory,
    onDuty: onDuty,
    scheduleCases: scheduleCases,
    showLayers: showLayers,
    turnLights: turnLights,
  });
})();
