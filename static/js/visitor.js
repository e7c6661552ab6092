// The visitor's phone: when the ticket is called, vibrate and chime where the phone allows, and
// tell screen readers through a live region outside the fragment the polls replace.
(function () {
  "use strict";
  var lastStatus = null;
  function check() {
    var status = document.querySelector("[data-status]");
    if (!status) return;
    var value = status.getAttribute("data-status");
    if (value === "called" && lastStatus && lastStatus !== "called") {
      if (navigator.vibrate) navigator.vibrate([300, 150, 300, 150, 600]);
      try {
        var Ctx = window.AudioContext || window.webkitAudioContext;
        var ctx = new Ctx(), osc = ctx.createOscillator(), gain = ctx.createGain();
        osc.frequency.value = 880;
        gain.gain.value = 0.3;
        osc.connect(gain).connect(ctx.destination);
        osc.start();
        osc.stop(ctx.currentTime + 0.6);
      } catch (e) { /* sound is a bonus */ }
      var turn = status.querySelector(".your-turn");
      if (turn) {
        document.title = turn.textContent;
        var region = document.querySelector("[data-call-news]");
        if (region) region.textContent = turn.textContent;
      }
    }
    lastStatus = value;
  }
  document.addEventListener("DOMContentLoaded", check);
  document.addEventListener("htmx:afterSwap", check);
})();
