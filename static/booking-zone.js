// The booking page shows times in the visitor's own time zone: on a first visit (no tz in
// the address) the browser's zone is put in and the page reloads once with it. The zone
// stays changeable in the form; without JavaScript the page shows UTC and says so.
(function () {
  "use strict";
  var field = document.getElementById("tz");
  if (!field || field.dataset.chosen === "yes" || !window.Intl) {
    return;
  }
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!zone || zone === field.value) {
    return;
  }
  var url = new URL(window.location.href);
  url.searchParams.set("tz", zone);
  window.location.replace(url.toString());
})();
