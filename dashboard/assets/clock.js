/* Time as every screen shows it, one copy for the wall, the dispatcher console and the replay: a moment in
 * the command centre's zone (the page's config names it), whatever the screen's own zone; a duration; and a
 * case's light from the clock the ingest put on it (feeds/bus/screens.py CaseView): green before `amber`,
 * amber until `deadline`, red after, "none" when no step's clock runs. dashboard/views/queue.py is the same
 * rule in Python.
 */
(function () {
  "use strict";
  var cc = (window.cc = window.cc || {});
  var formats = {};  // zone -> Intl.DateTimeFormat (making one costs more than using it)

  function parts(ms, zone) {  // {year, month, day, hour, minute, second, weekday} as two-digit text
    var f = formats[zone];
    if (!f) {
      f = formats[zone] = new Intl.DateTimeFormat("en-US", {
        timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit",
        minute: "2-digit", second: "2-digit", weekday: "short",
      });
    }
    var out = {};
    f.formatToParts(new Date(ms)).forEach(function (p) { out[p.type] = p.value; });
    return out;
  }
  function timeOfDay(ms, zone) { var z = parts(ms, zone); return z.hour + ":" + z.minute + ":" + z.second; }
  function stamp(ms, zone) {  // 2026-12-05 14:03:09
    var z = parts(ms, zone);
    return z.year + "-" + z.month + "-" + z.day + " " + z.hour + ":" + z.minute + ":" + z.second;
  }
  function duration(ms) {  // h:mm:ss of a span, its sign dropped
    var s = Math.floor(Math.abs(ms) / 1000), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    s = s % 60;
    return h + ":" + (m < 10 ? "0" : "") + m + ":" + (s < 10 ? "0" : "") + s;
  }
  function light(c, now) {
    if (c.deadline === null || c.deadline === undefined) return "none";
    if (now < c.amber) return "green";
    return now < c.deadline ? "amber" : "red";
  }

  // the colours of the lights (dashboard/layouts/dispatch.py LIGHT_COLOURS for the server-drawn marker)
  var COLOURS = { green: "#22c55e", amber: "#f59e0b", red: "#ef4444", none: "#8fa6c8" };

  cc.time = { parts: parts, timeOfDay: timeOfDay, stamp: stamp, duration: duration, light: light, COLOURS: COLOURS };
})();
