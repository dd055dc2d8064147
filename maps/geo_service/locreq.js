// Console: "ask the caller for their location" (issue 15) and the live panel of the answer.
// Polling: wait=0 every POLL_MS until the caller opens the link, then long polls (wait=20 s, the
// server's bound) while the phone is looking for its position, so a sync worker is held only then.
(function () {
  "use strict";
  var box = document.getElementById("locreq");
  if (!box) { return; }
  var T = JSON.parse(box.getAttribute("data-t")), lang = box.getAttribute("data-lang") || "id";
  var POLL_MS = 3000, LONG_S = 20;
  var $ = function (id) { return document.getElementById(id); };
  var current = null, version = "", received = null, ticker = null;

  function text(el, value) { el.textContent = value === null || value === undefined ? "" : String(value); }

  function age(state) {
    var fix = state.location && state.location.fix;
    if (!fix || fix.age_s_at_receipt === null || !state.received_at) { return null; }
    return Math.max(0, Math.round(fix.age_s_at_receipt + (Date.now() - Date.parse(state.received_at)) / 1000));
  }

  function showFix(state) {
    var fix = state.location && state.location.fix, parts = [];
    if (state.source) { parts.push(T.source + ": " + state.source); }
    if (fix && fix.accuracy_m !== null) { parts.push(T.accuracy + ": \u00b1" + Math.round(fix.accuracy_m) + " m"); }
    var a = age(state);
    if (a !== null) { parts.push(T.age + ": " + (a < 120 ? a + " s" : Math.round(a / 60) + " min")); }
    if (state.text) { parts.push(T.typed + ": \u201c" + state.text + "\u201d"); }
    text($("locreq-fix"), parts.join(" \u00b7 "));
  }

  function render(state) {
    var status = state.status, label = T[status] || status;
    if (status === "waiting" && state.opened_at) { label = T.opened; }
    $("locreq-status").setAttribute("data-status", status);
    text($("locreq-status"), label);
    var loc = state.location, juris = (loc && loc.jurisdiction) || {}, dl = $("locreq-juris"), names = [];
    dl.innerHTML = "";
    ["polsek", "polres", "polda"].forEach(function (lvl) {
      if (!juris[lvl]) { return; }
      names.push(juris[lvl].name);
      var dt = document.createElement("dt"), dd = document.createElement("dd");
      text(dt, lvl.charAt(0).toUpperCase() + lvl.slice(1)); text(dd, juris[lvl].name + " " + juris[lvl].code);
      dl.appendChild(dt); dl.appendChild(dd);
    });
    text($("locreq-summary"), loc && loc.point ? loc.point.lat.toFixed(6) + ", " + loc.point.lon.toFixed(6) +
         (names.length ? " \u2014 " + names.join(", ") : "") : "");
    var ul = $("locreq-flags");
    ul.innerHTML = "";
    ((loc && loc.flags) || []).forEach(function (f) {
      var li = document.createElement("li"), code = document.createElement("code");
      text(code, f.code); li.appendChild(code); li.appendChild(document.createTextNode(" " + (f.message || "")));
      ul.appendChild(li);
    });
    showFix(state);
    if (status === "received" && loc && loc.point && received !== state.id) {
      received = state.id;
      var frame = $("map");
      if (frame) {
        frame.removeAttribute("srcdoc");
        frame.setAttribute("src", "/location-requests/" + encodeURIComponent(state.id) + "/map?lang=" + lang);
      }
      if (!ticker) { ticker = setInterval(function () { showFix(state); }, 1000); }
    }
  }

  function poll(id) {
    if (id !== current) { return; }
    var wait = box.getAttribute("data-opened") === "1" ? LONG_S : 0, started = Date.now();
    var url = "/api/v1/location-requests/" + encodeURIComponent(id) + "?lang=" + lang + "&wait=" + wait +
              (version ? "&since=" + encodeURIComponent(version) : "");
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}}).then(function (r) {
      if (!r.ok) { throw new Error(String(r.status)); }
      return r.json();
    }).then(function (state) {
      if (id !== current) { return; }
      var before = version;
      version = state.version;
      if (state.opened_at) { box.setAttribute("data-opened", "1"); }
      render(state);
      if (state.status === "received" || state.status === "expired") { return; }
      // Ask again at once only after a real long poll (a quick answer without news means the
      // server had no long-poll slot free, or the caller has not opened the link yet).
      var held = wait > 0 && Date.now() - started > 1000;
      setTimeout(function () { poll(id); }, held || state.version !== before ? 0 : POLL_MS);
    }).catch(function () {
      setTimeout(function () { poll(id); }, POLL_MS * 2);  // network or server trouble: back off, keep going
    });
  }

  // Cookie-session writes under /api/ need this page's CSRF token (and the browser's same-origin Origin).
  function csrfToken() {
    var field = document.querySelector("input[name=csrf_token]");
    return field ? field.value : "";
  }

  $("locreq-create").addEventListener("click", function () {
    var phone = $("locreq-phone").value.trim(), body = {lang: $("locreq-lang").value};
    if (phone) { body.phone = phone; }
    $("locreq-create").disabled = true;
    fetch("/api/v1/location-requests", {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrfToken()},
      body: JSON.stringify(body)})
      .then(function (r) { return r.json().then(function (j) { return {ok: r.ok, body: j}; }); })
      .then(function (res) {
        $("locreq-create").disabled = false;
        if (!res.ok) { text($("locreq-status"), T.failed + ": " + (res.body.detail || "")); $("locreq-out").hidden = false; return; }
        var lr = res.body, full = window.location.origin + lr.url;
        current = lr.id; version = ""; received = null; box.removeAttribute("data-opened");
        if (ticker) { clearInterval(ticker); ticker = null; }
        box.setAttribute("data-request-id", lr.id);
        text($("locreq-code"), lr.short_code);
        text($("locreq-expires"), new Date(lr.expires_at).toLocaleTimeString());
        $("locreq-url").setAttribute("href", lr.url); text($("locreq-url"), full);
        $("locreq-sms").value = lr.sms_text;
        $("locreq-copy").setAttribute("data-copy", lr.sms_text);
        $("locreq-qr").setAttribute("src", lr.qr_svg);
        var digits = (lr.phone || "").replace(/[^0-9+]/g, "");
        $("locreq-sms-link").hidden = !digits; $("locreq-wa-link").hidden = !digits;
        if (digits) {
          $("locreq-sms-link").setAttribute("href", "sms:" + digits + "?body=" + encodeURIComponent(lr.sms_text));
          $("locreq-wa-link").setAttribute("href", "https://wa.me/" + digits.replace(/^\+/, "").replace(/^0/, "62") +
                                           "?text=" + encodeURIComponent(lr.sms_text));
        }
        $("locreq-out").hidden = false;
        render({id: lr.id, status: "waiting", location: null});
        poll(lr.id);
      })
      .catch(function () { $("locreq-create").disabled = false; text($("locreq-status"), T.failed); });
  });
})();
