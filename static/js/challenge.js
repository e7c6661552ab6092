// The automatic check of the registration form (events/guard.py): find the number n for which
// SHA-256(salt + n) is the challenge, then send it with the form. It runs by itself, says where
// it is through a live region, and asks nothing of the person: no puzzle, nothing to click.
// Without JavaScript (or without WebCrypto) the page's own text tells what else to do.
(function () {
  "use strict";
  var BATCH = 500; // digests computed in parallel between two looks at the result

  function hex(buffer) {
    var bytes = new Uint8Array(buffer);
    var out = "";
    for (var i = 0; i < bytes.length; i++) {
      out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    }
    return out;
  }

  function solve(challenge) {
    var encoder = new TextEncoder();
    var max = challenge.maxNumber;
    function batch(start) {
      var digests = [];
      for (var n = start; n < Math.min(start + BATCH, max + 1); n++) {
        digests.push(crypto.subtle.digest("SHA-256", encoder.encode(challenge.salt + n)));
      }
      return Promise.all(digests).then(function (results) {
        for (var i = 0; i < results.length; i++) {
          if (hex(results[i]) === challenge.challenge) return start + i;
        }
        if (start + BATCH > max) throw new Error("no solution");
        return batch(start + BATCH);
      });
    }
    return batch(0);
  }

  function start(box) {
    var form = box.closest("form");
    var field = form.querySelector("input[name='altcha']");
    var status = box.querySelector("[data-challenge-status]");
    var fallback = box.querySelector("[data-challenge-fallback]");
    var done = false;
    var pending = false;
    var challenge;
    try {
      challenge = JSON.parse(box.getAttribute("data-challenge"));
    } catch (error) {
      return;
    }
    if (!(window.crypto && crypto.subtle && window.TextEncoder && field)) return;

    function say(text) { status.textContent = text; }

    form.addEventListener("submit", function (event) {
      if (done) return;
      // Pressed before the check ended: the form goes by itself as soon as it has.
      event.preventDefault();
      pending = true;
      say(box.getAttribute("data-waiting"));
    });

    fallback.hidden = true;
    say(box.getAttribute("data-working"));
    solve(challenge).then(function (number) {
      field.value = btoa(JSON.stringify({
        algorithm: challenge.algorithm,
        challenge: challenge.challenge,
        number: number,
        salt: challenge.salt,
        signature: challenge.signature
      }));
      done = true;
      say(box.getAttribute("data-done"));
      if (pending) form.requestSubmit();
    }, function () {
      // No way to do it here: stop holding the form back; the page says what else to do.
      done = true;
      say(box.getAttribute("data-failed"));
      fallback.hidden = false;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-challenge]").forEach(start);
  });
})();
