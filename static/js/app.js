// Small enhancements shared by every page. Pages work without this file.
(function () {
  "use strict";
  // Buttons marked no-js-only (a select's submit button, when the select submits by itself) hide
  // once this file runs; if it never does, they stay, and the forms still work.
  document.documentElement.classList.add("js");

  // Theme colours come as data-colour (the CSP forbids inline styles; CSSOM is allowed).
  function paint(root) {
    root.querySelectorAll("[data-colour]").forEach(function (el) {
      el.style.setProperty("--theme", el.getAttribute("data-colour"));
    });
  }
  document.addEventListener("DOMContentLoaded", function () { paint(document); });
  document.addEventListener("htmx:load", function (event) { paint(event.target.parentNode || document); });

  // Selects marked data-autosubmit submit their form on change (their no-js-only button is hidden).
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("select[data-autosubmit]") && target.form) {
      target.form.requestSubmit();
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  // Forms marked data-once ignore a second submit (a double tap); the server is idempotent anyway.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    // A submit another script held back (the registration check) has not been sent.
    if (event.defaultPrevented || !form.hasAttribute("data-once")) return;
    if (form.dataset.sent) { event.preventDefault(); return; }
    form.dataset.sent = "1";
    form.setAttribute("aria-busy", "true");
  });
})();
