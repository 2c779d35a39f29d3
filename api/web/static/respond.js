/* Respondent pages: save each answer the moment it is given (PATCH /v1/respond/{token}/answers).
   A lost connection keeps unsent answers on this device until they are sent; the page's own form
   posts them again when the person moves on, so nothing depends on this script.
   Active answering time (for the "too fast" validity flag; never shown on the page): an answer
   interval runs from the page's opening, or the previous answer, to the next answer; only time
   while the page is visible counts, and one interval counts at most data-cap seconds, so a pause,
   a closed tab or a day away adds nothing. The seconds not yet sent go with the next autosave
   (active_seconds, with an id of its own so a retry counts once) or with the form; the server adds
   them up. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosave]");
  if (!form || !window.fetch) return;
  var url = form.getAttribute("data-autosave");
  var storeKey = form.getAttribute("data-store");
  var status = document.getElementById("save-status");
  var bar = document.getElementById("progress");
  var text = document.getElementById("progress-text");
  var busy = false;
  var pending = load();
  var cap = Number(form.getAttribute("data-cap")) || 120;
  var timeKey = storeKey + "-t";
  var unsent = loadTime();  // active seconds measured here and not yet sent
  var visibleSince = document.visibilityState === "hidden" ? null : Date.now();
  var interval = 0;  // ms the page was visible in the current answer interval

  function load() {
    try { return JSON.parse(window.localStorage.getItem(storeKey) || "{}") || {}; } catch (e) { return {}; }
  }
  function keep() {
    try {
      if (Object.keys(pending).length) window.localStorage.setItem(storeKey, JSON.stringify(pending));
      else window.localStorage.removeItem(storeKey);
    } catch (e) { /* private mode: the form still posts the answers */ }
  }
  function loadTime() {
    try { return Math.max(0, Number(window.localStorage.getItem(timeKey)) || 0); } catch (e) { return 0; }
  }
  function keepTime() {
    try {
      if (unsent > 0) window.localStorage.setItem(timeKey, String(unsent));
      else window.localStorage.removeItem(timeKey);
    } catch (e) { /* private mode: the time of a lost save is lost, never invented */ }
  }
  function lap() {
    if (visibleSince === null) return;
    var t = Date.now();
    interval += Math.max(0, t - visibleSince);
    visibleSince = t;
  }
  function answered() {
    lap();
    unsent += Math.min(cap, interval / 1000);
    interval = 0;
    keepTime();
  }
  function take(answers) {  // at most cap per answer the request carries (the server's bound)
    var s = Math.floor(Math.min(unsent, cap * Math.max(1, answers)) * 10) / 10;
    unsent = Math.max(0, unsent - s);
    keepTime();
    return s;
  }
  document.addEventListener("visibilitychange", function () {
    lap();
    visibleSince = document.visibilityState === "hidden" ? null : Date.now();
  });
  function say(kind) {
    if (!status) return;
    status.textContent = kind ? status.getAttribute("data-" + kind) || "" : "";
    status.className = "save-status " + (kind || "");
  }
  var doneHere = form.querySelectorAll("fieldset.item.is-done").length;
  var base = bar ? Number(bar.value) - doneHere : 0;
  var sittingBar = document.getElementById("sitting-bar");
  var sittingText = document.getElementById("sitting-text");
  var sittingBase = sittingBar ? Number(sittingBar.value) - doneHere : 0;
  function progress() {
    if (!bar || !text) return;
    var here = form.querySelectorAll("fieldset.item.is-done").length;
    var done = base + here;
    bar.value = done;
    text.textContent = text.getAttribute("data-format").replace("{done}", done).replace("{total}", bar.max);
    if (sittingBar && sittingText) {  // the whole sitting's line moves with this instrument's
      sittingBar.value = sittingBase + here;
      sittingText.textContent = sittingText.getAttribute("data-format")
        .replace("{done}", sittingBase + here).replace("{total}", sittingBar.max);
    }
  }
  /* Outgoing saves wait in a queue kept on this device ({id, answers, active_seconds}). The head of
     the queue is sent until the server has it: a retry sends the very same save with the same id,
     so its time counts once, however often the connection drops. A busy server (503) is asked
     again after the pause it names (Retry-After). */
  var queueKey = storeKey + "-q";
  var outbox = loadQueue();
  function loadQueue() {
    try { return JSON.parse(window.localStorage.getItem(queueKey) || "[]") || []; } catch (e) { return []; }
  }
  function keepQueue() {
    try {
      if (outbox.length) window.localStorage.setItem(queueKey, JSON.stringify(outbox));
      else window.localStorage.removeItem(queueKey);
    } catch (e) { /* private mode: the form still posts the answers */ }
  }
  function newId() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    return String(Date.now()) + "-" + String(Math.random()).slice(2, 12);
  }
  function enqueue() {  // answers given since the last save become one save with its own id
    var items = Object.keys(pending);
    if (!items.length) return;
    var batch = {};
    items.forEach(function (k) { batch[k] = pending[k]; });
    outbox.push({ id: newId(), answers: batch, active_seconds: take(items.length) });
    pending = {};
    keep();
    keepQueue();
  }
  function flush(keepalive) {
    enqueue();
    if (busy || !outbox.length) return;
    busy = true;
    var save = outbox[0];
    var pause = 5000;
    say("saving");
    fetch(url, {
      method: "PATCH",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ answers: save.answers, active_seconds: save.active_seconds, increment_id: save.id }),
      credentials: "same-origin",
      keepalive: !!keepalive
    }).then(function (r) {
      if (r.status === 503 || r.status === 429) {
        pause = 1000 * (Number(r.headers.get("Retry-After")) || 5);
        throw new Error("busy");
      }
      if (r.status >= 400 && r.status < 500) {  /* submitted elsewhere, or the code was replaced */
        outbox = []; keepQueue(); window.location.reload(); return;
      }
      if (!r.ok) throw new Error(String(r.status));
      outbox.shift();
      keepQueue();
      say(outbox.length ? "saving" : "saved");
    }).catch(function () {
      say("offline");
      window.setTimeout(function () { if (status) status.className = "save-status"; flush(); }, pause);
    }).then(function () {
      busy = false;
      if ((outbox.length || Object.keys(pending).length) && status && status.className.indexOf("offline") < 0) flush();
    });
  }

  // answers given while offline on an earlier visit: show them and send them now
  var earlier = {};
  outbox.forEach(function (save) { Object.keys(save.answers).forEach(function (k) { earlier[k] = save.answers[k]; }); });
  Object.keys(pending).forEach(function (k) { earlier[k] = pending[k]; });
  Object.keys(earlier).forEach(function (item) {
    var value = earlier[item] === null ? "skip" : earlier[item];
    var input = form.querySelector('input[name="' + item + '"][value="' + value + '"]');
    if (input) {
      input.checked = true;
      input.closest("fieldset.item").classList.add("is-done");
    }
  });
  progress();

  form.addEventListener("change", function (e) {
    var input = e.target;
    if (!input || input.type !== "radio") return;
    var fs = input.closest("fieldset.item");
    if (!fs) return;
    fs.classList.add("is-done");
    answered();
    pending[input.name] = input.value === "skip" ? null : input.value;
    keep();
    progress();
    flush();
  });
  function hidden(name) {
    var field = form.querySelector('input[name="' + name + '"]');
    if (!field) {
      field = document.createElement("input");
      field.type = "hidden";
      field.name = name;
      form.appendChild(field);
    }
    return field;
  }
  var leaving = false;
  form.addEventListener("submit", function (e) {  // the form carries the time not sent yet, with its own id
    if (leaving) return;
    leaving = true;
    enqueue();
    hidden("active_seconds").value = String(take(form.querySelectorAll("fieldset.item").length));
    hidden("increment_id").value = newId();
    if (!outbox.length) return;
    // saves still waiting here go first (the same ids: what the server has already counts once)
    e.preventDefault();
    if (e.submitter && e.submitter.name) {
      hidden(e.submitter.name).value = e.submitter.value;
    }
    var sent = false;
    var go = function () { if (!sent) { sent = true; form.submit(); } };
    var sends = outbox.slice().map(function (save) {
      return fetch(url, {
        method: "PATCH",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ answers: save.answers, active_seconds: save.active_seconds, increment_id: save.id }),
        credentials: "same-origin",
        keepalive: true
      }).then(function (r) {
        if (r.ok) { outbox = outbox.filter(function (x) { return x.id !== save.id; }); keepQueue(); }
      }, function () { /* still offline: it stays queued on this device */ });
    });
    Promise.all(sends).then(go, go);
    window.setTimeout(go, 3000);
  });
  window.addEventListener("online", function () { flush(); });
  window.addEventListener("pagehide", function () { flush(true); });
  flush();
})();
