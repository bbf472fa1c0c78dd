// The Import page: preview (dry run), start the job, follow its progress.
(function () {
  "use strict";
  var form = document.querySelector("[data-import]");
  if (!form) { return; }
  var preview = document.querySelector("[data-preview]");
  var progress = document.querySelector("[data-progress]");
  var message = form.querySelector("[data-import-message]");
  var importButton = form.querySelector("[data-action='import']");
  var fileError = form.querySelector("[data-error-for='file']");

  function text(tag, content, cls) {
    var node = document.createElement(tag);
    node.textContent = content;
    if (cls) { node.className = cls; }
    return node;
  }

  function readFile() {
    var file = form.querySelector("input[type=file]").files[0];
    if (file) { return file.text(); }
    return Promise.resolve(form.querySelector("textarea").value);
  }

  function errorTable(errors) {
    var table = document.createElement("table");
    table.className = "table table--compact";
    var head = table.createTHead().insertRow();
    ["Line", "Column", "Problem"].forEach(function (h) { head.appendChild(text("th", h)); });
    var body = table.createTBody();
    errors.forEach(function (e) {
      var row = body.insertRow();
      row.insertCell().textContent = e.line || "file";
      row.insertCell().textContent = e.field;
      row.insertCell().textContent = e.message;
    });
    var box = document.createElement("div");
    box.className = "import-errors";
    box.appendChild(table);
    return box;
  }

  function send(dryRun) {
    fileError.textContent = "";
    return readFile().then(function (csv) {
      if (!csv.trim()) { throw new Error("Choose a file or paste its contents first."); }
      return window.kanta.fetch("/api/admin/imports" + (dryRun ? "?dry_run=1" : ""), {
        method: "POST", headers: { "Content-Type": "text/csv" }, body: csv
      });
    }).then(function (response) {
      return response.json().then(function (body) { return { status: response.status, body: body }; });
    });
  }

  function showPreview(result) {
    preview.textContent = "";
    var body = result.body;
    if (result.status !== 200) {
      fileError.textContent = body.error || "The file cannot be read.";
      preview.appendChild(errorTable(body.errors || []));
      importButton.disabled = true;
      return;
    }
    var summary = body.valid.toLocaleString() + " of " + body.total.toLocaleString() +
      " rows can be imported (" + body.points_total.toLocaleString() + " points, " +
      body.new_customers.toLocaleString() + " new customers).";
    preview.appendChild(text("p", summary));
    if (body.error_count) {
      var rows = body.error_count === 1 ? " row cannot" : " rows cannot";
      preview.appendChild(text("p", body.error_count.toLocaleString() + rows +
        " be imported: fix the file and preview again. Nothing is imported while any row is refused.", "critical"));
      preview.appendChild(errorTable(body.errors));
    }
    importButton.disabled = body.error_count > 0 || body.valid === 0;
  }

  function showProgress(status) {
    var total = status.total || 1;
    var share = Math.min(100, Math.round(100 * status.processed / total));
    var labels = { queued: "Waiting to start", validating: "Checking rows", writing: "Writing balances",
      done: "Imported", failed: "Nothing was imported" };
    progress.textContent = "";
    var bar = document.createElement("div");
    bar.className = "progress";
    bar.setAttribute("role", "progressbar");
    bar.setAttribute("aria-valuemin", "0");
    bar.setAttribute("aria-valuemax", String(total));
    bar.setAttribute("aria-valuenow", String(status.processed));
    var fill = document.createElement("div");
    fill.className = "progress__bar";
    fill.style.width = (status.status === "done" ? 100 : share) + "%";
    bar.appendChild(fill);
    progress.appendChild(bar);
    var label = document.createElement("div");
    label.className = "progress__label";
    label.appendChild(text("span", labels[status.status] || status.status));
    label.appendChild(text("span", status.processed.toLocaleString() + " / " + status.total.toLocaleString() + " rows"));
    progress.appendChild(label);
    if (status.status === "done") {
      progress.appendChild(text("p", status.imported.toLocaleString() + " balances imported, " +
        status.points_total.toLocaleString() + " points in all.", "positive"));
    }
    if (status.status === "failed") { progress.appendChild(errorTable(status.errors)); }
  }

  function follow(id) {
    window.kanta.fetch("/api/admin/imports/" + id).then(function (r) { return r.json(); }).then(function (status) {
      showProgress(status);
      if (status.status !== "done" && status.status !== "failed") { setTimeout(function () { follow(id); }, 800); }
    });
  }

  form.addEventListener("click", function (event) {
    var button = event.target.closest("[data-action]");
    if (!button) { return; }
    var dryRun = button.getAttribute("data-action") === "preview";
    message.textContent = dryRun ? "Checking every row…" : "Starting the import…";
    send(dryRun).then(function (result) {
      message.textContent = "";
      if (dryRun) { showPreview(result); return; }
      if (result.status === 202) { importButton.disabled = true; follow(result.body.id); return; }
      showPreview(result);
    }).catch(function (error) { message.textContent = ""; fileError.textContent = error.message; });
  });
})();
