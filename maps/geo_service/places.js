// Dispatcher console: place-name suggestions while typing (keyboard only: arrows + Enter; Escape closes).
// Debounced calls to /api/v1/places; the chosen place's label goes into the box and the form is sent,
// so the server locates it exactly as if it had been typed. No inline handlers (CSP).
(function () {
  "use strict";
  var input = document.getElementById("q");
  var list = document.getElementById("place-suggestions");
  var form = document.getElementById("locate-form");
  var hint = document.getElementById("hint");
  if (!input || !list || !form) { return; }
  var DEBOUNCE_MS = 180, MIN_CHARS = 3, LIMIT = 8;
  var timer = null, seq = 0, items = [], active = -1;

  // Coordinates, links and AML texts go straight to the locate button: no suggestions for them.
  function looksLikeCoordinate(text) {
    return /^\s*[-+\d]/.test(text) || (text.match(/\d/g) || []).length >= 4 || /[:\/@°]/.test(text);
  }

  function close() {
    list.hidden = true; list.innerHTML = ""; items = []; active = -1;
    input.setAttribute("aria-expanded", "false"); input.removeAttribute("aria-activedescendant");
  }

  function mark(i) {
    active = i;
    var nodes = list.querySelectorAll("li");
    for (var k = 0; k < nodes.length; k++) { nodes[k].setAttribute("aria-selected", k === i ? "true" : "false"); }
    if (i >= 0 && nodes[i]) { input.setAttribute("aria-activedescendant", nodes[i].id); nodes[i].scrollIntoView({block: "nearest"}); }
    else { input.removeAttribute("aria-activedescendant"); }
  }

  function render(data) {
    list.innerHTML = ""; items = data; active = -1;
    if (!data.length) { close(); return; }
    data.forEach(function (p, i) {
      var li = document.createElement("li");
      li.id = "place-opt-" + i; li.setAttribute("role", "option"); li.setAttribute("aria-selected", "false");
      li.className = "place-option" + (p.preferred ? " preferred" : "");
      li.dataset.label = p.label; li.dataset.code = p.code;
      var name = document.createElement("strong"); name.textContent = p.name;
      var meta = document.createElement("span"); meta.className = "code";
      meta.textContent = " " + p.kind + " · " + p.parents.map(function (x) { return x.name; }).slice(0, 2).join(", ") + " · " + p.code;
      li.appendChild(name); li.appendChild(meta);
      list.appendChild(li);
    });
    list.hidden = false; input.setAttribute("aria-expanded", "true");
  }

  function fetchSuggestions() {
    var text = input.value;
    if (text.trim().length < MIN_CHARS || looksLikeCoordinate(text)) { close(); return; }
    var mine = ++seq;
    var url = "/api/v1/places?limit=" + LIMIT + "&q=" + encodeURIComponent(text);
    if (hint && hint.value) { url += "&hint_unit=" + encodeURIComponent(hint.value); }
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (data) { if (mine === seq) { render(Array.isArray(data) ? data : []); } })
      .catch(function () { if (mine === seq) { close(); } });
  }

  function choose(i) {
    var p = items[i];
    if (!p) { return; }
    input.value = p.label;
    close();
    seq++;  // drop answers still on their way
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  }

  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", "place-suggestions");
  input.setAttribute("aria-expanded", "false");

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(fetchSuggestions, DEBOUNCE_MS);
  });
  input.addEventListener("keydown", function (ev) {
    if (list.hidden || !items.length) { return; }
    if (ev.key === "ArrowDown") { ev.preventDefault(); mark(Math.min(active + 1, items.length - 1)); }
    else if (ev.key === "ArrowUp") { ev.preventDefault(); mark(Math.max(active - 1, -1)); }
    else if (ev.key === "Enter" && active >= 0) { ev.preventDefault(); choose(active); }
    else if (ev.key === "Escape") { ev.preventDefault(); close(); }
  });
  list.addEventListener("mousedown", function (ev) {  // a pointer works too; the keyboard is enough
    var li = ev.target.closest && ev.target.closest("li");
    if (!li) { return; }
    ev.preventDefault();
    choose(Array.prototype.indexOf.call(list.children, li));
  });
  input.addEventListener("blur", function () { setTimeout(close, 150); });
})();
