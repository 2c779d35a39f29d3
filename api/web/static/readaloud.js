/* Read-aloud mode: a click on an answer records it and moves on; keys for the psychologist:
   digits (like/dislike: 1/0; pairs: L or R, then 3/2/1), S or - to skip, arrow keys to move.
   Active answering time (for the "too fast" validity flag): the time this item's page was visible
   until it is left with an answer, at most 120 s, is saved with the answer (PATCH
   /v1/administrations/{id}/answers, active_seconds) before the form moves on. Without this script
   the form still saves the answer, untimed, and the total becomes unknown. */
(function () {
  "use strict";
  var form = document.getElementById("ra-form");
  if (!form) return;
  /* The physical key, whatever the layout: on the Georgian layout the L, R and S keys type ლ, რ
     and ს, so the key's code is read first (KeyL …), and the Georgian letters are accepted too. */
  var GEORGIAN = { "ლ": "L", "რ": "R", "ს": "S" };
  function keyOf(e) {
    var c = e.code || "";
    if (/^Key[A-Z]$/.test(c)) return c.slice(3);
    if (/^(Digit|Numpad)[0-9]$/.test(c)) return c.slice(-1);
    if (c === "Minus" || c === "NumpadSubtract") return "-";
    return GEORGIAN[e.key] || (e.key || "").toUpperCase();
  }
  var fieldset = form.querySelector("fieldset.item");
  var paired = fieldset.classList.contains("kind-paired");
  var pointer = false;
  var side = null;
  var url = form.getAttribute("data-autosave");
  var item = form.getAttribute("data-item");
  var cap = Number(form.getAttribute("data-cap")) || 120;
  var visibleSince = document.visibilityState === "hidden" ? null : Date.now();
  var visible = 0;  // ms this page was visible
  var leaving = false;
  var clicked = null;

  function lap() {
    if (visibleSince === null) return;
    var t = Date.now();
    visible += Math.max(0, t - visibleSince);
    visibleSince = t;
  }
  document.addEventListener("visibilitychange", function () {
    lap();
    visibleSince = document.visibilityState === "hidden" ? null : Date.now();
  });

  function go(where) {
    if (leaving) return;
    leaving = true;
    var hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = "go";
    hidden.value = where;
    form.appendChild(hidden);
    var input = form.querySelector('input[name="answer"]:checked');
    if (!input || !url || !item || !window.fetch) { form.submit(); return; }
    lap();
    var answers = {};
    answers[item] = input.value === "skip" ? null : input.value;
    var sent = false;
    var submit = function () { if (!sent) { sent = true; form.submit(); } };
    fetch(url, {
      method: "PATCH",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        answers: answers,
        active_seconds: Math.floor(Math.min(cap, visible / 1000) * 10) / 10,
        increment_id: (window.crypto && window.crypto.randomUUID) ? window.crypto.randomUUID()
          : String(Date.now()) + "-" + String(Math.random()).slice(2, 12)
      }),
      credentials: "same-origin",
      keepalive: true
    }).then(submit, submit);
    window.setTimeout(submit, 3000);  // the form saves the answer anyway (then untimed)
  }
  form.addEventListener("click", function (e) {
    var b = e.target.closest ? e.target.closest("button[type=submit]") : null;
    if (b) clicked = b.value;
  });
  form.addEventListener("submit", function (e) {  // the buttons: the same path as the keys
    e.preventDefault();
    go((e.submitter && e.submitter.value) || clicked || "next");
  });
  function choose(value) {
    var input = form.querySelector('input[name="answer"][value="' + value + '"]');
    if (!input) return;
    input.checked = true;
    go("next");
  }
  form.addEventListener("pointerdown", function () { pointer = true; });
  form.addEventListener("change", function (e) {
    if (pointer && e.target.name === "answer") go("next");  // arrow keys inside the group only select
  });
  var armed = document.getElementById("ra-armed");
  function arm(k) {  // show which pole the next digit rates
    side = k;
    ["L", "R"].forEach(function (s) {
      var pole = form.querySelector(".pole-" + s);
      if (pole) pole.classList.toggle("armed", s === k);
    });
    if (armed) armed.textContent = armed.getAttribute("data-" + k.toLowerCase()) || "";
  }
  document.addEventListener("keydown", function (e) {
    var el = document.activeElement;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (el && el.tagName === "INPUT" && el.type === "radio" && e.key.indexOf("Arrow") === 0) return;
    var k = keyOf(e);
    if (k === "S" || k === "-") { e.preventDefault(); choose("skip"); return; }
    if (k === "ARROWLEFT") { e.preventDefault(); if (form.querySelector('button[value="back"]')) go("back"); return; }
    if (k === "ARROWRIGHT") { e.preventDefault(); go("next"); return; }
    if (paired) {
      if (k === "L" || k === "R") { arm(k); e.preventDefault(); return; }
      if (side && /^[1-3]$/.test(k)) { e.preventDefault(); choose(side === "L" ? "-" + k : k); }
      return;
    }
    if (/^[0-9]$/.test(k)) { e.preventDefault(); choose(k); }
  });
})();
