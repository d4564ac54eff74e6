// The dashboard's two live parts, hand-written, no library: the today page refreshes itself from
// /dashboard/today.json, and an export's progress page follows its job until the file is ready.
"use strict";

(function () {
  function getJson(url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.status === 401) {
          window.location.reload(); // the session ended: the server shows the login page
          return null;
        }
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      });
  }

  // Today: swap in the freshly rendered live part; say when the server cannot be reached.
  var live = document.getElementById("live");
  if (live) {
    var url = live.getAttribute("data-live");
    var every = Math.max(2, parseInt(live.getAttribute("data-poll") || "8", 10)) * 1000;
    var status = document.getElementById("live-status");
    var poll = function () {
      if (document.hidden) {
        window.setTimeout(poll, every);
        return;
      }
      getJson(url)
        .then(function (state) {
          if (!state) return;
          live.innerHTML = state.html;
          status.classList.remove("offline");
          status.textContent = status.getAttribute("data-updated").replace("{time}", state.updated);
        })
        .catch(function () {
          status.classList.add("offline");
          status.textContent = status.getAttribute("data-offline");
        })
        .then(function () { window.setTimeout(poll, every); });
    };
    window.setTimeout(poll, every);
  }

  // An export: follow the job, then offer (and start) the download.
  var job = document.querySelector("[data-progress]");
  if (job) {
    var progressUrl = job.getAttribute("data-progress");
    var heading = document.getElementById("export-heading");
    var bar = document.getElementById("export-bar");
    var label = document.getElementById("export-label");
    var done = document.getElementById("export-done");
    var failed = document.getElementById("export-failed");
    var follow = function () {
      getJson(progressUrl)
        .then(function (state) {
          if (!state) return;
          bar.value = state.percent;
          if (state.state === "done") {
            heading.textContent = heading.getAttribute("data-done");
            done.hidden = false;
            bar.value = 100;
            label.hidden = true;
            return;
          }
          if (state.state === "failed") {
            failed.hidden = false;
            label.hidden = true;
            return;
          }
          label.textContent = state.label;
          window.setTimeout(follow, 400);
        })
        .catch(function () { window.setTimeout(follow, 2000); });
    };
    if (done.hidden && failed.hidden) window.setTimeout(follow, 300);
  }
})();
