// Fresh App Bridge session (ID) tokens for calls to Kanta's own API.
//
// In the Shopify admin, App Bridge is loaded and `window.shopify.idToken()` returns a token that
// lives one minute, so one is fetched per request. In the demo there is no App Bridge: the demo
// admin (our parent frame) answers postMessage({type: "kanta:id-token", requestId}) with
// {type: "kanta:id-token", requestId, token}.
(function () {
  "use strict";
  var MESSAGE = "kanta:id-token";
  var TIMEOUT_MS = 5000;
  var pending = {};
  var counter = 0;

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (event.source !== window.parent || !data || data.type !== MESSAGE) { return; }
    var waiter = pending[data.requestId];
    if (!waiter) { return; }
    delete pending[data.requestId];
    clearTimeout(waiter.timer);
    if (data.token) { waiter.resolve(data.token); } else { waiter.reject(new Error(data.error || "no token")); }
  });

  function fromParent() {
    return new Promise(function (resolve, reject) {
      if (window.parent === window) { reject(new Error("not embedded")); return; }
      counter += 1;
      var requestId = "kanta-" + Date.now() + "-" + counter;
      var timer = setTimeout(function () {
        delete pending[requestId];
        reject(new Error("the admin did not answer"));
      }, TIMEOUT_MS);
      pending[requestId] = { resolve: resolve, reject: reject, timer: timer };
      window.parent.postMessage({ type: MESSAGE, requestId: requestId }, "*");
    });
  }

  function idToken() {
    if (window.shopify && typeof window.shopify.idToken === "function") {
      return Promise.resolve(window.shopify.idToken());
    }
    return fromParent();
  }

  // fetch() with a fresh session token; a 401 asking for a retry gets one, with a new token.
  function authorizedFetch(url, options, retried) {
    return idToken().then(function (token) {
      var opts = Object.assign({}, options || {});
      opts.headers = Object.assign({}, opts.headers || {}, { Authorization: "Bearer " + token });
      return fetch(url, opts).then(function (response) {
        if (response.status === 401 && !retried &&
            response.headers.get("X-Shopify-Retry-Invalid-Session-Request") === "1") {
          return authorizedFetch(url, options, true);
        }
        return response;
      });
    });
  }

  window.kanta = Object.assign(window.kanta || {}, { idToken: idToken, fetch: authorizedFetch });
})();
