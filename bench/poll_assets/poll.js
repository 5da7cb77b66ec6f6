/* Polling baseline: move markers in place and record publish → paint for each fix seen for the first time. */
(function () {
  var maps = {};
  if (window.L) L.Map.addInitHook(function () { maps[this.getContainer().id] = this; });
  var markers = {}, seenSent = {};
  var cc = (window.cc = window.cc || {});
  cc.live = { latencies: [], painted: [] };
  window.ccPoll = {
    paint: function (patrols) {
      var map = maps["poll-map"];
      if (!map || !patrols) return "";
      var sent = [];
      Object.keys(patrols).forEach(function (id) {
        var p = patrols[id];
        if (markers[id]) markers[id].setLatLng([p.lat, p.lon]);
        else markers[id] = L.circleMarker([p.lat, p.lon], { radius: 4 }).addTo(map);
        if (seenSent[id] !== p.sent) { seenSent[id] = p.sent; sent.push(p.sent); }
      });
      requestAnimationFrame(function () {  // the same two points as the wall's own measurement
        var framed = Date.now();
        setTimeout(function () {
          var painted = Date.now();
          sent.forEach(function (s) { cc.live.latencies.push(framed - s); cc.live.painted.push(painted - s); });
        }, 0);
      });
      return String(sent.length);
    },
  };
})();
