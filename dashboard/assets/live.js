/* The live state, without drawing: a snapshot with its sequence number, and the deltas after it.
 *
 * feeds/bus/screens.py declares both; feeds/ingest/state.py applies them the same way in Python, and
 * tests/fixtures/live_state.json is replayed by both (tests/browser/test_live_state.py).
 *   cc.state.apply(snap, delta, recent) → the next snapshot, a new object (the arguments are not changed);
 *   cc.state.fold(state, delta, recent, keepPatrol) applies the delta to `state` in place (the wall's way: no
 *     copy of 10,000 patrols per delta) and answers what moved and which cases and cameras changed, for the
 *     drawing;
 *     `keepPatrol(p)` may refuse a unit's fix (the wall keeps only units on duty).
 */
(function () {
  "use strict";
  var cc = (window.cc = window.cc || {});
  var COUNTERS = ["fixes", "incidents", "alerts", "rejected"];

  function empty() {
    return { seq: 0, at: 0, patrols: {}, incidents: [], alerts: [], cases: {}, cameras: {},
             counts: { fixes: 0, incidents: 0, alerts: 0, rejected: 0 } };
  }

  function fold(state, d, recent, keepPatrol) {  // the caller keeps the order (the wall reloads on a gap)
    var moved = [];
    Object.keys(d.patrols).forEach(function (id) {
      var p = d.patrols[id];
      if (keepPatrol && !keepPatrol(p)) return;
      state.patrols[id] = p;
      moved.push(id);
    });
    state.incidents = d.incidents.concat(state.incidents).slice(0, recent);
    state.alerts = d.alerts.concat(state.alerts).slice(0, recent);
    COUNTERS.forEach(function (k) { state.counts[k] = (state.counts[k] || 0) + (d.counts[k] || 0); });
    var changed = Object.keys(d.cases || {});
    changed.forEach(function (id) {  // null: the case left the live view (closed, rejected, void)
      if (d.cases[id] === null) delete state.cases[id]; else state.cases[id] = d.cases[id];
    });
    var cameras = Object.keys(d.cameras || {});
    if (!state.cameras) state.cameras = {};
    cameras.forEach(function (id) { state.cameras[id] = d.cameras[id]; });
    state.seq = d.seq;
    state.at = d.at;
    return { moved: moved, changed: changed, cameras: cameras };
  }

  function apply(snap, d, recent) {
    if (d.seq !== snap.seq + 1) throw new Error("delta " + d.seq + " does not follow snapshot " + snap.seq);
    var next = { seq: snap.seq, at: snap.at, patrols: Object.assign({}, snap.patrols), incidents: snap.incidents,
                 alerts: snap.alerts, counts: Object.assign({}, snap.counts), cases: Object.assign({}, snap.cases),
                 cameras: Object.assign({}, snap.cameras) };
    fold(next, d, recent);
    return next;
  }

  cc.state = { COUNTERS: COUNTERS, empty: empty, fold: fold, apply: apply };
})();
