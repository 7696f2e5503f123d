// The connect form: the provider choice does not apply to "No calendar access", so it is
// disabled (and says why) while that mode is chosen. Without JavaScript the server simply
// ignores the provider for that mode.
(function () {
  "use strict";
  var providers = document.getElementById("provider-choice");
  var modes = document.querySelectorAll("input[name=access_mode]");
  if (!providers || modes.length === 0) {
    return;
  }
  function update() {
    var chosen = document.querySelector("input[name=access_mode]:checked");
    var none = chosen !== null && chosen.value === "no_calendar";
    providers.disabled = none;
    providers.classList.toggle("not-used", none);
  }
  modes.forEach(function (input) { input.addEventListener("change", update); });
  update();
})();
