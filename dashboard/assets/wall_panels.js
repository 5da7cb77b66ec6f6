/* The wall's panels around the map (assets/wall.js holds the shared state and helpers, in cc.wall): the counts,
 * the urgent queue, the ticker, the grid card, the title bar's clock, connection and data age, and the
 * clientside renderers registered in dashboard/callbacks/live.py and map_layers.py.
 */
(function () {
  "use strict";
  var cc = window.cc, W = cc.wall;
  var NEW_FOR_MS = W.NEW_FOR_MS, RENDER_EVERY_MS = W.RENDER_EVERY_MS, clockNow = W.clockNow, config = W.config;
  var countdown = W.countdown, drillId = W.drillId, el = W.el, firstSeen = W.firstSeen, isLive = W.isLive;
  var light = W.light, live = W.live, loadSnapshot = W.loadSnapshot, rem = W.rem, replaying = W.replaying;
  var setProps = W.setProps, setText = W.setText, showLayers = W.showLayers, territory = W.territory, text = W.text;
  var urgentFirst = W.urgentFirst;

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
    var camerasOff = territory.cameras.filter(function (cam) {
      var h = live.cameras[cam.id];
      return h && h.state === "offline";
    }).length;
    var view = { onDuty: Object.keys(live.patrols).length, openCases: open, overdue: overdue, items: items,
                 camerasOff: camerasOff,
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

  /* ---- clientside renderers (registered in dashboard/callbacks/live.py and map_layers.py) ---- */
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
        var off = view.camerasOff || 0;
        return [rows, queue, grouped(view.onDuty), grouped(view.openCases), grouped(view.overdue),
                off ? text("cameras_off").replace("{n}", off) : "", "cameras-off" + (off ? "" : " hidden")];
      },
      showLayers: function (names) {
        showLayers(names || []);
        return "layer-toggles";
      },
    },
  });

  Object.assign(W, {
    onHeartbeat: onHeartbeat,
    pushView: pushView,
    renderCard: renderCard,
    scheduleRender: scheduleRender,
    tick: tick,
  });
})();
