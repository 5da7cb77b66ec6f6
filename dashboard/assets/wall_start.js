/* The wall's start-up (loaded last of the wall's scripts): the socket, the snapshot and the territory as early
 * as they can go, the rest once the page and the map are there; then a tick every second.
 */
(function () {
  "use strict";
  var cc = window.cc, W = cc.wall;
  var MAP_ID = W.MAP_ID, applyDelta = W.applyDelta, clockNow = W.clockNow, config = W.config, drawLive = W.drawLive;
  var drillId = W.drillId, dropStalePatrols = W.dropStalePatrols, layers = W.layers, live = W.live;
  var loadSnapshot = W.loadSnapshot, loadTerritory = W.loadTerritory, onDelta = W.onDelta;
  var onHeartbeat = W.onHeartbeat, pushView = W.pushView, renderCard = W.renderCard, replaying = W.replaying;
  var resetTo = W.resetTo, scheduleRender = W.scheduleRender, territory = W.territory, tick = W.tick;
  var turnLights = W.turnLights;

  function everySecond() {
    var now = clockNow();
    tick();
    dropStalePatrols(now);
    turnLights(now);  // lights turn with time, not only with deltas
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


  Object.assign(W, {
    fetchTerritory: fetchTerritory,
  });
})();
