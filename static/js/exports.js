// Live progress of the researcher's export jobs: polls each unfinished job's status
// and updates its progress bar, state, error and download link without a reload.
(function () {
  "use strict";
  // English by default; the table carries the page's words (data-label-*, data-download).
  var LABELS = { created: "Waiting to start", running: "Running", done: "Ready", failed: "Failed" };
  var DOWNLOAD = "Download {name}";
  var FILE = "file";
  var table = document.getElementById("jobs");
  if (table) {
    Object.keys(LABELS).forEach(function (key) {
      LABELS[key] = table.getAttribute("data-label-" + key) || LABELS[key];
    });
    DOWNLOAD = table.getAttribute("data-download") || DOWNLOAD;
    FILE = table.getAttribute("data-file") || FILE;
  }

  function render(row, job) {
    var bar = row.querySelector("progress");
    var state = row.querySelector(".job-state");
    var error = row.querySelector(".job-error");
    var link = row.querySelector(".job-download");
    row.setAttribute("data-status", job.status);
    bar.value = job.status === "done" ? 100 : job.progress;
    bar.textContent = bar.value + "%";
    state.textContent = LABELS[job.status] + (job.status === "running" && job.step ? ": " + job.step : "");
    if (job.error) { error.textContent = job.error; error.hidden = false; }
    if (job.status === "done") {
      var name = job.file_name || FILE;
      link.textContent = DOWNLOAD.replace("{name}", function () { return name; });
      link.hidden = false;
    }
  }

  function watch(row) {
    var url = row.getAttribute("data-status-url");
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (job) {
          if (job) render(row, job);
          if (job && (job.status === "created" || job.status === "running")) setTimeout(poll, 2000);
        })
        .catch(function () { setTimeout(poll, 5000); /* offline: try again */ });
    }
    setTimeout(poll, 1000);
  }

  var rows = document.querySelectorAll("tr.job");
  for (var i = 0; i < rows.length; i++) {
    var status = rows[i].getAttribute("data-status");
    if (status === "created" || status === "running") watch(rows[i]);
  }
})();
