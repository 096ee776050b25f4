// Live participation count for the teacher: how many, never what.
(function () {
  "use strict";
  var el = document.getElementById("count");
  if (!el) return;
  var url = el.getAttribute("data-url");
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (data) {
          el.textContent = data.responses;
          var status = document.getElementById("status");
          // The page gives the word in its own language (data-closed); English otherwise.
          if (status && data.status === "closed") {
            status.textContent = status.getAttribute("data-closed") || "Closed";
          }
        }
      })
      .catch(function () { /* offline: keep the last count, try again */ })
      .then(function () { setTimeout(poll, 4000); });
  }
  setTimeout(poll, 4000);
})();
