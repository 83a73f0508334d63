/* A household's visit form: the position is taken without asking when the browser already allows it for this
   site; otherwise the button asks. The visit is saved either way. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("locate-button");
    var lat = document.getElementById("id_lat");
    if (!button || !lat || lat.value || !navigator.geolocation || !navigator.permissions) return;
    navigator.permissions.query({ name: "geolocation" }).then(function (status) {
      if (status.state === "granted") button.click();
    }).catch(function () {});
  });
})();
