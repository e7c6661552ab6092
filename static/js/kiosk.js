// Public terminal: after some idle time, go back to the catalogue's home page and forget the
// search (the next person must not see it). The time comes from the header's data-kiosk-idle.
(function () {
  "use strict";
  var header, timer, seconds, home;
  function reset() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var input = document.querySelector("input[type=search]");
      if (input) input.value = "";
      // replace(): the search does not stay in the history for the Back button.
      window.location.replace(home);
    }, seconds * 1000);
  }
  document.addEventListener("DOMContentLoaded", function () {
    header = document.querySelector("[data-kiosk-idle]");
    if (!header) return;
    seconds = parseInt(header.getAttribute("data-kiosk-idle"), 10) || 90;
    home = header.getAttribute("data-kiosk-home") || "/catalogue/";
    ["pointerdown", "keydown", "input", "scroll", "touchstart"].forEach(function (name) {
      document.addEventListener(name, reset, { passive: true });
    });
    reset();
  });
})();
