// While authorizations wait for Cronofy's answer, refresh the status table in place (every
// few seconds, for at most a few minutes). Without JavaScript the "Refresh now" link remains.
(function () {
  "use strict";
  var INTERVAL_MS = 2500;
  var MAX_POLLS = 72;
  var polls = 0;

  function pending() {
    var section = document.getElementById("authorizations-section");
    return section !== null && section.getAttribute("data-pending") === "true";
  }

  function replace(id, doc) {
    var current = document.getElementById(id);
    var fresh = doc.getElementById(id);
    if (current && fresh) {
      current.replaceWith(document.importNode(fresh, true));
    }
  }

  function poll() {
    polls += 1;
    fetch(window.location.pathname, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        replace("authorizations-section", doc);
        replace("individual-section", doc);
      })
      .catch(function () { /* keep the page as it is; the link still works */ })
      .finally(function () {
        if (pending() && polls < MAX_POLLS) {
          window.setTimeout(poll, INTERVAL_MS);
        }
      });
  }

  if (pending()) {
    window.setTimeout(poll, INTERVAL_MS);
  }
})();
