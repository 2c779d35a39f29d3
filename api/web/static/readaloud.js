/* Read-aloud mode: a click on an answer records it and moves on; keys for the psychologist:
   digits (like/dislike: 1/0; pairs: L or R, then 3/2/1), S or - to skip, arrow keys to move. */
(function () {
  "use strict";
  var form = document.getElementById("ra-form");
  if (!form) return;
  var fieldset = form.querySelector("fieldset.item");
  var paired = fieldset.classList.contains("kind-paired");
  var pointer = false;
  var side = null;

  function go(where) {
    var hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = "go";
    hidden.value = where;
    form.appendChild(hidden);
    form.submit();
  }
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
  document.addEventListener("keydown", function (e) {
    var el = document.activeElement;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (el && el.tagName === "INPUT" && el.type === "radio" && e.key.indexOf("Arrow") === 0) return;
    var k = e.key.toUpperCase();
    if (k === "S" || k === "-") { e.preventDefault(); choose("skip"); return; }
    if (k === "ARROWLEFT") { e.preventDefault(); if (form.querySelector('button[value="back"]')) go("back"); return; }
    if (k === "ARROWRIGHT") { e.preventDefault(); go("next"); return; }
    if (paired) {
      if (k === "L" || k === "R") { side = k; e.preventDefault(); return; }
      if (side && /^[1-3]$/.test(k)) { e.preventDefault(); choose(side === "L" ? "-" + k : k); }
      return;
    }
    if (/^[0-9]$/.test(k)) { e.preventDefault(); choose(k); }
  });
})();
