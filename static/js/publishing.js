// Live progress of a wave's publication on the school and district pages: polls the
// run's status (GET /api/v1/waves/<id>/publishing/) while it is queued or running,
// updates its bar and text, and loads the page again once it is published, so the
// dashboard link and the wave's status appear. Without JavaScript the page shows the
// run as it was when loaded.
(function () {
  "use strict";

  function text(run) {
    if (run.status === "failed") return "Publishing failed: " + run.error;
    var line = "Publishing: " + run.status + " " + run.progress + "%";
    return run.step ? line + " (" + run.step + ")" : line;
  }

  function render(box, run) {
    var bar = box.querySelector("progress");
    box.className = "run " + run.status;
    box.setAttribute("data-status", run.status);
    box.querySelector(".run-text").textContent = text(run);
    if (bar) {
      bar.value = run.progress;
      bar.textContent = run.progress + "%";
      bar.hidden = run.status === "failed";
    }
  }

  // The page again by GET (never a reload, which would send a form posted to it again).
  function reopen() {
    window.location.replace(window.location.pathname + window.location.search);
  }

  function watch(box) {
    var url = box.getAttribute("data-status-url");
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (run) {
          if (!run) return;
          if (run.status === "done") { reopen(); return; }
          render(box, run);
          if (run.status === "queued" || run.status === "running") setTimeout(poll, 2000);
        })
        .catch(function () { setTimeout(poll, 5000); /* offline: try again */ });
    }
    setTimeout(poll, 1000);
  }

  var boxes = document.querySelectorAll(".run[data-status-url]");
  for (var i = 0; i < boxes.length; i++) {
    var status = boxes[i].getAttribute("data-status");
    if (status === "queued" || status === "running") watch(boxes[i]);
  }
})();
