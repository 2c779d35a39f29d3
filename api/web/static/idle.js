// Respondent pages on a shared device (one staff signed in on as "shared", or handed over with
// "open on this device"): after a while without any input the page goes back to the code page,
// so a person who walked away from the tablet does not leave their answers on the screen.
// Every answer is saved as it is given; the same code opens the questionnaire again.
(function () {
  "use strict";
  var minutes = parseFloat(document.body.getAttribute("data-idle-minutes") || "0");
  if (!(minutes > 0)) { return; }
  var limit = minutes * 60 * 1000;
  var last = Date.now();
  function seen() { last = Date.now(); }
  ["pointerdown", "keydown", "input", "scroll", "touchstart"].forEach(function (name) {
    document.addEventListener(name, seen, { passive: true, capture: true });
  });
  window.setInterval(function () {
    if (Date.now() - last >= limit) { window.location.replace("/r?idle=1"); }
  }, 15000);
}());
