// Forms that save through the admin API: inline errors next to each field, nothing written on a
// refusal. A form with data-api posts its fields as JSON (numbers as integers) with a fresh
// session token; a 422's {"errors": {field: message}} fills the [data-error-for=field] elements.
(function () {
  "use strict";

  function showErrors(form, errors) {
    form.querySelectorAll("[data-error-for]").forEach(function (node) {
      var message = errors[node.getAttribute("data-error-for")] || "";
      node.textContent = message;
      var input = form.querySelector("[name='" + node.getAttribute("data-error-for") + "']");
      if (input) { input.setAttribute("aria-invalid", message ? "true" : "false"); }
    });
    var unplaced = Object.keys(errors).filter(function (name) {
      return !form.querySelector("[data-error-for='" + name + "']");
    });
    var general = form.querySelector("[data-error-for='form']");
    if (general && unplaced.length) {
      general.textContent = unplaced.map(function (name) { return name + ": " + errors[name]; }).join("; ");
    }
  }

  function status(form, text) {
    var node = form.querySelector("[data-form-status]");
    if (node) { node.textContent = text; }
  }

  // Send body as JSON; resolves with {ok, status, body}.
  function sendJson(url, method, body, headers) {
    return window.kanta.fetch(url, {
      method: method,
      headers: Object.assign({ "Content-Type": "application/json" }, headers || {}),
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { ok: response.ok, status: response.status, body: data };
      });
    });
  }

  function fieldsOf(form) {
    var body = {};
    form.querySelectorAll("input[name], select[name], textarea[name]").forEach(function (input) {
      if (input.type === "checkbox") { body[input.name] = input.checked; return; }
      if (input.type === "number") {
        var text = input.value.trim();
        body[input.name] = /^-?\d+$/.test(text) ? parseInt(text, 10) : text;
        return;
      }
      body[input.name] = input.value;
    });
    return body;
  }

  function wire(form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      status(form, "Saving…");
      showErrors(form, {});
      var headers = {};
      if (form.dataset.idempotencyKey) { headers["Idempotency-Key"] = form.dataset.idempotencyKey; }
      sendJson(form.dataset.api, form.dataset.method || "POST", fieldsOf(form), headers)
        .then(function (result) {
          button.disabled = false;
          if (result.ok) { status(form, "Saved"); window.location.reload(); return; }
          status(form, "");
          showErrors(form, result.body.errors || { form: result.body.error || "Could not save. Try again." });
        })
        .catch(function () {
          button.disabled = false;
          status(form, "");
          showErrors(form, { form: "Could not reach Kanta. Try again in a moment." });
        });
    });
  }

  // Rows of a data table open their link.
  function wireRowLinks() {
    document.querySelectorAll("tr[data-href]").forEach(function (row) {
      row.addEventListener("click", function (event) {
        if (event.target.closest("a, button, input")) { return; }
        window.location.href = row.getAttribute("data-href");
      });
    });
  }

  window.kanta = Object.assign(window.kanta || {}, { showErrors: showErrors, sendJson: sendJson });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-api]").forEach(wire);
    wireRowLinks();
  });
})();
