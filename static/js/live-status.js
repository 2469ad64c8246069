// While the subscriber checks the facts, follow the handover's state and reload
// the technician's page when it changes (the subscriber signed, or a colleague
// took the facts back). Without JavaScript, reloading the page does the same.
(function () {
  "use strict";
  var head = document.querySelector("[data-live-status]");
  if (!head || head.getAttribute("data-status") !== "awaiting_subscriber" || !window.fetch) { return; }
  var url = head.getAttribute("data-live-status");
  var status = head.getAttribute("data-status");
  var version = head.getAttribute("data-facts-version");

  function check() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (state && (state.status !== status || String(state.facts_version) !== version)) {
          window.location.reload();
        } else {
          window.setTimeout(check, 4000);
        }
      })
      .catch(function () { window.setTimeout(check, 8000); });
  }
  window.setTimeout(check, 4000);
})();
