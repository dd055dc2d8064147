// The dispatcher's desk on the console (issue 17): last ten lookups kept in this browser's
// localStorage under the user's name (nothing stored on the server), and keyboard shortcuts:
// Alt+C copies the radio line, Alt+L goes to the last lookups, Alt+I back to the input.
// No inline handlers: the page's CSP allows only scripts from /maps/.
(function () {
  "use strict";
  var desk = document.getElementById("desk");
  var form = document.getElementById("locate-form");
  var input = document.getElementById("q");
  if (!desk || !form || !input) { return; }
  var MAX = 10;
  var key = "geo_service.desk.lookups." + (desk.getAttribute("data-user") || "anonymous");

  function load() {
    try {
      var items = JSON.parse(window.localStorage.getItem(key) || "[]");
      return Array.isArray(items) ? items.filter(function (it) { return it && typeof it.q === "string"; }) : [];
    } catch (e) { return []; }
  }

  function save(items) {
    try { window.localStorage.setItem(key, JSON.stringify(items.slice(0, MAX))); } catch (e) { /* full or blocked */ }
  }

  function remember() {
    var q = desk.getAttribute("data-query") || "";
    if (!q.trim()) { return; }
    var hint = desk.getAttribute("data-hint") || "";
    var items = load().filter(function (it) { return !(it.q === q && (it.hint || "") === hint); });
    items.unshift({ q: q, hint: hint, line: desk.getAttribute("data-line") || "",
                    status: desk.getAttribute("data-status") || "", at: new Date().toISOString() });
    save(items);
  }

  function rerun(item) {
    input.value = item.q;
    var hint = document.getElementById("hint");
    if (hint) { hint.value = item.hint || ""; }
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  }

  function render() {
    var list = document.getElementById("last-lookups");
    var empty = document.getElementById("no-lookups");
    var items = load();
    list.textContent = "";
    items.forEach(function (item, i) {
      var li = document.createElement("li");
      var btn = document.createElement("button");
      btn.type = "button";
      btn.className = "lookup";
      btn.setAttribute("data-index", String(i));
      btn.textContent = item.q + (item.line ? " \u2014 " + item.line : "");  // text only, never HTML
      btn.addEventListener("click", function () { rerun(item); });
      btn.addEventListener("keydown", function (ev) {
        var buttons = list.querySelectorAll("button.lookup");
        if (ev.key === "ArrowDown" && buttons[i + 1]) { buttons[i + 1].focus(); ev.preventDefault(); }
        if (ev.key === "ArrowUp" && buttons[i - 1]) { buttons[i - 1].focus(); ev.preventDefault(); }
      });
      li.appendChild(btn);
      list.appendChild(li);
    });
    if (empty) { empty.hidden = items.length > 0; }
  }

  document.addEventListener("keydown", function (ev) {
    if (!ev.altKey || ev.ctrlKey || ev.metaKey) { return; }
    if (ev.code === "KeyC") {
      var copy = document.getElementById("radio-copy");
      if (copy) { copy.focus(); copy.click(); ev.preventDefault(); }
    } else if (ev.code === "KeyL") {
      var first = document.querySelector("#last-lookups button.lookup");
      (first || document.getElementById("last-lookups-title")).focus();
      ev.preventDefault();
    } else if (ev.code === "KeyI") {
      input.focus();
      input.select();
      ev.preventDefault();
    }
  });

  remember();
  render();
  if (document.activeElement !== input) { input.focus(); }
})();
