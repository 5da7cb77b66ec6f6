/* The leader page in the browser.
   Its tables (AG Grid, one component each): how their cells are drawn and sorted. Rate: the percentage, and
   its numerator/denominator small under it. Grade: a coloured letter. Rank: a medal for the top three.
   Numbers sort as numbers; "—" (nothing due) sorts below every number.
   Its KPI cards: drawn from the panel's data (dash_clientside.leader.drawCards), a dozen plain elements.
   Its 30-day trends: two small SVG charts drawn from the trends' data (dash_clientside.leader.drawTrends), a
   day with nothing due a gap in its line, never 0; the value and its numerator/denominator on hover. */
(function () {
  var h = function () { return window.React.createElement.apply(null, arguments); };
  var cells = (window.dashAgGridComponentFunctions = window.dashAgGridComponentFunctions || {});
  var fns = (window.dashAgGridFunctions = window.dashAgGridFunctions || {});

  cells.Rate = function (props) {
    var detail = props.data ? props.data[props.detail] : "";
    return h("span", {className: "rate-cell"},
      h("span", {className: "cell-value"}, props.value),
      h("span", {className: "cell-detail"}, detail));
  };
  cells.Grade = function (props) {
    var g = props.value || "—";
    return h("span", {className: "grade grade-" + g}, g);
  };
  cells.CaseLink = function (props) {  // a case of the evidence: its timeline and place in the dispatcher console
    if (!props.value) return h("span", {className: "cell-detail"}, "—");  // a grid's day of coverage
    var lang = /lang=en/.test(window.location.search) ? "&lang=en" : "";
    return h("a", {href: "/dispatch?case=" + encodeURIComponent(props.value) + lang, target: "_blank",
                   rel: "noopener", title: props.title, className: "case-link"}, props.value);
  };
  function askEvidence(card) {
    if (!card || !window.dash_clientside || !window.dash_clientside.set_props) return;
    window.dash_clientside.set_props("leader-evidence-ask",
                                     {data: {figure: card.getAttribute("data-figure"), n: Date.now()}});
  }
  document.addEventListener("click", function (e) {
    var card = e.target && e.target.closest ? e.target.closest(".lv-kpi-evidenced") : null;
    if (card) askEvidence(card);
  });
  document.addEventListener("keydown", function (e) {
    if ((e.key === "Enter" || e.key === " ") && e.target && e.target.classList &&
        e.target.classList.contains("lv-kpi-evidenced")) { e.preventDefault(); askEvidence(e.target); }
    if (e.key === "Escape") {
      var close = document.getElementById("leader-evidence-close");
      var panel = document.getElementById("leader-evidence");
      if (close && panel && panel.style.display !== "none") close.click();
    }
  });
  cells.Rank = function (props) {
    var top = props.data && props.data.top_three;
    return top ? h("span", {className: "medal"}, props.value) : h("span", null, props.value);
  };

  function number(text) {
    if (typeof text === "number") { return text; }
    var n = parseFloat(String(text === null || text === undefined ? "" : text).replace(/[,%\s]/g, ""));
    return isNaN(n) ? null : n;
  }
  fns.ccCompareNumbers = function (a, b) {
    var x = number(a), y = number(b);
    if (x === null && y === null) { return 0; }
    if (x === null) { return -1; }
    if (y === null) { return 1; }
    return x - y;
  };
  fns.ccThousands = function (value) {
    return value === null || value === undefined ? "" : Number(value).toLocaleString("en-US");
  };

  /* ---- the trend charts ---- */
  var SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, text) {
    var el = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    if (text !== undefined) el.textContent = text;
    return el;
  }
  function html(tag, className, text) {
    var el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined) el.textContent = text;
    return el;
  }
  function niceMax(values) {
    var top = Math.max.apply(null, values.concat([1]));
    var step = Math.pow(10, Math.floor(Math.log10(top)));
    var steps = [1, 2, 2.5, 5, 10].map(function (k) { return k * step; });
    var unit = steps.find(function (u) { return top / u <= 5; }) || steps[steps.length - 1];
    return Math.ceil(top / unit) * unit;
  }
  /* one chart: a frame with y grid lines and labels, days along x (every 7th labelled, MM-DD), then
     `draw(x, y, g)` adds the series; `legend` the swatches under it */
  function chart(box, title, days, maxY, yTicks, suffix, legend, draw) {
    box.replaceChildren();
    box.appendChild(html("div", "lv-chart-title", title));
    var w = Math.max(box.clientWidth, 200), h = Math.max(box.clientHeight * 0.72, 80);
    var rem = parseFloat(getComputedStyle(document.documentElement).fontSize) || 18;
    var left = rem * 2.6, right = rem * 0.6, top = rem * 0.4, bottom = rem * 1.3;
    var root = svg("svg", { viewBox: "0 0 " + w + " " + h, preserveAspectRatio: "none", role: "img" });
    root.appendChild(svg("title", {}, title));
    var x = function (i) { return left + (days.length < 2 ? 0 : i * (w - left - right) / (days.length - 1)); };
    var y = function (v) { return top + (1 - v / maxY) * (h - top - bottom); };
    yTicks.forEach(function (v) {
      root.appendChild(svg("line", { "class": "grid-line", x1: left, x2: w - right, y1: y(v), y2: y(v) }));
      root.appendChild(svg("text", { "class": "axis", x: left - rem * 0.3, y: y(v) + rem * 0.25, "text-anchor": "end" },
                           v.toLocaleString("en-US") + suffix));
    });
    days.forEach(function (d, i) {
      if ((days.length - 1 - i) % 7 !== 0) return;
      root.appendChild(svg("text", { "class": "axis", x: x(i), y: h - rem * 0.2, "text-anchor": "middle" }, d.slice(5)));
    });
    draw(x, y, root);
    box.appendChild(root);
    var keys = html("div", "lv-chart-legend");
    legend.forEach(function (s) {
      var item = html("span");
      var swatch = html("i");
      swatch.style.background = s.colour;
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(s.label));
      keys.appendChild(item);
    });
    box.appendChild(keys);
  }
  function drawRates(box, days, rates) {
    chart(box, rates.title, days, 100, [0, 20, 40, 60, 80, 100], "", rates.series, function (x, y, g) {
      rates.series.forEach(function (s) {
        var d = "", pen = false;
        s.values.forEach(function (v, i) {
          if (v === null || v === undefined) { pen = false; return; }
          d += (pen ? "L" : "M") + x(i).toFixed(1) + "," + y(v).toFixed(1);
          pen = true;
        });
        if (d) g.appendChild(svg("path", { "class": "series", d: d, stroke: s.colour }));
        s.values.forEach(function (v, i) {
          if (v === null || v === undefined) return;
          var dot = svg("circle", { "class": "point", cx: x(i), cy: y(v), r: 3, fill: s.colour });
          dot.appendChild(svg("title", {}, s.label + " " + days[i] + ": " + v.toFixed(1) + "% (" + s.details[i] + ")"));
          g.appendChild(dot);
        });
      });
    });
  }
  function drawLoad(box, days, load) {
    var all = [];
    load.series.forEach(function (s) { all = all.concat(s.values); });
    var maxY = niceMax(all), ticks = [0, 1, 2, 3, 4, 5].map(function (k) { return maxY * k / 5; });
    chart(box, load.title, days, maxY, ticks, "", load.series, function (x, y, g) {
      var width = Math.max(2, (x(1) - x(0)) * 0.7);
      load.series.forEach(function (s) {
        s.values.forEach(function (v, i) {
          if (!v) return;
          var bar = svg("rect", { x: x(i) - width / 2, y: y(v), width: width, height: y(0) - y(v), fill: s.colour,
                                  opacity: 0.9 });
          bar.appendChild(svg("title", {}, s.label + " " + days[i] + ": " + v.toLocaleString("en-US") + " " + load.unit));
          g.appendChild(bar);
        });
      });
    });
  }
  var trends = null;
  function drawTrends(data) {
    if (data) trends = data;
    var rates = document.getElementById("leader-trend-rates"), load = document.getElementById("leader-trend-load");
    if (!trends || !rates || !load) return window.dash_clientside ? window.dash_clientside.no_update : null;
    drawRates(rates, trends.days, trends.rates);
    drawLoad(load, trends.days, trends.load);
    return Date.now();
  }
  var resized = null;
  window.addEventListener("resize", function () {
    clearTimeout(resized);
    resized = setTimeout(function () { if (trends) drawTrends(null); }, 150);
  });

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null && text !== "") node.textContent = text;
    return node;
  }
  // The KPI cards, in their three groups, from the panel's data (dashboard/views/leader.py card_panel).
  function drawCards(panel) {
    var box = document.getElementById("leader-cards");
    if (!panel || !box) return window.dash_clientside ? window.dash_clientside.no_update : null;
    var groups = panel.map(function (group) {
      var row = el("div", "lv-kpi-row");
      group.cards.forEach(function (c) {
        var card = el("div", "lv-kpi-card lv-kpi-" + c.key);
        card.id = "lv-kpi-" + c.key;
        card.title = c.hint;
        card.appendChild(el("div", "lv-kpi-label", c.label));
        var value = el("div", "lv-kpi-value", c.value);
        if (c.unit) value.appendChild(el("span", "lv-kpi-unit", c.unit));
        card.appendChild(value);
        var foot = el("div", "lv-kpi-foot");
        foot.appendChild(el("span", "lv-kpi-detail", c.detail));
        foot.appendChild(el("span", "lv-kpi-change change-" + c.tone, c.change));
        card.appendChild(foot);
        if (c.evidence) {  // a click lists what makes the figure (dashboard/callbacks/leader.py: show_evidence)
          card.classList.add("lv-kpi-evidenced");
          card.setAttribute("role", "button");
          card.tabIndex = 0;
          card.setAttribute("data-figure", c.key);
          card.appendChild(el("span", "lv-kpi-more", c.evidence));
        }
        row.appendChild(card);
      });
      var section = el("div", "lv-kpi-group lv-kpi-group-" + group.group);
      section.appendChild(el("h3", null, group.label));
      section.appendChild(row);
      return section;
    });
    box.replaceChildren.apply(box, groups);
    var opening = document.querySelector("[data-open-evidence]");  // opened from a figure elsewhere (/kpis)
    if (opening) {
      var card = document.getElementById("lv-kpi-" + opening.getAttribute("data-open-evidence"));
      opening.removeAttribute("data-open-evidence");
      if (card && card.classList.contains("lv-kpi-evidenced")) setTimeout(function () { askEvidence(card); }, 0);
    }
    return Date.now();
  }
  window.dash_clientside = Object.assign({}, window.dash_clientside, { leader: {
    drawCards: drawCards,
    drawTrends: drawTrends,
    // the custom range's day pickers, shown only for a custom period (in the browser: no request per switch)
    rangeStyle: (kind) => (kind === 'custom' ? {} : { display: 'none' }),
    // a page made before the last change of a case: asked again, soon when it is more than 10 s old (the page
    // made again behind it is then ready), else in 15 s, so that figures left open follow the district
    refreshStale: function refreshStale(shown) {
      if (!shown || !shown.stale) return window.dash_clientside.no_update;
      const age = Date.now() - Date.parse(shown.at);
      clearTimeout(refreshStale.timer);
      refreshStale.timer = setTimeout(() => window.dash_clientside.set_props("leader-refresh", {data: Date.now()}),
                                      age > 10000 ? 1000 : 15000);
      return window.dash_clientside.no_update;
    },
  } });
})();
