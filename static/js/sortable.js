/* Sortable columns for the district page's tables of schools (a district of 500 schools
   is read by sorting): each header marked data-sort gets a button; a click sorts the
   rows by that column, again the other way. A row's number is the one it shows
   (data-value); rows with none (not shown) go last either way. The whole district's
   row stays first. Without JavaScript the table stays as served, by school name. */
(function () {
  "use strict";

  function key(row, index, kind) {
    var cell = row.cells[index];
    if (!cell) { return null; }
    if (kind === "text") { return cell.textContent.trim().toLowerCase(); }
    var value = parseFloat(cell.getAttribute("data-value"));
    return isNaN(value) ? null : value;
  }

  function compare(a, b, ascending) {
    if (a === null || b === null) { return (a === null) - (b === null); }
    var order = a < b ? -1 : a > b ? 1 : 0;
    return ascending ? order : -order;
  }

  function sortBy(table, header, index) {
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    var kind = header.getAttribute("data-sort");
    var body = table.tBodies[0];
    var rows = Array.prototype.filter.call(body.rows, function (row) {
      return !row.classList.contains("district-row");
    });
    rows.sort(function (a, b) {
      return compare(key(a, index, kind), key(b, index, kind), ascending);
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      if (th.hasAttribute("data-sort")) { th.setAttribute("aria-sort", "none"); }
    });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.district"), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header, index) {
      if (!header.hasAttribute("data-sort")) { return; }
      var button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      while (header.firstChild) { button.appendChild(header.firstChild); }
      header.appendChild(button);
      header.setAttribute("aria-sort", "none");
      button.addEventListener("click", function () { sortBy(table, header, index); });
    });
  });
})();
