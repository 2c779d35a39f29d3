/* Respondent pages: save each answer the moment it is given (PATCH /v1/respond/{token}/answers).
   A lost connection keeps unsent answers on this device until they are sent; the page's own form
   posts them again when the person moves on, so nothing depends on this script.
   Active answering time (for the "too fast" validity flag; never shown on the page): an answer
   interval runs from the page's opening, or the previous answer, to the next answer; only time
   while the page is visible counts, and one interval counts at most data-cap seconds, so a pause,
   a closed tab or a day away adds nothing. The seconds not yet sent go with the next autosave
   (active_seconds) or with the form; the server adds them up. */
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
  function progress() {
    if (!bar || !text) return;
    var done = base + form.querySelectorAll("fieldset.item.is-done").length;
    bar.value = done;
    text.textContent = text.getAttribute("data-format").replace("{done}", done).replace("{total}", bar.max);
  }
  function flush(keepalive) {
    var items = Object.keys(pending);
    if (busy || !items.length) return;
    busy = true;
    var batch = {};
    items.forEach(function (k) { batch[k] = pending[k]; });
    var seconds = take(items.length);
    say("saving");
    fetch(url, {
      method: "PATCH",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ answers: batch, active_seconds: seconds }),
      credentials: "same-origin",
      keepalive: !!keepalive
    }).then(function (r) {
      if (r.status >= 400 && r.status < 500) {  /* submitted elsewhere, or the code was replaced */
        pending = {}; keep(); window.location.reload(); return;
      }
      if (!r.ok) throw new Error(String(r.status));
      items.forEach(function (k) { if (pending[k] === batch[k]) delete pending[k]; });
      keep();
      say("saved");
    }).catch(function () {
      unsent += seconds;
      keepTime();
      say("offline");
      window.setTimeout(flush, 5000);
    }).then(function () {
      busy = false;
      if (Object.keys(pending).length && status && status.className.indexOf("offline") < 0) flush();
    });
  }

  // answers given while offline on an earlier visit: show them and send them now
  Object.keys(pending).forEach(function (item) {
    var value = pending[item] === null ? "skip" : pending[item];
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
  form.addEventListener("submit", function () {  // the form carries the time not sent yet
    var field = form.querySelector('input[name="active_seconds"]');
    if (!field) {
      field = document.createElement("input");
      field.type = "hidden";
      field.name = "active_seconds";
      form.appendChild(field);
    }
    field.value = String(take(form.querySelectorAll("fieldset.item").length));
  });
  window.addEventListener("online", function () { flush(); });
  window.addEventListener("pagehide", function () { flush(true); });
  flush();
})();
