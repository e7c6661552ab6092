// Public terminal: after some idle time, go back to the catalogue's home page and forget the
// search (the next person must not see it). Before that, a dialog asks whether someone is still
// there (WCAG 2.2.1): any touch or key, or its Continue button, keeps the page as it is. The
// times come from the body's data-kiosk-idle and data-kiosk-warning (seconds).
(function () {
  "use strict";
  var idle, warning, home, dialog, button, form, timer, before;
  var state = "watching"; // "warning" while the dialog is open, "restarting" once it is too late

  function watch() {
    clearTimeout(timer);
    timer = setTimeout(warn, idle * 1000);
  }

  function warn() {
    if (!dialog || typeof dialog.showModal !== "function") { restart(); return; }
    state = "warning";
    before = document.activeElement;
    dialog.showModal();
    button.focus();
    timer = setTimeout(restart, warning * 1000);
  }

  function carryOn() {
    state = "watching";
    if (dialog.open) dialog.close();
    // Back where the person was, if that is still on the page.
    if (before && before !== document.body && document.contains(before)) before.focus();
    watch();
  }

  function restart() {
    state = "restarting";
    clearTimeout(timer);
    var input = document.querySelector("input[type=search]");
    if (input) input.value = "";
    // replace(): the search does not stay in the history for the Back button. The server is told
    // first (it forgets the terminal's session); whatever it answers, the page goes home.
    var go = function () { window.location.replace(home); };
    if (!form || !window.fetch) { go(); return; }
    window.fetch(form.action, {
      method: "POST", body: new FormData(form), credentials: "same-origin", redirect: "manual",
    }).then(go, go);
  }

  function activity(event) {
    if (state === "restarting") return;
    if (state === "watching") { watch(); return; }
    // The dialog is open: pressing Continue is handled by its click (closing the dialog on the
    // press itself would let the release land on whatever was under it).
    var onButton = event.target === button;
    if (onButton && (event.type === "pointerdown" || event.type === "touchstart")) return;
    if (onButton && event.type === "keydown" && (event.key === "Enter" || event.key === " ")) return;
    carryOn();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var body = document.querySelector("[data-kiosk-idle]");
    if (!body) return;
    idle = parseInt(body.getAttribute("data-kiosk-idle"), 10) || 90;
    warning = parseInt(body.getAttribute("data-kiosk-warning"), 10) || 20;
    home = body.getAttribute("data-kiosk-home") || "/catalogue/";
    dialog = document.getElementById("kiosk-warning");
    form = document.getElementById("kiosk-restart");
    if (dialog) {
      button = dialog.querySelector("[data-kiosk-continue]");
      button.addEventListener("click", function () { if (state === "warning") carryOn(); });
      // Escape closes a modal dialog by itself: that is someone there too.
      dialog.addEventListener("cancel", function (event) {
        event.preventDefault();
        if (state === "warning") carryOn();
      });
    }
    ["pointerdown", "keydown", "input", "scroll", "touchstart"].forEach(function (name) {
      document.addEventListener(name, activity, { passive: true, capture: true });
    });
    watch();
  });
})();
