// The visitor's phone: when the ticket is called, vibrate where the phone allows, tell screen
// readers through a live region outside the fragment the polls replace, and with sound turned
// on, chime and say the call in the page's language (the visitor's own).
(function () {
  "use strict";
  var lastStatus = null;
  var soundOn = false;
  var audio = null;
  var lang = document.documentElement.lang || "fr";

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

  function chime() {
    if (!audio) return;
    try {
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = 880;
      gain.gain.value = 0.3;
      osc.connect(gain).connect(audio.destination);
      osc.start();
      osc.stop(audio.currentTime + 0.6);
    } catch (e) { /* sound is a bonus */ }
  }

  function speak(text) {
    if (!text || !("speechSynthesis" in window)) return;
    var utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = lang;
    var voice = voiceFor(lang);
    if (voice) utterance.voice = voice;
    utterance.rate = 0.9;
    window.speechSynthesis.speak(utterance);
  }

  function check() {
    var status = document.querySelector("[data-status]");
    if (!status) return;
    var value = status.getAttribute("data-status");
    if (value === "called" && lastStatus && lastStatus !== "called") {
      if (navigator.vibrate) navigator.vibrate([300, 150, 300, 150, 600]);
      var call = status.querySelector(".your-turn");
      if (soundOn) {
        chime();
        if (call) setTimeout(function () { speak(call.getAttribute("data-say")); }, 700);
      }
      if (call) {
        document.title = call.textContent;
        var region = document.querySelector("[data-call-news]");
        if (region) region.textContent = call.textContent;
      }
    }
    lastStatus = value;
  }

  document.addEventListener("DOMContentLoaded", function () {
    check();
    var toggle = document.querySelector("[data-sound-toggle]");
    if (!toggle) return;
    toggle.addEventListener("click", function () {
      soundOn = !soundOn;
      toggle.setAttribute("aria-pressed", soundOn ? "true" : "false");
      var label = toggle.getAttribute(soundOn ? "data-label-on" : "data-label-off");
      if (label) toggle.textContent = label;
      // Created in the tap: a phone lets a page make sound only after one.
      if (soundOn && !audio && (window.AudioContext || window.webkitAudioContext)) {
        audio = new (window.AudioContext || window.webkitAudioContext)();
      }
      // Voices load late on some browsers: ask now, so they are there at the call.
      if (soundOn && "speechSynthesis" in window) window.speechSynthesis.getVoices();
    });
  });
  document.addEventListener("htmx:afterSwap", check);
})();
