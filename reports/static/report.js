// Offline filtering: a search box and an "only differences" switch over every [data-row].
(function () {
  "use strict";
  var search = document.getElementById("search");
  var onlyDiff = document.getElementById("only-diff");
  var shown = document.getElementById("shown");
  var rows = Array.prototype.slice.call(document.querySelectorAll("[data-row]"));
  var text = rows.map(function (row) {
    return (row.getAttribute("data-search") || row.textContent).toLowerCase();
  });

  function apply() {
    var terms = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    var diffOnly = onlyDiff.checked;
    var visible = 0;
    rows.forEach(function (row, i) {
      var match = (!diffOnly || row.getAttribute("data-diff") === "1") &&
        terms.every(function (term) { return text[i].indexOf(term) !== -1; });
      row.hidden = !match;
      if (match) { visible += 1; }
    });
    document.querySelectorAll(".filterable, .charts").forEach(function (container) {
      var items = container.querySelectorAll("[data-row]");
      var any = Array.prototype.some.call(items, function (item) { return !item.hidden; });
      var holder = container.parentElement.classList.contains("scroll") ? container.parentElement : container;
      var empty = holder.nextElementSibling;
      if (empty && empty.classList.contains("empty")) { empty.hidden = any || items.length === 0; }
    });
    shown.textContent = terms.length || diffOnly ? visible + " of " + rows.length + " rows shown" : "";
  }

  search.addEventListener("input", apply);
  onlyDiff.addEventListener("change", apply);
  apply();
}());
