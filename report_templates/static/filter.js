// Progressive enhancement: the PCN list works without JavaScript; this adds a filter box.
(function () {
  "use strict";
  var box = document.querySelector(".filter");
  var input = document.getElementById("pcn-filter");
  var count = document.getElementById("pcn-count");
  var rows = Array.prototype.slice.call(document.querySelectorAll("#pcn-table tbody tr"));
  if (!box || !input) { return; }
  box.hidden = false;
  input.addEventListener("input", function () {
    var query = input.value.trim().toLowerCase();
    var shown = 0;
    rows.forEach(function (row) {
      var match = row.textContent.toLowerCase().indexOf(query) !== -1;
      row.hidden = !match;
      if (match) { shown += 1; }
    });
    count.textContent = query ? shown + " PCNs match" : "";
  });
})();
