// Khiu web pages: small, hand-written, no library. Every page works without it; with it, forms cannot be
// sent twice, the reference field shows only for forwarded cases, and the console's waiting list stays fresh.
"use strict";

(function () {
  // A form marked `once` is sent once: a second click while the page loads does nothing. (The server also
  // answers a resent form with the first answer: each action carries its own event id.)
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    if (form.classList.contains("once")) {
      if (form.dataset.sent === "1") {
        event.preventDefault();
        return;
      }
      form.dataset.sent = "1";
      window.setTimeout(function () {
        form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      }, 0);
    }
  });

  // The agency reference only matters when the outcome is "forwarded".
  function syncReference(form) {
    var field = form.querySelector("[data-show-for-outcome]");
    if (!field) return;
    var chosen = form.querySelector("input[name=outcome]:checked");
    field.hidden = !chosen || chosen.value !== field.getAttribute("data-show-for-outcome");
  }
  document.querySelectorAll(".complete-form").forEach(function (form) {
    syncReference(form);
    form.addEventListener("change", function () { syncReference(form); });
  });

  // Forms the user has started to fill: the console must not reload under their fingers.
  var dirty = false;
  document.addEventListener("input", function (event) {
    if (event.target instanceof HTMLElement && event.target.closest("form")) dirty = true;
  });

  var consoleEl = document.querySelector("[data-live]");
  if (!consoleEl) return;
  var url = consoleEl.getAttribute("data-live");
  var fingerprint = consoleEl.getAttribute("data-fingerprint");
  var every = Math.max(2, parseInt(consoleEl.getAttribute("data-poll") || "4", 10)) * 1000;
  var rows = document.getElementById("waiting-rows");
  var count = document.getElementById("waiting-count");
  var status = document.getElementById("live-status");
  var banner = document.getElementById("state-changed");

  function cell(tr, value, className) {
    var td = document.createElement("td");
    td.textContent = value;
    if (className) td.className = className;
    tr.appendChild(td);
  }

  function drawWaiting(list) {
    var body = document.createElement("tbody");
    body.id = rows.id;
    body.setAttribute("data-empty", rows.getAttribute("data-empty"));
    if (list.length === 0) {
      var empty = document.createElement("tr");
      empty.className = "empty";
      var td = document.createElement("td");
      td.colSpan = 3;
      td.textContent = rows.getAttribute("data-empty");
      empty.appendChild(td);
      body.appendChild(empty);
    }
    list.forEach(function (t) {
      var tr = document.createElement("tr");
      if (t.priority) tr.className = "is-priority";
      cell(tr, t.number, "number");
      cell(tr, t.service);
      if (t.priority) {
        var pill = document.createElement("span");
        pill.className = "pill priority";
        pill.textContent = t.priority;
        tr.lastChild.appendChild(document.createTextNode(" "));
        tr.lastChild.appendChild(pill);
      }
      cell(tr, String(t.waited_min), "num");
      body.appendChild(tr);
    });
    rows.replaceWith(body);
    rows = body;
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.status === 401) {
          window.location.reload(); // the session ended: the server shows the login page
          return null;
        }
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (state) {
        if (!state) return;
        drawWaiting(state.waiting);
        count.textContent = state.waiting_label;
        status.classList.remove("offline");
        status.textContent = status.getAttribute("data-updated").replace("{time}", state.updated);
        if (state.fingerprint !== fingerprint) {
          // The counter changed elsewhere (the counter terminal, another browser): redraw the buttons,
          // unless staff are typing, then ask.
          if (dirty) banner.hidden = false;
          else window.location.reload();
        }
      })
      .catch(function () {
        status.classList.add("offline");
        status.textContent = status.getAttribute("data-offline");
      })
      .then(function () { window.setTimeout(poll, every); });
  }

  window.setTimeout(poll, every);
})();
