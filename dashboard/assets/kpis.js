/* The wall's KPI panel, live.
 *
 * The producer (python -m feeds.kpis.board) pushes the whole board every kpi_interval_s seconds as Socket.IO
 * event "kpis" on /live. This script puts each board into the Dash store "wall-kpi-board"; the server
 * renders the panel from it (dashboard/callbacks/kpis.py). It listens on the wall script's socket
 * (window.cc.socket, made by wall.js once the wall is up); on a page with the panel but without the wall's
 * map (the /kpis page) it opens that socket itself. On every (re)connect it loads the latest board over
 * HTTP, since boards pushed while the socket was down are lost. An older board never replaces a newer one.
 * A board older than three intervals is marked as stale on the panel, never shown as if it were live.
 */
(function () {
  "use strict";
  var cc = (window.cc = window.cc || {});
  var PANEL_ID = "wall-kpis", STORE_ID = "wall-kpi-board", STALE_ID = "wall-kpi-stale";
  var kpi = (cc.kpi = { board: null, received: 0, attached: null });

  function setProps(id, props) {
    if (window.dash_clientside && window.dash_clientside.set_props) window.dash_clientside.set_props(id, props);
  }

  function shownMs() {  // when the board the page was loaded with was computed
    var panel = document.getElementById(PANEL_ID), ms = panel && parseInt(panel.getAttribute("data-computed-ms"), 10);
    return isNaN(ms) ? null : ms;
  }

  function accept(board) {
    if (!board || typeof board.computed_ms !== "number") return;
    var held = kpi.board ? kpi.board.computed_ms : shownMs();  // the board on screen (null: none yet)
    if (held !== null && board.computed_ms < held) return;
    var same = board.computed_ms === held;
    kpi.board = board;
    kpi.received += 1;
    if (!same) setProps(STORE_ID, { data: board });
    checkAge();
  }

  function load() {
    fetch("/api/kpis", { cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(accept)
      .catch(function () { /* the next push or reconnect brings it */ });
  }

  function checkAge() {
    var panel = document.getElementById(PANEL_ID);
    if (!panel || !kpi.board) return;
    var age = Math.max(0, Math.round((Date.now() - kpi.board.computed_ms) / 1000));
    var stale = age > 3 * (kpi.board.interval_s || 30);
    var note = "";
    if (stale) {
      var span = age >= 120 ? panel.getAttribute("data-minutes").replace("{n}", Math.floor(age / 60))
                            : panel.getAttribute("data-seconds").replace("{n}", age);
      note = panel.getAttribute("data-stale").replace("{n}", span);
    }
    if (panel.classList.contains("kpi-stale") !== stale) {
      setProps(PANEL_ID, { className: panel.className.replace(/\s*kpi-stale\b/g, "") + (stale ? " kpi-stale" : "") });
    }
    var shown = document.getElementById(STALE_ID);
    if (shown && shown.textContent !== note) setProps(STALE_ID, { children: note });
  }

  function attach(socket) {
    if (kpi.attached === socket) return;
    kpi.attached = socket;
    socket.on("kpis", accept);
    socket.on("connect", load);
    if (socket.connected) load();
  }

  function start() {
    if (document.getElementById(PANEL_ID)) {
      if (cc.socket) { attach(cc.socket); return; }
      if (window.io && !document.getElementById("wall-map")) {
        cc.socket = io("/live", { transports: ["websocket"], reconnectionDelayMax: 5000 });
        attach(cc.socket);
        return;
      }
    }
    setTimeout(start, 100);
  }
  setInterval(checkAge, 5000);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
