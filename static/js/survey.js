// The student survey, progressively enhanced.
//
// Without this script the form shows every question on one page and posts to the
// server. With it: one page at a time (the notice and the questions about the
// student, then a few items per page, then a review), answers kept on this device
// (localStorage, keyed by session) as the student goes, so a reload or a language
// switch resumes at the same page with the same answers and the same response id.
// Sending retries with exponential backoff until the server acknowledges; the
// server stores a response once per client_id, so retries never duplicate.
// Strings come translated from the page (json_script "survey-strings").
(function () {
  "use strict";
  var form = document.getElementById("survey");
  if (!form || !form.querySelectorAll) return;

  var STALE_MS = 12 * 60 * 60 * 1000;  // unsent answers older than this are dropped
  var TIMEOUT_MS = 20000;
  var T = readStrings();
  var storeKey = "belonging:" + form.getAttribute("data-session");
  var lang = document.documentElement.lang || form.getAttribute("data-language") || "en";
  var pages = toArray(form.querySelectorAll("section.page"));
  var questions = toArray(form.querySelectorAll("fieldset.question"));
  var el = {
    progress: byId("progress"), progressText: byId("progress-text"), bar: byId("progress-bar"),
    pager: byId("pager"), back: byId("back"), next: byId("next"), submitRow: byId("submit-row"),
    send: byId("send"), status: byId("send-status"), error: byId("form-error"),
    reviewList: byId("review-list"), reviewSummary: byId("review-summary"),
    resume: byId("resume"), startOver: byId("start-over"),
    readControls: byId("read-controls"), readToggle: byId("read-aloud"),
    number: byId("student_number")
  };
  var current = 0, attempt = 0, timer = null, inflight = false;

  // ---- state kept on this device -------------------------------------------------
  function readStrings() {
    var node = document.getElementById("survey-strings");
    try { return JSON.parse(node.textContent); } catch (e) { return {}; }
  }
  function byId(id) { return document.getElementById(id); }
  function toArray(list) { return Array.prototype.slice.call(list); }
  function fmt(text, values) {
    return String(text || "").replace(/%\((\w+)\)s/g, function (m, k) {
      return values[k] === undefined ? m : values[k];
    });
  }
  var UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

  // A version 4 UUID. crypto.randomUUID exists only in secure contexts (https or
  // localhost), and schools often serve over http on a LAN: fall back to
  // getRandomValues, and last to the id the server put in the page.
  function newId() {
    var c = window.crypto || window.msCrypto;
    if (c && typeof c.randomUUID === "function") {
      try { return c.randomUUID(); } catch (e) { /* not a secure context */ }
    }
    if (c && typeof c.getRandomValues === "function") {
      var b = new Uint8Array(16), h = [], i;
      c.getRandomValues(b);
      b[6] = (b[6] & 0x0f) | 0x40;
      b[8] = (b[8] & 0x3f) | 0x80;
      for (i = 0; i < 16; i++) h.push((b[i] + 0x100).toString(16).slice(1));
      return [h.slice(0, 4).join(""), h.slice(4, 6).join(""), h.slice(6, 8).join(""),
              h.slice(8, 10).join(""), h.slice(10).join("")].join("-");
    }
    return form.elements.client_id.value;
  }
  function fresh() {
    return { client_id: newId(), values: {}, page: 0, pending: false, payload: null,
             saved_at: Date.now() };
  }
  function load() {
    var s;
    try { s = JSON.parse(window.localStorage.getItem(storeKey)); } catch (e) { return null; }
    if (!s || typeof s !== "object" || !UUID_RE.test(s.client_id || "")) return null;
    if (!s.values || typeof s.values !== "object") s.values = {};
    // On a shared device, a stale unfinished survey is not shown to the next student;
    // answers waiting to be sent are never dropped.
    if (!s.pending && Date.now() - (s.saved_at || 0) > STALE_MS) return null;
    return s;
  }
  function save() {
    state.saved_at = Date.now();
    try { window.localStorage.setItem(storeKey, JSON.stringify(state)); } catch (e) { /* private mode */ }
  }
  function forget() {
    try { window.localStorage.removeItem(storeKey); } catch (e) { /* private mode */ }
  }

  var state = load();
  var resumed = !!(state && (Object.keys(state.values).length || state.page));
  if (!state) state = fresh();
  form.elements.client_id.value = state.client_id;
  save();

  // Answers the server rendered (a refused no-JS post shown again) join the state.
  // Only the markup's own defaults count, not what the browser restored on reload:
  // an answer the student cleared must stay cleared.
  function adopt() {
    toArray(form.querySelectorAll("input[type=radio]")).forEach(function (r) {
      if (r.defaultChecked && state.values[r.name] === undefined) state.values[r.name] = r.value;
    });
    if (el.number && el.number.defaultValue && state.values.student_number === undefined) {
      state.values.student_number = el.number.defaultValue;
    }
    save();
  }
  function restore() {
    questions.forEach(function (fs) {
      radios(fs).forEach(function (r) { r.checked = state.values[r.name] === r.value; });
      updateClear(fs);
    });
    if (el.number) el.number.value = state.values.student_number || "";
  }
  function sameId(a, b) { return String(a || "").toLowerCase() === String(b || "").toLowerCase(); }
  function radios(fs) { return toArray(fs.querySelectorAll("input[type=radio]")); }
  function remember(event) {
    var t = event.target;
    if (!t.name || t.name === "client_id" || t.name === "language") return;
    if (t.type === "radio" && !t.checked) return;
    state.values[t.name] = t.value;
    save();
    var fs = t.closest && t.closest("fieldset.question");
    if (fs) updateClear(fs);
  }
  function updateClear(fs) {
    var button = fs.querySelector("button.clear");
    if (button) button.hidden = !fs.querySelector("input[type=radio]:checked");
  }
  function clearAnswer(fs) {
    radios(fs).forEach(function (r) { r.checked = false; delete state.values[r.name]; });
    save();
    updateClear(fs);
    var first = fs.querySelector("input[type=radio]");
    if (first) first.focus();
  }

  // ---- pages ---------------------------------------------------------------------
  function pageOf(node) {
    for (var i = 0; i < pages.length; i++) if (pages[i].contains(node)) return i;
    return 0;
  }
  function isReview(i) { return i === pages.length - 1; }
  function show(i, options) {
    options = options || {};
    current = Math.max(0, Math.min(pages.length - 1, i | 0));
    state.page = current;
    save();
    pages.forEach(function (p, j) { p.hidden = j !== current; });
    var n = current + 1;
    el.progressText.textContent = fmt(T.page, { n: n, total: pages.length });
    el.bar.value = n;
    el.bar.max = pages.length;
    el.back.hidden = current === 0;
    el.next.hidden = isReview(current);
    el.next.textContent = current === pages.length - 2 ? T.check : T.next;
    el.send.hidden = !isReview(current);
    if (isReview(current)) buildReview();
    stopSpeaking();
    if (options.focus) {
      el.resume.hidden = true;
      window.scrollTo(0, 0);
      var target = options.focus === true ? pages[current].querySelector("h2") : options.focus;
      try { target.focus({ preventScroll: options.focus === true }); } catch (e) { target.focus(); }
      if (readAloudOn() && !isReview(current) && options.focus === true) speakPage(pages[current]);
    }
  }
  function next() {
    if (current === 0 && !checkNumber()) return;
    hideError();
    show(current + 1, { focus: true });
  }
  function back() { hideError(); show(current - 1, { focus: true }); }
  function checkNumber() {
    if (!el.number) return true;
    var hint = "student_number-hint";
    if (el.number.value.trim()) {
      el.number.removeAttribute("aria-invalid");
      el.number.setAttribute("aria-describedby", hint);
      return true;
    }
    el.number.setAttribute("aria-invalid", "true");
    el.number.setAttribute("aria-describedby", "form-error " + hint);
    showError(T.need_number, el.number);
    return false;
  }

  // ---- review --------------------------------------------------------------------
  function legendText(fs) {
    var t = fs.querySelector("legend .text");
    return (t || fs.querySelector("legend")).textContent.trim();
  }
  function numbered(fs) {
    var num = fs.querySelector("legend .num");
    return (num ? num.textContent.trim() + " " : "") + legendText(fs);
  }
  function checkedLabel(input) {
    var label = input.closest ? input.closest("label") : input.parentNode;
    var span = label && label.querySelector(".label");
    return span ? span.textContent.trim() : input.value;
  }
  function buildReview() {
    var list = el.reviewList, items = 0, skipped = 0;
    while (list.firstChild) list.removeChild(list.firstChild);
    if (el.number) {
      addRow(list, T.student_number, el.number.value.trim() || T.not_answered,
             !el.number.value.trim(), null, el.number);
    }
    questions.forEach(function (fs) {
      var checked = fs.querySelector("input[type=radio]:checked");
      var isItem = fs.classList.contains("item");
      if (isItem) { items++; if (!checked) skipped++; }
      var face = checked && checked.parentNode.querySelector("svg.face");
      addRow(list, numbered(fs), checked ? checkedLabel(checked)
             : (isItem ? T.skipped : T.not_answered), !checked, face, fs);
    });
    var summary = fmt(T.answered, { n: items - skipped, total: items });
    if (skipped) summary += " " + fmt(T.skipped_count, { n: skipped });
    el.reviewSummary.textContent = summary;
  }
  function addRow(list, question, answer, empty, face, target) {
    var li = document.createElement("li");
    if (empty) li.className = "empty";
    var q = document.createElement("p");
    q.className = "q";
    q.textContent = question;
    var a = document.createElement("p");
    a.className = "a";
    if (face) a.appendChild(face.cloneNode(true));
    var text = document.createElement("span");
    text.textContent = answer;
    a.appendChild(text);
    var button = document.createElement("button");
    button.type = "button";
    button.className = "secondary change";
    button.textContent = T.change;
    var hint = document.createElement("span");
    hint.className = "sr-only";
    hint.textContent = ": " + question;
    button.appendChild(hint);
    button.addEventListener("click", function () {
      if (state.pending) return;
      var focus = target.tagName === "FIELDSET"
        ? (target.querySelector("input:checked") || target.querySelector("input")) : target;
      show(pageOf(target), { focus: focus });
    });
    var row = document.createElement("div");
    row.className = "row";
    row.appendChild(a);
    row.appendChild(button);
    li.appendChild(q);
    li.appendChild(row);
    list.appendChild(li);
  }

  // ---- read aloud (the browser's own speech; nothing leaves the device) ----------
  var synth = window.speechSynthesis;
  var canSpeak = !!(synth && window.SpeechSynthesisUtterance);
  function readAloudOn() { return canSpeak && el.readToggle && el.readToggle.checked; }
  function setReadAloud(on, remember) {
    el.readToggle.checked = on;
    toArray(form.querySelectorAll("button.speak")).forEach(function (b) { b.hidden = !on; });
    if (remember) { state.read_aloud = on; save(); }
    if (!on) stopSpeaking();
  }
  function voice() {
    var voices = synth.getVoices ? synth.getVoices() : [], base = lang.toLowerCase().split("-")[0];
    var match = voices.filter(function (v) {
      return (v.lang || "").toLowerCase().replace("_", "-").split("-")[0] === base;
    });
    return match.filter(function (v) { return v.localService; })[0] || match[0] || null;
  }
  function textOf(node) {
    if (node.tagName !== "FIELDSET") {
      return toArray(node.querySelectorAll("li, p")).map(function (n) {
        return n.textContent.trim();
      }).join(" ");
    }
    var parts = [];
    var page = pages[pageOf(node)], stem = page.querySelector(".stem");
    var first = page.querySelector("fieldset.question");
    if (stem && first === node) parts.push(stem.textContent.trim());
    parts.push(legendText(node));
    var options = toArray(node.querySelectorAll("label .label")).map(function (s) {
      return s.textContent.trim();
    });
    return parts.join(" ") + " " + options.join(". ") + ".";
  }
  function speak(texts) {
    if (!canSpeak) return;
    stopSpeaking();
    var v = voice();
    texts.forEach(function (text) {
      var u = new window.SpeechSynthesisUtterance(text);
      u.lang = lang;
      if (v) u.voice = v;
      synth.speak(u);
    });
  }
  function speakPage(page) {
    var nodes = toArray(page.querySelectorAll("fieldset.item"));
    if (!nodes.length) { var notice = page.querySelector("#notice"); if (notice) nodes = [notice]; }
    speak(nodes.map(textOf));
  }
  function stopSpeaking() { if (canSpeak) synth.cancel(); }

  // ---- errors and status ---------------------------------------------------------
  function say(text) { el.status.textContent = text || ""; }
  function showError(text, field) {
    el.error.textContent = text;
    el.error.hidden = false;
    if (field) {
      show(pageOf(field), {});
      var input = field.tagName === "FIELDSET" ? field.querySelector("input") : field;
      (input || el.error).focus();
    } else {
      el.error.focus();
    }
  }
  function hideError() { el.error.hidden = true; el.error.textContent = ""; }
  function fieldNode(name) {
    if (!name) return null;
    if (name === "student_number") return el.number;
    return byId("band-" + name) || form.querySelector("fieldset.item[data-key='" +
      String(name).replace(/['\\]/g, "") + "']");
  }

  // ---- sending -------------------------------------------------------------------
  function payload() {
    var answers = {}, demographics = {}, v = state.values;
    Object.keys(v).forEach(function (name) {
      if (name.indexOf("item-") === 0) answers[name.slice(5)] = parseInt(v[name], 10);
      if (name.indexOf("band-") === 0) demographics[name.slice(5)] = v[name];
    });
    var body = { client_id: state.client_id, language: form.getAttribute("data-language"),
                 answers: answers, demographics: demographics };
    if (el.number) body.student_number = (v.student_number || "").trim();
    return body;
  }
  function lock(on) {
    form.classList.toggle("sending", on);
    el.send.disabled = on;
    el.back.disabled = on;
    toArray(form.querySelectorAll("button.change")).forEach(function (b) { b.disabled = on; });
  }
  function submit() {
    if (state.pending) return;
    if (!checkNumber()) return;
    hideError();
    state.pending = true;
    state.payload = payload();  // what is sent never changes between retries
    save();
    lock(true);
    attempt = 0;
    send();
  }
  function send() {
    clearTimeout(timer);
    timer = null;
    if (inflight || !state.pending) return;
    inflight = true;
    say(attempt ? T.retrying : T.sending);
    var controller = window.AbortController ? new window.AbortController() : null;
    var abort = controller && setTimeout(function () { controller.abort(); }, TIMEOUT_MS);
    var init = {
      method: "POST", credentials: "omit", cache: "no-store",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(state.payload)
    };
    if (controller) init.signal = controller.signal;
    window.fetch(form.getAttribute("data-submit-url"), init).then(function (r) {
      return r.json().then(function (data) { return [r.status, data]; },
                           function () { return [r.status, null]; });
    }).then(function (result) {
      clearTimeout(abort);
      inflight = false;
      var status = result[0], data = result[1] || {};
      if ((status === 200 || status === 201) && sameId(data.client_id, state.client_id)) {
        done();
      } else if (status >= 400 && status < 500 && status !== 408 && status !== 429 && data.detail) {
        fail(data.detail, fieldNode(data.field));
      } else if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
        fail(fmt(T.error, { status: status }));
      } else {
        retry();  // 5xx, 408, 429, or a proxy's page that is not our acknowledgment
      }
    }, function () {
      clearTimeout(abort);
      inflight = false;
      retry();
    });
  }
  function retry() {
    var delay = Math.min(30000, 1000 * Math.pow(2, attempt)) * (0.75 + Math.random() / 2);
    attempt++;
    say(navigator.onLine === false ? T.offline : T.retrying);
    timer = setTimeout(send, delay);
  }
  function done() {
    state.pending = false;
    forget();
    say(T.sent);
    window.location.assign(form.getAttribute("data-thanks-url"));
  }
  function fail(text, field) {
    state.pending = false;
    state.payload = null;
    save();
    lock(false);
    say("");
    showError(text, field);
  }

  // ---- wiring --------------------------------------------------------------------
  form.noValidate = true;  // the script checks, page by page; the server checks again
  form.classList.add("paged");
  el.pager.appendChild(el.send);  // Send sits beside Back on the review page
  el.submitRow.hidden = true;
  el.progress.hidden = false;
  el.pager.hidden = false;
  form.addEventListener("change", remember);
  form.addEventListener("input", remember);
  form.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button");
    if (!button) return;
    if (button.classList.contains("clear")) clearAnswer(button.closest("fieldset"));
    if (button.classList.contains("speak")) {
      speak([textOf(byId(button.getAttribute("data-speak")))]);
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (isReview(current)) submit(); else next();  // Enter in a field moves on
  });
  el.next.addEventListener("click", next);
  el.back.addEventListener("click", back);
  el.startOver.addEventListener("click", function () {
    var keep = state.read_aloud;
    state = fresh();
    if (keep !== undefined) state.read_aloud = keep;
    form.elements.client_id.value = state.client_id;
    save();
    restore();
    hideError();
    show(0, { focus: true });
  });
  if (canSpeak && el.readToggle) {
    el.readControls.hidden = false;
    setReadAloud(state.read_aloud !== undefined ? !!state.read_aloud
                 : form.getAttribute("data-read-aloud") === "true", false);
    el.readToggle.addEventListener("change", function () {
      setReadAloud(el.readToggle.checked, true);
    });
  }
  window.addEventListener("online", function () {
    if (!state.pending) { say(""); return; }
    say(T.back_online);
    attempt = 0;
    send();
  });
  window.addEventListener("offline", function () {
    say(state.pending ? T.offline : T.offline_answering);
  });
  document.addEventListener("visibilitychange", function () {
    // A phone woken up, or the tab shown again: try at once rather than at the next backoff.
    if (document.visibilityState === "visible" && state.pending && !inflight) {
      attempt = 0;
      send();
    }
  });
  window.addEventListener("beforeunload", function (event) {
    if (!state.pending) return;  // unsent answers: ask before leaving (they stay saved)
    event.preventDefault();
    event.returnValue = "";
  });

  adopt();
  restore();
  if (el.error.hidden === false && el.error.textContent.trim()) {
    show(0, {});  // a refused no-JS post: show the message from the top
  } else {
    show(state.pending ? pages.length - 1 : (state.page || 0), {});
  }
  if (resumed && !state.pending) el.resume.hidden = false;
  if (state.pending) { lock(true); send(); }
})();
