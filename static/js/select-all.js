// "Select all on this page": a header checkbox (data-select-all="NAME") checks or clears every
// checkbox called NAME, and shows itself checked, clear or mixed as they are. Without script
// the header checkbox stays hidden and each row is checked by hand.
(function () {
  "use strict";
  document.querySelectorAll("input[data-select-all]").forEach(function (master) {
    var rows = Array.prototype.slice.call(
      document.querySelectorAll('input[type="checkbox"][name="' + master.dataset.selectAll + '"]')
    );
    function reflect() {
      var checked = rows.filter(function (row) { return row.checked; }).length;
      master.checked = checked > 0 && checked === rows.length;
      master.indeterminate = checked > 0 && checked < rows.length;
    }
    master.hidden = false;
    master.addEventListener("change", function () {
      rows.forEach(function (row) { row.checked = master.checked; });
      reflect();
    });
    rows.forEach(function (row) { row.addEventListener("change", reflect); });
    reflect();
  });
})();
