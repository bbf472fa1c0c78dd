/*
 * Kanta's loyalty widget for the demo store's checkout page: the same API and the same answers
 * as the checkout UI extension (extensions/checkout-widget), in plain DOM code.
 *
 *   <div id="kanta-widget" data-api="https://app" data-token-url="/token" data-subtotal="64.00"
 *        data-code-input="discount-code"></div>
 *
 * A fresh session token is fetched before every call (as shopify.sessionToken.get() is used by
 * the extension). Everything shown is built with textContent: no answer is ever parsed as HTML.
 */
(function () {
  "use strict";
  var root = document.getElementById("kanta-widget");
  if (!root) return;
  var api = root.dataset.api.replace(/\/$/, "") + "/api/checkout/";
  // What the last redemption gave, kept across the refresh of the balance that follows it.
  var lastReward = "";

  function token() {
    return fetch(root.dataset.tokenUrl, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (b) { return b.token; });
  }

  function call(method, path, body, headers) {
    return token().then(function (t) {
      var h = { Authorization: "Bearer " + t };
      if (body) h["Content-Type"] = "application/json";
      for (var k in headers || {}) h[k] = headers[k];
      return fetch(api + path, { method: method, headers: h, body: body ? JSON.stringify(body) : undefined })
        .then(function (r) { return r.json().then(function (b) { return { ok: r.ok, status: r.status, body: b }; }); });
    });
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === "text") node.textContent = attrs[k];
      else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), attrs[k]);
      else if (attrs[k] !== null) node.setAttribute(k, attrs[k]);
    }
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }

  function show(nodes) {
    root.textContent = "";
    nodes.forEach(function (n) { if (n) root.appendChild(n); });
  }

  function subtotal() {
    return root.dataset.subtotal ? "?subtotal=" + encodeURIComponent(root.dataset.subtotal) : "";
  }

  function load() {
    call("GET", "loyalty" + subtotal()).then(function (res) {
      if (!res.ok) return show([el("p", { class: "kanta-error", text: res.body.error || "Loyalty is unavailable." })]);
      render(res.body);
    }, function () { show([el("p", { class: "kanta-error", text: "Loyalty is unavailable." })]); });
  }

  function earns(data) {
    if (data.points_for_cart === null || data.points_for_cart === undefined) return null;
    return el("p", { class: "kanta-earn", "data-testid": "points-for-cart",
      text: (data.member ? "This order earns " : "Join and this order earns ") + data.points_for_cart + " points" });
  }

  function joinOffer(data) {
    var bonus = data.join && data.join.welcome_bonus ? " and get " + data.join.welcome_bonus + " bonus points" : "";
    if (data.guest) return [el("p", { text: "Log in to join our rewards" + bonus + "." }), earns(data)];
    var consent = el("input", { type: "checkbox", id: "kanta-consent" });
    return [
      el("p", { text: "Join our rewards" + bonus + "." }),
      earns(data),
      el("label", {}, [consent, document.createTextNode(" Email me offers")]),
      el("button", { type: "button", "data-testid": "join", text: "Join with one tick", onclick: function () {
        call("POST", "join", { marketing_consent: consent.checked }).then(function (r) { if (r.ok) render(r.body); });
      } })
    ];
  }

  function redeem(reward, message) {
    var key = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random();
    call("POST", "redeem", { reward_id: reward.id }, { "Idempotency-Key": key }).then(function (r) {
      if (!r.ok) { message.textContent = r.body.error || "The reward could not be issued."; return; }
      var b = r.body;
      if (b.kind === "discount_code") {
        lastReward = "Your code " + b.code + " (" + b.amount + " " + b.currency + " off) is applied.";
        var input = document.getElementById(root.dataset.codeInput || "");
        if (input) input.value = b.code;
      } else {
        lastReward = b.amount + " " + b.currency + " of store credit added to your account.";
      }
      load();
    });
  }

  function usual(data) {
    var p = data.preferences || {};
    if (!p.payment_method && !p.delivery_option) return null;
    var parts = [p.payment_method, p.delivery_option].filter(Boolean).join(" · ");
    return el("p", { class: "kanta-usual", "data-testid": "usual" }, [
      document.createTextNode("Your usual: " + parts + (p.source === "chosen" ? " (your choice) " : " ")),
      p.source === "chosen" ? el("button", { type: "button", class: "link", text: "Forget my choice", onclick: function () {
        call("POST", "preferences", { payment_method: null, delivery_option: null }).then(function (r) { if (r.ok) render(r.body); });
      } }) : null
    ]);
  }

  function member(data) {
    var next = data.next_tier
      ? el("p", { class: "kanta-next", text: data.next_tier.points_needed + " points to " + data.next_tier.name })
      : null;
    var message = el("p", { class: "kanta-message", role: "status", text: lastReward });
    var rewards = el("ul", { class: "kanta-rewards" }, data.rewards.map(function (r) {
      return el("li", {}, [
        document.createTextNode(r.title + " — " + r.points_cost + " points "),
        el("button", { type: "button", disabled: r.redeemable ? null : "disabled", "data-reward": r.id,
          text: "Redeem", onclick: function () { redeem(r, message); } })
      ]);
    }));
    return [
      el("p", { class: "kanta-balance", "data-testid": "balance", text: data.points + " points" }),
      el("p", { class: "kanta-tier", "data-testid": "tier", text: data.tier.name + " member (×" + data.tier.multiplier + ")" }),
      next, earns(data), usual(data), rewards, message
    ];
  }

  function render(data) {
    show([el("h3", { text: "Rewards" })].concat(data.member ? member(data) : joinOffer(data)));
  }

  document.addEventListener("kanta:cart", load);
  load();
})();
