// Keep the subscriber's answers in this browser while the page is open, so a
// reload or a dropped connection loses nothing. Answers are kept per version of
// the facts: when the technician changes them, old answers are not restored.
(function () {
  "use strict";
  // After signing: look now and then whether the technician has closed the job, and
  // reload only then, to show the receipt (without a script, the page refreshes).
  // Gently: 10 s at first, then less and less often (at most once a minute), not
  // while the page is hidden, and never again once the link stops answering.
  var waiting = document.querySelector("[data-wait-for-receipt]");
  if (waiting && window.fetch && window.DOMParser) {
    var delay = 10000;
    var poll = function () {
      window.setTimeout(look, delay);
      delay = Math.min(delay * 1.5, 60000);
    };
    var look = function () {
      if (document.hidden) { poll(); return; }
      fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          if (response.status === 429) {
            delay = Math.max(delay, 1000 * (parseInt(response.headers.get("Retry-After"), 10) || 60));
            return null;
          }
          return response.ok ? response.text() : undefined;
        })
        .then(function (html) {
          if (html === undefined) { return; } // the link is spent or gone: stop asking
          var page = html && new DOMParser().parseFromString(html, "text/html");
          if (page && page.querySelector("[data-receipt-ready]")) { window.location.reload(); } else { poll(); }
        })
        .catch(poll);
    };
    poll();
  }

  var store;
  try { store = window.localStorage; } catch (e) { return; }
  if (!store) { return; }

  var done = document.querySelector("[data-forget-answers]");
  if (done) {
    var prefix = done.getAttribute("data-forget-answers");
    Object.keys(store).forEach(function (key) {
      if (key.indexOf(prefix) === 0) { store.removeItem(key); }
    });
    return;
  }

  var form = document.querySelector("form[data-save-answers]");
  if (!form) { return; }
  var key = form.getAttribute("data-save-answers");
  var skip = { csrf_token: true, submission_id: true, facts_version: true };

  function fields() {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && !skip[el.name] && el.type !== "submit" && el.type !== "button";
    });
  }

  function save() {
    var values = {};
    fields().forEach(function (el) {
      if (el.type === "radio" || el.type === "checkbox") {
        if (el.checked) { values[el.name] = el.value; }
      } else {
        values[el.name] = el.value;
      }
    });
    try { store.setItem(key, JSON.stringify(values)); } catch (e) { /* storage full: keep going */ }
  }

  function restore() {
    var values;
    try { values = JSON.parse(store.getItem(key) || "null"); } catch (e) { values = null; }
    if (!values) { return; }
    fields().forEach(function (el) {
      if (!(el.name in values)) { return; }
      if (el.type === "radio" || el.type === "checkbox") {
        // What the server sent back (a rejected submission) wins over the saved copy.
        if (!form.querySelector("[name='" + el.name + "']:checked")) {
          el.checked = values[el.name] === el.value;
        }
      } else if (!el.value) {
        el.value = values[el.name];
      }
    });
  }

  restore();
  form.addEventListener("input", save);
  form.addEventListener("change", save);
})();
