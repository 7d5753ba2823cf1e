// Tierwise import wizard: changing the kind or the sheet re-detects the column mapping at once.
// No inline scripts (CSP); without JavaScript the "apply" button does the same.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var apply = document.getElementById("apply-choices");
    if (!apply) { return; }
    document.querySelectorAll("select[data-autosubmit]").forEach(function (el) {
      el.addEventListener("change", function () { apply.click(); });
    });
  });
})();
