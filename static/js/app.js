// Small enhancements shared by every page. Pages work without this file.
(function () {
  "use strict";
  // Selects marked data-autosubmit submit their form on change (the submit button stays for no-JS).
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("select[data-autosubmit]") && target.form) {
      target.form.requestSubmit();
    }
  });
})();
