/* The drill banner's clock, on any screen opened in a drill (wall /?drill=<id>, dispatcher /dispatch?drill=<id>):
 * the drill's status is polled from /api/drills/<id>/status every 3 s and its clock carried on every second
 * at the drill's speed: the scenario's time of day, the time since the start, and the speed or the state.
 * Does nothing on a page without the banner.
 */
(function () {
  "use strict";
  var cc = (window.cc = window.cc || {});
  var status = null, statusAt = 0;
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function hms(ms) {
    var s = Math.floor(ms / 1000);
    return pad(Math.floor(s / 3600) % 24) + ":" + pad(Math.floor(s / 60) % 60) + ":" + pad(s % 60);
  }
  function clockText(banner) {
    var s = status;
    if (!s) return "--:--:--";
    var elapsed = s.elapsed_ms + (s.state === "running" ? (Date.now() - statusAt) * s.speed : 0);
    elapsed = Math.max(0, Math.min(elapsed, s.duration_min * 60000));
    var hm = (s.starts_at || "00:00").split(":");
    var tail = s.state === "running" ? s.speed + "×" : banner.getAttribute("data-" + s.state) || s.state;
    return hms((+hm[0] * 3600 + +hm[1] * 60) * 1000 + elapsed) + "  T+" + hms(elapsed) + "  " + tail;
  }
  var tries = 0;
  function start() {
    var banner = document.getElementById("drill-banner");
    var screen = banner && banner.closest("[data-drill]");
    if (!screen) {
      if (++tries < 150) setTimeout(start, 200);  // the page is drawn after the scripts load
      return;
    }
    var id = screen.getAttribute("data-drill");
    function show() {
      var el = document.getElementById("drill-banner-clock");
      var text = clockText(banner);
      if (el && el.textContent !== text) el.textContent = text;
    }
    function poll() {
      fetch("/api/drills/" + encodeURIComponent(id) + "/status", { cache: "no-store" })
        .then(function (r) { if (!r.ok) throw new Error("drill " + r.status); return r.json(); })
        .then(function (s) { status = s; statusAt = Date.now(); show(); })
        .catch(function () {});
    }
    poll();
    setInterval(poll, 3000);
    setInterval(show, 1000);
    cc.drillBanner = { status: function () { return status; } };
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
