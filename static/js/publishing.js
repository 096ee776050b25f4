// Live progress of a wave's publication on the school and district pages: polls the
// run's status (GET /api/v1/waves/<id>/publishing/) while it is queued or running,
// updates its bar and text, and loads the page again once it is published, so the
// dashboard link and the wave's status appear. Without JavaScript the page shows the
// run as it was when loaded.
// The API gives a run's step and error as recorded, in English; the box's data-strings
// (analytics.models.page_strings) hold the words of the page's language to show them in,
// as the server does (PublishRun.shown). Without them the line stays English.
(function () {
  "use strict";

  var ENGLISH = {
    failed: "Publishing failed: %(error)s", line: "Publishing: %(status)s %(progress)s%%",
    with_step: "%(line)s (%(step)s)", statuses: {}, steps: {}, templates: [], errors: []
  };

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s|%%/g, function (_, name) {
      return name ? values[name] : "%";
    });
  }

  // A recorded English text back to its template's translation, or null: each
  // [english, translated] template's %(name)s placeholders match the values filled in.
  function reword(text, pairs) {
    for (var i = 0; i < pairs.length; i++) {
      var names = [];
      var source = pairs[i][0].replace(/%%/g, "%").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
        .replace(/%\\\((\w+)\\\)s/g, function (_, name) { names.push(name); return "(.+?)"; });
      var match = new RegExp("^" + source + "$").exec(text);
      if (match) {
        var values = {};
        names.forEach(function (name, j) { values[name] = match[j + 1]; });
        return fill(pairs[i][1], values);
      }
    }
    return null;
  }

  function stepText(step, words) {
    return step.split(", ").map(function (part) {
      return words.steps[part] || reword(part, words.templates) || part;
    }).join(", ");
  }

  function text(run, words) {
    if (run.status === "failed") {
      return fill(words.failed, { error: reword(run.error, words.errors) || run.error });
    }
    var line = fill(words.line, { status: words.statuses[run.status] || run.status,
                                  progress: run.progress });
    return run.step ? fill(words.with_step, { line: line, step: stepText(run.step, words) })
      : line;
  }

  function wordsOf(box) {
    try {
      return JSON.parse(box.getAttribute("data-strings")) || ENGLISH;
    } catch (e) {
      return ENGLISH;  // no data-strings (or unreadable): English
    }
  }

  function render(box, run) {
    var bar = box.querySelector("progress");
    box.className = "run " + run.status;
    box.setAttribute("data-status", run.status);
    box.querySelector(".run-text").textContent = text(run, wordsOf(box));
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
