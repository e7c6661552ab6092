// The waiting-room screen: announces new calls one after another (a chime, then the ticket and
// the desk, spoken in the page's language), shows the time, asks for the next layout when the
// current one ends (a call's time on screen is over), and heals itself after network cuts.
(function () {
  "use strict";
  var announced = {};      // call ids already announced (a recall is a new call id)
  var queue = [];          // announcements waiting their turn: never cut one off
  var speaking = false;
  var soundOn = false;
  var audio = null;
  var lang = document.documentElement.lang || "fr";

  function remember(root) {
    root.querySelectorAll("[data-call-id]").forEach(function (el) {
      announced[el.getAttribute("data-call-id")] = true;
    });
  }

  function chime(done) {
    if (!audio) { done(); return; }
    var now = audio.currentTime;
    [[880, 0], [660, 0.35]].forEach(function (note) {
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = note[0];
      gain.gain.setValueAtTime(0.0001, now + note[1]);
      gain.gain.exponentialRampToValueAtTime(0.4, now + note[1] + 0.03);
      gain.gain.exponentialRampToValueAtTime(0.0001, now + note[1] + 0.6);
      osc.connect(gain).connect(audio.destination);
      osc.start(now + note[1]);
      osc.stop(now + note[1] + 0.65);
    });
    setTimeout(done, 1000);
  }

  // A voice of the page's language ("it" matches "it-IT"), else the browser's default voice.
  function voiceFor(language) {
    var voices = window.speechSynthesis.getVoices() || [];
    var tag = language.toLowerCase().split("-")[0];
    for (var i = 0; i < voices.length; i++) {
      var voiceLang = (voices[i].lang || "").toLowerCase().replace("_", "-");
      if (voiceLang === tag || voiceLang.indexOf(tag + "-") === 0) return voices[i];
    }
    return null;
  }

  function speak(text, done) {
    if (!("speechSynthesis" in window)) { done(); return; }
    var utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = lang;
    var voice = voiceFor(lang);
    if (voice) utterance.voice = voice;
    utterance.rate = 0.9;
    var finished = false;
    function finish() { if (!finished) { finished = true; done(); } }
    utterance.onend = finish;
    utterance.onerror = finish;
    setTimeout(finish, 15000);  // a voice that never reports its end must not block the queue
    window.speechSynthesis.speak(utterance);
  }

  function next() {
    if (speaking || queue.length === 0) return;
    speaking = true;
    var text = queue.shift();
    var end = function () { speaking = false; next(); };
    if (!soundOn) { end(); return; }
    chime(function () { speak(text, function () { speak(text, end); }); });
  }

  // Screen readers hear new calls through a live region the polls never replace, whether the
  // sound is on or not. Emptied first, so a recall with the same words is still a change.
  function tell(texts) {
    var region = document.querySelector("[data-call-news]");
    if (!region || texts.length === 0) return;
    region.textContent = "";
    setTimeout(function () { region.textContent = texts.join(". "); }, 50);
  }

  function announceNew(root) {
    // Oldest first, wherever each is shown (cards, or the line of earlier calls).
    var items = Array.prototype.slice.call(root.querySelectorAll("[data-call-id]"));
    items.sort(function (a, b) {
      return (+a.getAttribute("data-at") - +b.getAttribute("data-at")) ||
        (+a.getAttribute("data-call-id") - +b.getAttribute("data-call-id"));
    });
    var news = [];
    items.forEach(function (el) {
      var id = el.getAttribute("data-call-id");
      if (!announced[id]) {
        announced[id] = true;
        queue.push(el.getAttribute("data-say"));
        news.push(el.getAttribute("data-say"));
      }
    });
    tell(news);
    next();
  }

  // The board says in how many seconds its layout ends (data-due-in): ask then, not at the next
  // poll (every poll also carries the moment, so the server answers it once it has come).
  var dueTimer = null;
  function scheduleDue() {
    var board = document.querySelector("[data-due-in]");
    if (dueTimer) clearTimeout(dueTimer);
    if (!board || !window.htmx) return;
    var seconds = +board.getAttribute("data-due-in");
    if (!(seconds > 0)) return;
    dueTimer = setTimeout(function () {
      var current = document.querySelector("[data-due-in]");
      if (current) window.htmx.trigger(current, "due");
    }, seconds * 1000 + 250);
  }

  document.addEventListener("DOMContentLoaded", function () {
    remember(document);  // calls already on screen at load were announced before
    scheduleDue();
    var toggle = document.querySelector("[data-sound-toggle]");
    if (toggle) {
      toggle.addEventListener("click", function () {
        soundOn = !soundOn;
        toggle.setAttribute("aria-pressed", soundOn ? "true" : "false");
        // Say the state it is in, and what a tap does (the labels come translated from the page).
        var label = toggle.getAttribute(soundOn ? "data-label-on" : "data-label-off");
        if (label) toggle.textContent = label;
        if (soundOn && !audio && (window.AudioContext || window.webkitAudioContext)) {
          audio = new (window.AudioContext || window.webkitAudioContext)();
        }
      });
    }
    var clock = document.querySelector("[data-clock]");
    function tick() {
      if (!clock) return;
      var options = { hour: "2-digit", minute: "2-digit" };
      var zone = clock.getAttribute("data-time-zone");
      if (zone) options.timeZone = zone;  // the site's time, whatever the screen's settings
      clock.textContent = new Date().toLocaleTimeString(lang, options);
    }
    tick();
    setInterval(tick, 10000);
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    announceNew(event.detail.elt.parentNode || document);
    scheduleDue();
  });

  // Connection state: polls keep going on their own; say so while they fail.
  var banner = function () { return document.querySelector("[data-connection]"); };
  document.addEventListener("htmx:sendError", function () { var b = banner(); if (b) b.hidden = false; });
  document.addEventListener("htmx:responseError", function () { var b = banner(); if (b) b.hidden = false; });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful) { var b = banner(); if (b) b.hidden = true; }
  });

  // A screen left open for days: reload every six hours when nothing is being announced.
  setInterval(function () {
    if (!speaking && queue.length === 0 && navigator.onLine !== false) window.location.reload();
  }, 6 * 3600 * 1000);
})();
