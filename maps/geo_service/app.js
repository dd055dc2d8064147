// geo_service pages: copy buttons (no inline handlers, so the CSP needs no 'unsafe-inline').
(function () {
  "use strict";
  document.addEventListener("click", function (ev) {
    if (ev.target.closest && ev.target.closest("button.print")) { window.print(); return; }
    var btn = ev.target.closest && ev.target.closest("button.copy");
    if (!btn) { return; }
    var text = btn.getAttribute("data-copy") || "";
    var done = function () { var old = btn.textContent; btn.textContent = "\u2713"; setTimeout(function () { btn.textContent = old; }, 1200); };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () {});
    } else {
      var ta = document.createElement("textarea");
      ta.value = text; document.body.appendChild(ta); ta.select();
      try { document.execCommand("copy"); done(); } catch (e) { /* ignore */ }
      document.body.removeChild(ta);
    }
  });
})();
