/* Dispatcher console glue (page /dispatch; does nothing on other pages).
 *
 * Its own Socket.IO client on namespace /live: every "delta" that changed cases (drill cases aside) bumps
 * the Dash store "dispatch-changed" with the changed ids, at most once a second, so the queue and the open
 * case are read again; a gap in the sequence, a reset or a reconnect asks for everything ({all: true}).
 * A click on a queue row (or ↑/↓ in the queue) selects the case through the store "dispatch-selected".
 * A report's picture this screen cannot load (its NVR out of reach) is hidden; its link stays.
 * Field text never passes through here.
 */
(function () {
  "use strict";
  var cc = (window.cc = window.cc || {});
  cc.maps = cc.maps || {};
  if (window.L && !L.Map.ccDispatchHooked) {
    L.Map.addInitHook(function () { cc.maps[this.getContainer().id] = this; });
    L.Map.ccDispatchHooked = true;
  }

  document.addEventListener("error", function (e) {  // errors do not bubble: caught on the way down
    var img = e.target;
    if (img && img.classList && img.classList.contains("report-photo")) img.classList.add("unreachable");
  }, true);

  var BUMP_EVERY_MS = 1000;
  // drills: a console opened with ?drill=<id> joins that drill's room and follows its cases only
  var DRILL = new URLSearchParams(window.location.search).get("drill") || null;
  var LIGHT_COLOURS = cc.time.COLOURS;  // assets/clock.js (loaded first)
  function rem() { return parseFloat(getComputedStyle(document.documentElement).fontSize) || 18; }

  /* the queue's cases on the map: one GeoJSON layer, a canvas dot per case in its light's colour */
  cc.dispatchDot = function (feature, latlng) {  /* a click on a dot selects its case, as a click on its row */
    var dot = L.circleMarker(latlng, { radius: Math.max(5, rem() * 0.35), color: "#061226", weight: 1,
      fillColor: LIGHT_COLOURS[feature.properties.light] || LIGHT_COLOURS.none, fillOpacity: 0.9, bubblingMouseEvents: false });
    dot.on("click", function () { selectCase(feature.properties.id); });
    return dot;
  };
  var desk = (cc.dispatch = {
    seq: null, connected: false, beatAt: 0, pending: {}, pendingAll: false, bumps: 0, lastBump: 0, timer: null, deltas: 0,
  });

  function setProps(id, props) {
    if (window.dash_clientside && window.dash_clientside.set_props) window.dash_clientside.set_props(id, props);
  }
  function config() {
    if (!desk.config) {
      var el = document.getElementById("dispatch-config");
      if (!el) return null;
      desk.config = JSON.parse(el.getAttribute("data-config"));
    }
    return desk.config;
  }

  /* ---- pushed changes → the store the callbacks listen to, throttled ---- */
  function flush() {
    desk.timer = null;
    var ids = Object.keys(desk.pending);
    if (!ids.length && !desk.pendingAll) return;
    desk.bumps += 1;
    desk.lastBump = Date.now();
    var changed = { n: desk.bumps, ids: ids, all: desk.pendingAll };
    setProps("dispatch-changed", { data: changed });
    /* the selected case's detail and actions only when it changed: Dash keeps only the newest answer of a
       callback, so needless calls would drop the one that shows a newly selected case */
    var shown = currentCase();
    if (desk.pendingAll || (shown && desk.pending[shown])) setProps("dispatch-case-changed", { data: changed });
    desk.pending = {};
    desk.pendingAll = false;
  }
  function currentCase() {
    var head = document.querySelector("#dispatch-detail .detail-state[data-case]");
    return desk.selectedCase || (head && head.getAttribute("data-case")) || null;
  }
  function bump(ids, all) {
    ids.forEach(function (id) { desk.pending[id] = true; });
    if (all) desk.pendingAll = true;
    if (desk.timer) return;
    var wait = Math.max(0, desk.lastBump + BUMP_EVERY_MS - Date.now());
    desk.timer = setTimeout(flush, wait);
  }
  function onDelta(d) {
    desk.deltas += 1;
    var gap = desk.seq !== null && d.seq !== desk.seq + 1;
    desk.seq = d.seq;
    var changed = Object.keys(d.cases || {}).filter(function (id) {
      var view = d.cases[id];
      return view === null || (view.drill || null) === DRILL;  // null: it left the view (closed, rejected, void)
    });
    changed.forEach(function (id) { if (d.cases[id]) showChange(d.cases[id]); });
    if (gap) bump(changed, true);
    else if (changed.length) bump(changed, false);
  }

  /* A pushed change shown at once where the case is on screen (its queue row, its detail), marked for a
     moment; the re-read that follows redraws the rest (countdown, timeline, order). Text only. */
  function showChange(view) {
    var c = config();
    if (!c || !c.states) return;
    var dept = view.department ? (c.departments[view.department] || view.department) : "—";
    var who = view.assignee ? (c.people[view.assignee] ? c.people[view.assignee] + " (" + view.assignee + ")"
                                                        : view.assignee) : "—";
    var state = c.states[view.state] || view.state;
    function put(el, text) {
      if (!el || el.textContent === text) return;
      el.textContent = text;
      el.classList.remove("just-changed");
      void el.offsetWidth;  // restart the mark's animation
      el.classList.add("just-changed");
    }
    rows().forEach(function (r) {
      if (r.getAttribute("data-case") !== view.id) return;
      put(r.querySelector(".cell-state"), state);
      put(r.querySelector(".cell-department"), dept);
    });
    (desk.queue ? desk.queue.rows : []).forEach(function (r) {  /* rows drawn later, on scrolling, show it too */
      if (r.id === view.id) { r.state = state; r.department = dept; }
    });
    var head = document.querySelector("#dispatch-detail .detail-state[data-case]");
    if (!head || head.getAttribute("data-case") !== view.id) return;
    put(head, state);
    put(document.querySelector("#dispatch-detail .field-department dd"), dept);
    put(document.querySelector("#dispatch-detail .field-assignee dd"), who);
    put(document.querySelector("#dispatch-detail .field-level dd"), c.levels[view.level] || view.level);
  }
  cc.dispatch.onDelta = onDelta;  // for tests that inject deltas

  /* ---- the queue: drawn here from its records (one Dash store, not a component per cell), as plain
     text, and only the rows in view (and a screenful either side): thousands of cases cost the page a few
     dozen rows; the selected case kept selected across redraws and scrolling ---- */
  var BUFFER_ROWS = 30;
  function cell(tag, className, text) {
    var el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined && text !== null) el.textContent = text;
    return el;
  }
  function queueRow(r, data, chosen) {
    var tr = cell("tr", "queue-row row-" + r.light + (r.urgent ? " urgent" : "") + (r.id === chosen ? " selected" : ""));
    tr.setAttribute("data-case", r.id);
    tr.appendChild(cell("td", "cell-clock lit lit-" + r.light, r.clock));
    var what = cell("td", "cell-case");
    what.appendChild(cell("b", null, r.category));
    if (r.urgent) what.appendChild(cell("span", "tag tag-urgent", data.urgent));
    what.appendChild(cell("div", "case-text-line", r.text));
    tr.appendChild(what);
    tr.appendChild(cell("td", "cell-grid", r.grid));
    tr.appendChild(cell("td", "cell-state", r.state));
    tr.appendChild(cell("td", "cell-department", r.department));
    tr.appendChild(cell("td", "cell-source", r.source));
    tr.appendChild(cell("td", "cell-reported", r.reported));
    return tr;
  }
  function spacer(height, span) {
    var tr = cell("tr", "queue-spacer"), td = cell("td");
    td.colSpan = span;
    td.style.height = height + "px";
    td.style.padding = "0";
    td.style.border = "none";
    tr.appendChild(td);
    return tr;
  }
  function drawRows() {
    var box = document.getElementById("dispatch-queue"), data = desk.queue;
    if (!box || !data) return;
    var table = cell("table", "queue-table"), head = cell("tr"), body = cell("tbody");
    data.head.forEach(function (h) { head.appendChild(cell("th", null, h)); });
    table.appendChild(cell("thead")).appendChild(head);
    if (!data.rows.length) {
      var empty = cell("td", "queue-empty", data.empty);
      empty.colSpan = data.head.length;
      body.appendChild(cell("tr")).appendChild(empty);
    }
    var chosen = desk.selectedCase || data.selected || currentCase();
    var h = desk.rowHeight || rem() * 2.6;
    var first = Math.max(0, Math.floor(box.scrollTop / h) - BUFFER_ROWS);
    var last = Math.min(data.rows.length, Math.ceil((box.scrollTop + box.clientHeight) / h) + BUFFER_ROWS);
    if (first > 0) body.appendChild(spacer(first * h, data.head.length));
    for (var i = first; i < last; i++) body.appendChild(queueRow(data.rows[i], data, chosen));
    if (last < data.rows.length) body.appendChild(spacer((data.rows.length - last) * h, data.head.length));
    table.appendChild(body);
    var top = box.scrollTop;
    box.replaceChildren(table);
    box.scrollTop = top;
    desk.window = [first, last];
    var drawn = body.querySelector("tr[data-case]");
    if (drawn && !desk.rowHeight && drawn.getBoundingClientRect().height > 0) {
      desk.rowHeight = drawn.getBoundingClientRect().height;  /* rows are one line each: the same height */
      drawRows();
    }
  }
  function drawQueue(data) {
    if (!data) return window.dash_clientside ? window.dash_clientside.no_update : null;
    desk.queue = data;
    drawRows();
    desk.drawn = (desk.drawn || 0) + 1;
    return desk.drawn;
  }
  var scrolled = false;
  document.addEventListener("scroll", function (e) {
    if (!e.target || e.target.id !== "dispatch-queue" || scrolled) return;
    scrolled = true;
    requestAnimationFrame(function () {
      scrolled = false;
      var box = document.getElementById("dispatch-queue"), h = desk.rowHeight || rem() * 2.6;
      if (!box || !desk.window) return;
      var first = Math.floor(box.scrollTop / h), last = Math.ceil((box.scrollTop + box.clientHeight) / h);
      if (first < desk.window[0] + 5 && desk.window[0] > 0 || last > desk.window[1] - 5 && desk.window[1] < desk.queue.rows.length) {
        drawRows();
      }
    });
  }, true);
  /* make the row of case `index` (in the queue's order) drawn and in view */
  function bringIntoView(index) {
    var box = document.getElementById("dispatch-queue"), h = desk.rowHeight || rem() * 2.6;
    if (!box) return;
    var head = box.querySelector("thead"), headH = head ? head.getBoundingClientRect().height : 0;
    var top = index * h, bottom = top + h + headH;
    if (top < box.scrollTop) box.scrollTop = top;
    else if (bottom > box.scrollTop + box.clientHeight) box.scrollTop = bottom - box.clientHeight;
    if (!desk.window || index < desk.window[0] || index >= desk.window[1]) drawRows();
  }
  function queueIds() { return desk.queue ? desk.queue.rows.map(function (r) { return r.id; }) : []; }
  window.dash_clientside = Object.assign({}, window.dash_clientside, { dispatch: { drawQueue: drawQueue } });

  /* ---- a chosen case's header at once, from its queue record, while its detail and timeline are read:
     the detail takes the place back as soon as the server's answer changes it (or after 5 s) ---- */
  function preview(id) {
    var box = document.getElementById("dispatch-preview"), detail = document.getElementById("dispatch-detail");
    var r = desk.queue ? desk.queue.rows.filter(function (x) { return x.id === id; })[0] : null;
    if (!box || !detail || !r) return;
    var shown = detail.querySelector(".detail-state[data-case]");
    if (shown && shown.getAttribute("data-case") === id && !detail.hidden) return;
    var head = cell("div", "detail-head");
    head.appendChild(cell("i", "light light-" + r.light));
    head.appendChild(cell("span", "detail-category", r.category));
    if (r.urgent) head.appendChild(cell("span", "tag tag-urgent", desk.queue.urgent));
    var state = cell("span", "detail-state", r.state);
    state.setAttribute("data-preview", id);
    head.appendChild(state);
    head.appendChild(cell("span", "detail-countdown countdown-" + r.light, r.clock));
    box.replaceChildren(head, cell("p", "preview-meta", [r.grid, r.department, r.source, r.reported].join(" · ")),
                        cell("p", "detail-text", r.text));
    watch(detail);
    box.hidden = false;
    detail.hidden = true;
    clearTimeout(desk.previewTimer);
    desk.previewTimer = setTimeout(revealDetail, 5000);
  }
  function revealDetail() {
    var box = document.getElementById("dispatch-preview"), detail = document.getElementById("dispatch-detail");
    clearTimeout(desk.previewTimer);
    if (box) box.hidden = true;
    if (detail) detail.hidden = false;
  }
  function watch(detail) {  /* once per detail element: its next change is the answer for the chosen case */
    if (desk.watched === detail) return;
    desk.watched = detail;
    new MutationObserver(function () {
      if (detail.hidden) revealDetail();  /* Dash keeps only the newest answer of the detail's callback */
    }).observe(detail, { childList: true, subtree: true, characterData: true });
  }

  /* ---- selection: click a row, or ↑/↓ ---- */
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("#dispatch-queue tr[data-case]")); }
  function select(row) {
    if (!row) return;
    rows().forEach(function (r) { r.classList.toggle("selected", r === row); });
    row.scrollIntoView({ block: "nearest" });
    preview(row.getAttribute("data-case"));
    desk.selectedCase = row.getAttribute("data-case");
    setProps("dispatch-selected", { data: desk.selectedCase });
  }
  function selectCase(id) {
    var index = queueIds().indexOf(id);
    if (index >= 0) bringIntoView(index);
    var row = rows().filter(function (r) { return r.getAttribute("data-case") === id; })[0];
    if (row) { select(row); return; }
    rows().forEach(function (r) { r.classList.remove("selected"); });
    desk.selectedCase = id;
    setProps("dispatch-selected", { data: id });
  }
  cc.dispatch.selectCase = selectCase;
  document.addEventListener("click", function (e) {
    var row = e.target.closest && e.target.closest("#dispatch-queue tr[data-case]");
    if (row) select(row);
  });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
    var t = e.target, tag = t && t.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (t && t.isContentEditable)) return;
    var all = queueIds();
    if (!all.length) return;
    var at = all.indexOf(desk.selectedCase || currentCase());
    var next = at < 0 ? 0 : at + (e.key === "ArrowDown" ? 1 : -1);
    if (next >= 0 && next < all.length) { e.preventDefault(); selectCase(all[next]); }
  });

  /* ---- the action panel: buttons and keys choose an action (store "act-choice"), ready-made reasons fill
     the reason box, Ctrl+Enter confirms, Esc cancels, U undoes while the undo lasts ---- */
  var choices = 0;
  function selectedCase() {
    var row = document.querySelector("#dispatch-queue tr.selected[data-case]");
    return row ? row.getAttribute("data-case") : null;
  }
  function choose(button) {
    if (!button) return;
    var chosen = button.getAttribute("data-case") || desk.selectedCase || selectedCase();
    choices += 1;
    setProps("act-choice", { data: { case: chosen, action: button.getAttribute("data-action"), n: choices } });
    focusForm(0);
  }
  function focusForm(tries) {  /* once the form is open: the first choice it asks for, else the reason */
    var form = document.getElementById("act-form");
    if (form && !form.hidden) {  /* all of the form in view (its confirm button too) when the pane allows */
      var pane = form.closest(".case-pane");
      var fits = !pane || form.offsetHeight < pane.clientHeight;
      form.scrollIntoView({ block: fits ? "end" : "start" });
      var first = form.querySelector(".act-row:not([hidden]) input, #act-reason");
      if (first) first.focus({ preventScroll: true });
      return;
    }
    if (tries < 40) setTimeout(function () { focusForm(tries + 1); }, 50);
  }
  function visible(id) {
    var el = document.getElementById(id);
    return el && !el.hidden && !el.disabled ? el : null;
  }
  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("#act-buttons [data-action]");
    if (button) { choose(button); return; }
    var quick = e.target.closest && e.target.closest("#act-quick [data-reason]");
    if (quick) {
      setProps("act-reason", { value: quick.getAttribute("data-reason") });
      var box = document.getElementById("act-reason");
      if (box) box.focus();
    }
  });
  document.addEventListener("keydown", function (e) {
    var t = e.target, tag = t && t.tagName;
    var typing = tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (t && t.isContentEditable);
    var form = document.getElementById("act-form");
    var open = form && !form.hidden;
    if (open && e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      var confirm = visible("act-confirm");
      if (confirm) { e.preventDefault(); confirm.click(); }
      return;
    }
    if (open && e.key === "Escape") { e.preventDefault(); var c = visible("act-cancel"); if (c) c.click(); return; }
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    var key = e.key.toLowerCase();
    if (key === "n") { e.preventDefault(); selectNextUrgent(); return; }
    if (key === "u") { var undo = visible("act-undo"); if (undo) { e.preventDefault(); undo.click(); } return; }
    if (key === "a") {
      var main = document.querySelector("#act-buttons .act-main") || document.querySelector("#act-buttons [data-action]");
      if (main) { e.preventDefault(); main.focus(); }
      return;
    }
    if (/^[1-9]$/.test(e.key)) {
      var buttons = document.querySelectorAll("#act-buttons [data-action]");
      var b = buttons[parseInt(e.key, 10) - 1];
      if (b) { e.preventDefault(); choose(b); }
    }
  });
  /* the next case after the selected one that needs someone now (overdue, due soon or urgent), round the queue */
  function selectNextUrgent() {
    var all = desk.queue ? desk.queue.rows : [];
    if (!all.length) return;
    var chosen = desk.selectedCase || currentCase();
    var at = all.findIndex(function (r) { return r.id === chosen; });
    for (var i = 1; i <= all.length; i++) {
      var r = all[(at + i + all.length) % all.length];
      if (r.light === "red" || r.light === "amber" || r.urgent) {
        selectCase(r.id);
        return;
      }
    }
    selectCase(all[(at + 1) % all.length].id);
  }
  cc.dispatch.nextUrgent = selectNextUrgent;
  function undoTick() {
    var undo = document.getElementById("act-undo"), mark = document.querySelector("#act-result [data-until]");
    if (!undo || undo.hidden) return;
    var left = mark ? Math.ceil((parseInt(mark.getAttribute("data-until"), 10) - Date.now()) / 1000) : 0;
    if (!undo.getAttribute("data-label")) undo.setAttribute("data-label", undo.textContent);
    if (left <= 0) { undo.hidden = true; undo.removeAttribute("data-label"); return; }
    undo.textContent = undo.getAttribute("data-label") + " (" + left + ")";
  }
  setInterval(undoTick, 250);

  /* ---- title bar: clock in the command centre's zone, connection state. Written straight into their
     elements (no callback ever renders them): a Dash prop update costs in proportion to the whole page,
     and the queue makes this page large. ---- */
  var FEED_SILENT_MS = 4000;
  function tick() {
    var c = config(), clock = document.getElementById("dispatch-clock");
    var link = document.getElementById("dispatch-connection");
    if (!c || !clock || !link) return;
    clock.textContent = cc.time.stamp(Date.now(), c.timezone);  // assets/clock.js
    var state = desk.connected ? "connected" : (desk.everConnected ? "disconnected" : "connecting");
    if (desk.connected && Date.now() - desk.beatAt > FEED_SILENT_MS) state = "feed_down";  // the ingest is silent
    if (link.textContent !== c.text[state]) link.textContent = c.text[state];
    link.className = "connection " + (state === "feed_down" ? "disconnected" : state);
  }

  function start() {
    if (!/\/dispatch\/?$/.test(window.location.pathname)) return;  // another page
    if (!window.io || !config() || !cc.maps["dispatch-map"]) { setTimeout(start, 50); return; }
    var map = cc.maps["dispatch-map"];
    if (window.ResizeObserver) {  // the map is laid out by the page's grid: follow its size
      new ResizeObserver(function () { map.invalidateSize(); }).observe(map.getContainer());
    }
    var socket = (desk.socket = io("/live", { transports: ["websocket"], reconnectionDelayMax: 5000,
                                              auth: DRILL ? { drill: DRILL } : {} }));
    socket.on("connect", function () {
      desk.connected = true; desk.everConnected = true; desk.seq = null; desk.beatAt = Date.now();
      bump([], true);  // whatever changed while away
      tick();
    });
    socket.on("disconnect", function () { desk.connected = false; tick(); });
    socket.on("delta", function (d) { desk.beatAt = Date.now(); onDelta(d); });
    socket.on("heartbeat", function (h) {  // the feed is alive; a seq ahead of ours (a restored state): re-read all
      desk.beatAt = Date.now();
      if (h && (h.drill || null) === DRILL && desk.seq !== null && h.seq > desk.seq) { desk.seq = h.seq; bump([], true); }
    });
    setInterval(tick, 1000);
    tick();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
