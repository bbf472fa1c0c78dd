// A tiny App Bridge stand-in: the embedded app asks its parent for a fresh ID token with
// postMessage({type: "kanta:id-token", requestId}); we mint one server-side and answer.
(function () {
  "use strict";
  var frame = document.getElementById("app-frame");
  if (!frame) { return; }
  var appOrigin = frame.dataset.appOrigin;
  var tokenUrl = frame.dataset.tokenUrl;
  window.addEventListener("message", function (event) {
    // Only the embedded app may ask, and only its own window gets the answer.
    if (event.origin !== appOrigin || event.source !== frame.contentWindow) { return; }
    var data = event.data || {};
    if (data.type !== "kanta:id-token") { return; }
    fetch(tokenUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.json(); })
      .then(function (body) {
        event.source.postMessage(
          { type: "kanta:id-token", requestId: data.requestId, token: body.token }, event.origin);
      })
      .catch(function () {
        event.source.postMessage(
          { type: "kanta:id-token", requestId: data.requestId, error: "unavailable" }, event.origin);
      });
  });
})();
