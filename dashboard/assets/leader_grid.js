/* The leader page's tables (AG Grid, one component each): how their cells are drawn and sorted.
   Rate: the percentage, and its numerator/denominator small under it. Grade: a coloured letter.
   Rank: a medal for the top three. Numbers sort as numbers; "—" (nothing due) sorts below every number. */
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
})();
