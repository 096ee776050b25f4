// The student survey: answers are kept on this device as the student goes, and
// sending retries with backoff until the server acknowledges. The server stores a
// response once per client_id, so retries never duplicate.
(function () {
  "use strict";
  var form = document.getElementById("survey");
  if (!form) return;
  var key = "belonging:" + form.dataset.session;
  var statusEl = document.getElementById("send-status");
  var errorEl = document.getElementById("form-error");
  var state = load() || { client_id: form.elements.client_id.value, values: {} };
  form.elements.client_id.value = state.client_id;

  function load() {
    try { return JSON.parse(window.localStorage.getItem(key)); } catch (e) { return null; }
  }
  function save() {
    try { window.localStorage.setItem(key, JSON.stringify(state)); } catch (e) { /* private mode */ }
  }
  function restore() {
    Object.keys(state.values).forEach(function (name) {
      var field = form.elements[name];
      if (!field) return;
      if (field instanceof RadioNodeList || field.length) {
        Array.prototype.forEach.call(field, function (r) { r.checked = r.value === state.values[name]; });
      } else {
        field.value = state.values[name];
      }
    });
  }
  function remember(event) {
    var t = event.target;
    if (!t.name || t.name === "client_id" || t.name === "language") return;
    state.values[t.name] = t.value;
    save();
  }
  function payload() {
    var answers = {}, demographics = {}, v = state.values;
    Object.keys(v).forEach(function (name) {
      if (name.indexOf("item-") === 0) answers[name.slice(5)] = parseInt(v[name], 10);
      if (name.indexOf("band-") === 0) demographics[name.slice(5)] = v[name];
    });
    var body = { client_id: state.client_id, language: form.dataset.language,
                 answers: answers, demographics: demographics };
    if (v.student_number !== undefined) body.student_number = v.student_number;
    return body;
  }
  function say(text) { statusEl.textContent = text; }
  function fail(text) {
    state.pending = false; save();
    errorEl.textContent = text; errorEl.hidden = false; errorEl.focus && errorEl.focus();
    form.querySelector("button[type=submit]").disabled = false;
  }
  function send(attempt) {
    say(attempt ? form.dataset.retryText || "Saved on this device. Sending again..." : "Sending...");
    fetch(form.dataset.submitUrl, {
      method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(payload()), credentials: "omit"
    }).then(function (r) {
      if (r.status === 200 || r.status === 201) {
        window.localStorage.removeItem(key);
        window.location.assign(form.dataset.thanksUrl);
        return;
      }
      if (r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429) {
        return r.json().then(function (data) { fail(data.detail); }, function () { fail("Error " + r.status); });
      }
      retry(attempt);
    }).catch(function () { retry(attempt); });
  }
  function retry(attempt) {
    var delay = Math.min(30000, 1000 * Math.pow(2, attempt)) * (0.75 + Math.random() / 2);
    say("No connection right now. Your answers are saved on this device and will be sent automatically.");
    setTimeout(function () { send(attempt + 1); }, delay);
  }
  form.addEventListener("change", remember);
  form.addEventListener("input", remember);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    errorEl.hidden = true;
    form.querySelector("button[type=submit]").disabled = true;
    state.pending = true; save();
    send(0);
  });
  window.addEventListener("online", function () { if (state.pending) say("Back online. Sending..."); });
  restore();
  if (state.pending) { form.querySelector("button[type=submit]").disabled = true; send(0); }
})();
