// The booking's times are the site's (the page says which zone). When the visitor's own clock
// is in another zone, each time also shows theirs. Without this file the site's times stand.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    if (!(window.Intl && Intl.DateTimeFormat)) return;
    var lang = document.documentElement.lang || undefined;
    var format = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit", hour12: false });
    var differs = false;
    document.querySelectorAll("[data-starts]").forEach(function (slot) {
      var when = new Date(slot.getAttribute("data-starts"));
      var siteTime = slot.querySelector(".slot-time");
      if (isNaN(when.getTime()) || !siteTime) return;
      var own = format.format(when);
      if (own === siteTime.textContent.trim()) return;
      differs = true;
      var mark = document.createElement("span");
      mark.className = "slot-own-time";
      mark.textContent = own;
      slot.appendChild(mark);
    });
    var note = document.querySelector("[data-own-zone]");
    if (differs && note) {
      var zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
      note.textContent = note.getAttribute("data-label").replace("{zone}", zone);
      note.hidden = false;
    }
  });
})();
