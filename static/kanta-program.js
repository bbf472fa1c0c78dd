// The program editor: the whole form saved as one PUT /api/admin/program (a refusal changes
// nothing and its errors appear next to each field), and the live example of what an order
// earns at each tier, recomputed by the server from the values in the form.
(function () {
  "use strict";
  var form, exampleTimer;

  function value(row, field) {
    var input = row.querySelector("[data-field='" + field + "']");
    if (!input) { return undefined; }
    if (input.type === "checkbox") { return input.checked; }
    return input.value.trim();
  }

  function whole(text) { return /^-?\d+$/.test(text) ? parseInt(text, 10) : text; }

  function field(name) { return form.querySelector("[name='" + name + "']"); }

  function program() {
    var body = {
      earn_rate: field("earn_rate").value.trim(),
      award_on: field("award_on").value,
      include_shipping: field("include_shipping").checked,
      include_tax: field("include_tax").checked,
      amount_refunds_reverse_points: field("amount_refunds_reverse_points").checked,
      auto_enroll: field("auto_enroll").checked,
      welcome_bonus: whole(field("welcome_bonus").value.trim()),
      pending_days: whole(field("pending_days").value.trim()),
      tier_window_days: whole(field("tier_window_days").value.trim()),
      expiry_days: field("expiry_days").value.trim() === "" ? null : whole(field("expiry_days").value.trim()),
      tiers: [],
      rewards: []
    };
    form.querySelectorAll("[data-row='tier']").forEach(function (row) {
      var tier = { name: value(row, "name"), threshold: whole(value(row, "threshold")), multiplier: value(row, "multiplier") };
      if (row.dataset.key) { tier.key = row.dataset.key; }
      body.tiers.push(tier);
    });
    form.querySelectorAll("[data-row='reward']").forEach(function (row) {
      var reward = {
        title: value(row, "title"), kind: value(row, "kind"), points_cost: whole(value(row, "points_cost")),
        value: value(row, "value") || "0", active: value(row, "active")
      };
      if (row.dataset.id) { reward.id = row.dataset.id; }
      body.rewards.push(reward);
    });
    return body;
  }

  // Reward errors arrive as rewards.<index>.<field>: each row's cells carry that name.
  function indexRows() {
    form.querySelectorAll("[data-row='reward']").forEach(function (row, i) {
      row.querySelectorAll("[data-error-cell]").forEach(function (cell) {
        cell.setAttribute("data-error-for", "rewards." + i + "." + cell.getAttribute("data-error-cell"));
      });
    });
  }

  function addRow(kind) {
    var template = document.getElementById(kind + "-row-template");
    var tbody = form.querySelector("[data-rows='" + kind + "']");
    tbody.appendChild(template.content.cloneNode(true));
    var table = form.querySelector("[data-table='" + kind + "']");
    if (table) { table.hidden = false; }
    indexRows();
  }

  function showExample(result) {
    var tbody = form.querySelector("[data-example] tbody");
    if (!result.ok) { return; }
    tbody.replaceChildren();
    result.body.tiers.forEach(function (row) {
      var tr = document.createElement("tr");
      var name = document.createElement("td"); name.textContent = row.tier;
      var points = document.createElement("td"); points.textContent = row.points; points.className = "num";
      tr.appendChild(name); tr.appendChild(points); tbody.appendChild(tr);
    });
  }

  function updateExample() {
    clearTimeout(exampleTimer);
    exampleTimer = setTimeout(function () {
      var draft = program();
      delete draft.rewards;
      var amount = form.querySelector("[data-example-amount]").value.trim();
      window.kanta.sendJson(form.dataset.exampleApi, "POST", { amount: amount, program: draft })
        .then(function (result) {
          var errors = (result.body && result.body.errors) || {};
          var amountError = form.querySelector("[data-error-for='example_amount']");
          if (amountError) { amountError.textContent = errors.amount || ""; }
          showExample(result);
        })
        .catch(function () {});
    }, 250);
  }

  function save(event) {
    event.preventDefault();
    indexRows();
    var button = form.querySelector("button[type=submit]");
    var status = form.querySelector("[data-form-status]");
    button.disabled = true;
    status.textContent = "Saving…";
    window.kanta.showErrors(form, {});
    window.kanta.sendJson(form.dataset.programApi, "PUT", program()).then(function (result) {
      button.disabled = false;
      if (result.ok) { status.textContent = "Saved"; window.location.reload(); return; }
      status.textContent = "Nothing was saved: correct the fields marked in red.";
      window.kanta.showErrors(form, result.body.errors || { form: result.body.error || "Could not save." });
    }).catch(function () {
      button.disabled = false;
      status.textContent = "";
      window.kanta.showErrors(form, { form: "Could not reach Kanta. Try again in a moment." });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    form = document.getElementById("program-form");
    if (!form) { return; }
    indexRows();
    form.addEventListener("submit", save);
    form.addEventListener("input", updateExample);
    form.addEventListener("change", updateExample);
    form.addEventListener("click", function (event) {
      var add = event.target.closest("[data-add-row]");
      if (add) { addRow(add.getAttribute("data-add-row")); return; }
      var remove = event.target.closest("[data-remove-row]");
      if (remove) { remove.closest("tr").remove(); updateExample(); }
    });
  });
})();
