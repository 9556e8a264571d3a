// ablate report: sort tables by clicking a header. Every sortable <th> names the cell index it
// sorts by (data-col) and the direction of its first click (data-first); a cell's data-v holds
// its numeric value, otherwise its text is compared. Empty cells always sort last.
(function () {
  "use strict";
  function key(row, col) {
    var cell = row.cells[col];
    if (!cell) return null;
    var v = cell.getAttribute("data-v");
    if (v !== null && v !== "") {
      var n = parseFloat(v);
      return isNaN(n) ? null : n;
    }
    var t = cell.textContent.trim();
    return t === "" || t === "—" ? null : t.toLowerCase();
  }
  function sortBy(table, th) {
    var col = parseInt(th.getAttribute("data-col"), 10);
    var current = th.getAttribute("aria-sort");
    var first = th.getAttribute("data-first") === "desc" ? "descending" : "ascending";
    var dir = current === "none" || current === null ? first
      : current === "ascending" ? "descending" : "ascending";
    table.querySelectorAll("th[data-col]").forEach(function (h) {
      h.setAttribute("aria-sort", "none");
    });
    th.setAttribute("aria-sort", dir);
    var sign = dir === "ascending" ? 1 : -1;
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.forEach(function (r, i) { r._i = i; });
    rows.sort(function (a, b) {
      var x = key(a, col), y = key(b, col);
      if (x === null && y === null) return a._i - b._i;
      if (x === null) return 1;
      if (y === null) return -1;
      var c = typeof x === "number" && typeof y === "number" ? x - y
        : String(x).localeCompare(String(y), undefined, { numeric: true });
      return c !== 0 ? sign * c : a._i - b._i;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("th[data-col]").forEach(function (th) {
      var button = th.querySelector("button") || th;
      button.addEventListener("click", function () { sortBy(table, th); });
    });
  });
})();
