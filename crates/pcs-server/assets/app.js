// pcs dashboard: small enhancements only. Every page works without this
// script (the forms post and the server renders); it adds partner
// suggestions while typing and "add another row" buttons in the simulator.
(function () {
  "use strict";

  // ---------------------------------------------------------------- partner suggestions
  var input = document.getElementById("partner-q");
  var list = document.getElementById("partner-options");
  if (input && list && window.fetch) {
    var timer = null;
    var last = "";
    input.addEventListener("input", function () {
      var q = input.value.trim();
      if (q === last) { return; }
      last = q;
      clearTimeout(timer);
      if (q.length < 1) { list.textContent = ""; return; }
      timer = setTimeout(function () {
        fetch("/api/v1/partners?limit=20&q=" + encodeURIComponent(q), {
          credentials: "same-origin",
          headers: { "Accept": "application/json" }
        })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (body) {
            if (!body || q !== last) { return; }
            var items = Array.isArray(body) ? body : (body.partners || body.items || []);
            list.textContent = "";
            items.forEach(function (p) {
              var o = document.createElement("option");
              o.value = p.partner_id;
              if (p.name) { o.label = p.name; o.textContent = p.name; }
              list.appendChild(o);
            });
          })
          .catch(function () { /* suggestions are optional */ });
      }, 150);
    });
  }

  // ---------------------------------------------------------------- simulator rows
  // A fieldset marked data-rows holds rows whose inputs are named NAME_N;
  // the button clones the last row with the next N and empty values.
  Array.prototype.forEach.call(document.querySelectorAll("fieldset[data-rows]"), function (fs) {
    var rows = fs.querySelector(".rows");
    if (!rows) { return; }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "secondary";
    button.textContent = "Add another row";
    button.addEventListener("click", function () {
      var all = rows.querySelectorAll(".row");
      var lastRow = all[all.length - 1];
      if (!lastRow) { return; }
      var n = all.length;
      var copy = lastRow.cloneNode(true);
      Array.prototype.forEach.call(copy.querySelectorAll("input, select"), function (el) {
        el.name = el.name.replace(/_\d+$/, "_" + n);
        if (el.id) { el.id = el.id.replace(/_\d+$/, "_" + n); }
        if (el.tagName === "SELECT") { el.selectedIndex = 0; } else { el.value = ""; }
      });
      Array.prototype.forEach.call(copy.querySelectorAll("label[for]"), function (el) {
        el.htmlFor = el.htmlFor.replace(/_\d+$/, "_" + n);
      });
      rows.appendChild(copy);
      var first = copy.querySelector("input");
      if (first) { first.focus(); }
    });
    var p = document.createElement("p");
    p.appendChild(button);
    fs.appendChild(p);
  });
})();
