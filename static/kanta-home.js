// App home: clicking a member row shows that member's ledger entries in a side panel.
(function () {
  "use strict";
  var panel, title, body;

  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (className) { node.className = className; }
    return node;
  }

  function signed(n) { return n > 0 ? "+" + n : String(n); }

  function renderMember(member) {
    body.replaceChildren();
    title.textContent = member.email || ("Customer " + member.customer_id);
    var facts = el("p", member.points + " points · " + member.pending_points + " pending · " +
      member.tier.name + " tier", "subdued");
    body.appendChild(facts);
    if (member.next_tier) {
      body.appendChild(el("p", member.next_tier.points_needed + " points to " + member.next_tier.name, "subdued"));
    }
    if (!member.entries.length) {
      body.appendChild(el("p", "No points history yet."));
      return;
    }
    var table = el("table", null, "table table--compact");
    var head = el("tr");
    ["When", "What", "Points", "Pending"].forEach(function (h) { head.appendChild(el("th", h)); });
    table.appendChild(el("thead")).appendChild(head);
    var tbody = el("tbody");
    member.entries.forEach(function (entry) {
      var row = el("tr");
      row.appendChild(el("td", new Date(entry.created_at).toLocaleString()));
      var order = (entry.details && entry.details.order_name) || entry.order_id;
      var what = entry.kind.replace(/_/g, " ") + (order ? " · order " + order : "") +
        (entry.reason ? " · " + entry.reason : "");
      row.appendChild(el("td", entry.reason ? what + " — " + entry.reason : what));
      row.appendChild(el("td", signed(entry.points), "num"));
      row.appendChild(el("td", signed(entry.pending_points), "num"));
      tbody.appendChild(row);
    });
    table.appendChild(tbody);
    body.appendChild(table);
  }

  function showMember(customerId) {
    panel.hidden = false;
    if (panel.scrollIntoView) { panel.scrollIntoView({ block: "nearest" }); }
    title.textContent = "Loading…";
    body.replaceChildren();
    window.kanta.fetch("/api/admin/members/" + encodeURIComponent(customerId))
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(renderMember)
      .catch(function () {
        title.textContent = "Member";
        body.replaceChildren(el("p", "Could not load this member. Try again in a moment.", "critical"));
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    panel = document.getElementById("member-panel");
    title = document.getElementById("member-panel-title");
    body = document.getElementById("member-panel-body");
    if (!panel) { return; }
    document.getElementById("member-panel-close").addEventListener("click", function () {
      panel.hidden = true;
    });
    document.querySelectorAll(".member-row").forEach(function (row) {
      function open() { showMember(row.getAttribute("data-customer-id")); }
      row.addEventListener("click", open);
      row.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); open(); }
      });
    });
  });
})();
