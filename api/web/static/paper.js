/* Paper entry: keyboard only. Type the answer (digits; for pairs L or R and then the digit),
   '-' for an item left blank on paper; the cursor moves on by itself. Every entry is saved
   in the background (PATCH /v1/administrations/{id}/answers); the missing count is live. */
(function () {
  "use strict";
  var form = document.getElementById("paper");
  if (!form) return;
  /* The physical key, whatever the layout: on the Georgian layout the L and R keys type ლ and რ,
     so a key's code is read first (KeyL …), and the Georgian letters are accepted too. */
  var GEORGIAN = { "ლ": "L", "რ": "R", "ს": "S" };
  function keyOf(e) {
    var c = e.code || "";
    if (/^Key[A-Z]$/.test(c)) return c.slice(3);
    if (/^(Digit|Numpad)[0-9]$/.test(c)) return c.slice(-1);
    if (c === "Minus" || c === "NumpadSubtract") return "-";
    return GEORGIAN[e.key] || e.key.toUpperCase();
  }
  function latin(text) {
    return text.replace(/[ლრს]/g, function (ch) { return GEORGIAN[ch]; });
  }
  var paired = form.getAttribute("data-kind") === "paired";
  var keys = JSON.parse(form.getAttribute("data-keys"));
  var url = form.getAttribute("data-autosave");
  var inputs = Array.prototype.slice.call(form.querySelectorAll(".paper-input"));
  var status = document.getElementById("save-status");
  var missing = document.getElementById("missing");
  var pending = {};
  var timer = null;
  var busy = false;

  function known(v) { return Object.prototype.hasOwnProperty.call(keys, v); }
  function valid(v) { return v === "-" || known(v); }
  function say(kind) {
    status.textContent = kind ? status.getAttribute("data-" + kind) || "" : "";
    status.className = "save-status " + (kind || "");
  }
  function mark(input) {
    var v = input.value;
    input.classList.toggle("filled", known(v));
    input.classList.toggle("skipped", v === "-");
    input.setAttribute("aria-invalid", v && !valid(v) && !(paired && /^[LR]$/.test(v)) ? "true" : "false");
  }
  function count() {
    var n = inputs.filter(function (i) { return !known(i.value); }).length;
    missing.textContent = missing.getAttribute("data-format").replace("{n}", n).replace("{total}", inputs.length);
  }
  function flush() {
    var items = Object.keys(pending);
    if (busy || !items.length || !window.fetch) return;
    busy = true;
    var batch = {};
    items.forEach(function (k) { batch[k] = pending[k]; });
    say("saving");
    fetch(url, {
      method: "PATCH",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ answers: batch }),
      credentials: "same-origin"
    }).then(function (r) {
      if (!r.ok) throw new Error(String(r.status));
      items.forEach(function (k) { if (pending[k] === batch[k]) delete pending[k]; });
      say("saved");
    }).catch(function () {
      say("offline");  // the Save button still posts the whole sheet
    }).then(function () {
      busy = false;
      if (Object.keys(pending).length && status.className.indexOf("offline") < 0) flush();
    });
  }
  function queue(input) {
    var v = input.value;
    if (v && !valid(v)) return;
    pending[input.name] = v ? v : null;
    window.clearTimeout(timer);
    timer = window.setTimeout(flush, 500);
  }
  function move(input, step) {
    var i = inputs.indexOf(input) + step;
    if (i >= 0 && i < inputs.length) {
      inputs[i].focus();
      inputs[i].select();
    } else if (i >= inputs.length) {
      form.querySelector('button[value="check"]').focus();
    }
  }
  function entered(input) {
    mark(input);
    count();
    queue(input);
    move(input, 1);
  }
  function refuse(input) {
    say("bad");
    input.setAttribute("aria-invalid", "true");
  }

  form.addEventListener("keydown", function (e) {
    var input = e.target;
    if (!input.classList || !input.classList.contains("paper-input")) return;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var k = e.key;
    if (k === "Enter" || k === "ArrowDown") { e.preventDefault(); move(input, 1); return; }
    if (k === "ArrowUp") { e.preventDefault(); move(input, -1); return; }
    if (k === "Backspace" && input.value === "") { e.preventDefault(); move(input, -1); return; }
    if (k.length !== 1) return;  // Tab, Delete, Backspace, arrows: as usual
    e.preventDefault();
    var up = keyOf(e);
    if (up === "-") { input.value = "-"; entered(input); return; }
    if (paired) {
      if (up === "L" || up === "R") { input.value = up; mark(input); say(""); return; }
      if (/^[LR]$/.test(input.value) && known(input.value + up)) { input.value += up; entered(input); return; }
      refuse(input);
      return;
    }
    if (known(up)) { input.value = up; entered(input); return; }
    refuse(input);
  });
  form.addEventListener("input", function (e) {  // on-screen keyboards send no usable key codes
    var input = e.target;
    if (!input.classList || !input.classList.contains("paper-input")) return;
    input.value = latin(input.value).toUpperCase().replace(/\s/g, "");
    if (valid(input.value)) entered(input);
    else if (input.value === "") { mark(input); count(); queue(input); }
    else mark(input);
  });
  form.addEventListener("focusin", function (e) {
    if (e.target.classList && e.target.classList.contains("paper-input")) e.target.select();
  });
  inputs.forEach(mark);
  count();
  var first = inputs.filter(function (i) { return !i.value; })[0] || inputs[0];
  if (first && !window.location.hash) first.focus();
})();
