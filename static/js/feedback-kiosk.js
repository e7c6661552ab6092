// The exit kiosk's feedback page starts again by itself for the next person: the thank-you
// after a few seconds, and questions left half-answered after a while without a touch (the next
// person must not find the last one's taps). The page's body says where to go
// (data-feedback-home) and after how many seconds (data-feedback-after); any touch or key
// starts the count again. Without JavaScript, the thank-you has a "Next person" button.
(function () {
  "use strict";
  var body, home, after, timer, thanks;

  function dirty() {
    if (thanks) return true;
    if (window.location.search) return true; // a language chosen, or a refusal shown
    return !!document.querySelector(".feedback-form input:checked, .message");
  }

  function restart() {
    if (dirty()) window.location.replace(home); // replace(): nothing left in the history
    else watch();
  }

  function watch() {
    clearTimeout(timer);
    timer = setTimeout(restart, after * 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    body = document.querySelector("[data-feedback-home]");
    if (!body) return;
    home = body.getAttribute("data-feedback-home");
    after = parseInt(body.getAttribute("data-feedback-after"), 10) || 45;
    thanks = body.hasAttribute("data-feedback-thanks");
    ["pointerdown", "keydown", "input", "touchstart"].forEach(function (name) {
      document.addEventListener(name, watch, { passive: true, capture: true });
    });
    watch();
  });
})();
