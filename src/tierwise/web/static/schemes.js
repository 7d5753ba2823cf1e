// Tierwise scheme editor: jump from a validation error to its line; after the YAML is edited,
// a preview no longer stands for it, so its Publish button is switched off. No inline scripts.
(function () {
  "use strict";

  function gotoLine(textarea, line) {
    var lines = textarea.value.split("\n");
    var n = Math.max(1, Math.min(line, lines.length));
    var start = 0;
    for (var i = 0; i < n - 1; i++) { start += lines[i].length + 1; }
    textarea.focus();
    textarea.setSelectionRange(start, start + lines[n - 1].length);
    var height = parseFloat(window.getComputedStyle(textarea).lineHeight) || 18;
    textarea.scrollTop = Math.max(0, (n - 4) * height);
  }

  document.addEventListener("click", function (e) {
    var link = e.target.closest ? e.target.closest("a.scheme-goto[data-line]") : null;
    var textarea = document.getElementById("scheme-document");
    if (!link || !textarea) { return; }
    e.preventDefault();
    gotoLine(textarea, parseInt(link.dataset.line, 10));
  });

  document.addEventListener("input", function (e) {
    if (!e.target || e.target.id !== "scheme-document") { return; }
    var publish = document.getElementById("scheme-publish");
    var stale = document.getElementById("scheme-stale");
    if (publish) { publish.disabled = true; }
    if (stale) { stale.hidden = false; }
  });
})();
