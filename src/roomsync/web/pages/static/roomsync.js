// roomsync's own script: live refresh of [data-live] regions, table sort and filter,
// confirmation of risky buttons. Pages work without it; it only saves reloads.
(function () {
  "use strict";

  function enhanceTables(root) {
    root.querySelectorAll("[data-filter]").forEach(function (input) {
      var table = document.querySelector(input.getAttribute("data-filter"));
      if (!table || input.dataset.bound) return;
      input.dataset.bound = "1";
      input.addEventListener("input", function () { applyFilter(input, table); });
      applyFilter(input, table);
    });
    root.querySelectorAll("table.sortable th button[data-sort]").forEach(function (button) {
      if (button.dataset.bound) return;
      button.dataset.bound = "1";
      button.addEventListener("click", function () { sortBy(button); });
    });
  }

  function applyFilter(input, table) {
    var needle = input.value.trim().toLowerCase();
    table.querySelectorAll("tbody tr").forEach(function (row) {
      row.hidden = needle !== "" && row.textContent.toLowerCase().indexOf(needle) === -1;
    });
  }

  function cellValue(row, index, numeric) {
    var cell = row.children[index];
    var raw = cell.hasAttribute("data-value") ? cell.getAttribute("data-value") : cell.textContent;
    return numeric ? parseFloat(raw) || 0 : raw.trim().toLowerCase();
  }

  function sortBy(button) {
    var th = button.closest("th");
    var table = th.closest("table");
    var index = Array.prototype.indexOf.call(th.parentNode.children, th);
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    var numeric = button.getAttribute("data-sort") === "number";
    table.querySelectorAll("th[aria-sort]").forEach(function (other) { other.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, index, numeric), y = cellValue(b, index, numeric);
      return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
    });
    rows.forEach(function (row) { body.appendChild(row); });
    table.dataset.sortIndex = index;
    table.dataset.sortAscending = ascending ? "1" : "0";
  }

  // Keeps what the viewer set (filter text, sort, focus) across a swap of the region.
  function refresh(region, keepFocus) {
    var url = region.getAttribute("data-live");
    fetch(url, { headers: { "Accept": "text/html" }, credentials: "same-origin", redirect: "manual" })
      .then(function (answer) {
        if (answer.type === "opaqueredirect" || answer.status === 401 || answer.status === 403) {
          window.location.reload();  // the session ended: the page sends the viewer to sign in
          return null;
        }
        return answer.ok ? answer.text() : null;
      })
      .then(function (html) {
        if (html === null || html === undefined) return;
        var focused = region.contains(document.activeElement) ? document.activeElement : null;
        if (focused && focused.matches("input") && !keepFocus) return;
        var caret = focused && focused.matches("input[type=search]") ? focused.selectionStart : null;
        var typed = caret !== null ? focused.value : null;  // what was typed while fetching
        var filters = {};
        region.querySelectorAll("[data-filter]").forEach(function (input) { filters[input.getAttribute("data-filter")] = input.value; });
        var sorted = region.querySelector("table.sortable[data-sort-index]");
        var sortState = sorted ? [sorted.id, sorted.dataset.sortIndex, sorted.dataset.sortAscending] : null;
        region.innerHTML = html;
        region.querySelectorAll("[data-filter]").forEach(function (input) {
          var kept = filters[input.getAttribute("data-filter")];
          if (kept) input.value = kept;
        });
        enhanceTables(region);
        if (focused && focused.id) {
          var again = document.getElementById(focused.id);
          if (again) {
            again.focus();
            if (caret !== null) {
              again.value = typed;
              again.setSelectionRange(caret, caret);
            }
          }
        }
        if (sortState) {
          var table = document.getElementById(sortState[0]);
          var button = table && table.tHead.rows[0].children[+sortState[1]].querySelector("button");
          if (button) {
            if (sortState[2] === "0") button.closest("th").setAttribute("aria-sort", "ascending");
            sortBy(button);
          }
        }
        region.dispatchEvent(new CustomEvent("roomsync:refreshed", { bubbles: true }));
      })
      .catch(function () { /* offline for a moment: the next tick tries again */ });
  }

  function startLive() {
    document.querySelectorAll("[data-live]").forEach(function (region) {
      var every = (parseFloat(region.getAttribute("data-every")) || 5) * 1000;
      window.setInterval(function () { if (!document.hidden) refresh(region); }, every);
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) event.preventDefault();
  });
  // A server-paged table inside a live region ([data-room-link] links, a [data-room-filter]
  // form): the region is fetched again with the new query instead of reloading the page,
  // and the address bar follows, so reload and back keep what the viewer chose.
  function showQuery(region, query) {
    var base = region.getAttribute("data-live").split("?")[0];
    region.setAttribute("data-live", base + (query ? "?" + query : ""));
    window.history.replaceState(null, "", window.location.pathname + (query ? "?" + query : "") + "#rooms");
    refresh(region, true);
  }

  function formQuery(form) {
    var parts = [];
    new FormData(form).forEach(function (value, key) {
      if (value !== "") parts.push(encodeURIComponent(key) + "=" + encodeURIComponent(value));
    });
    return parts.join("&");
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-room-link]");
    var region = link && link.closest("[data-live]");
    if (!region || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    showQuery(region, link.search.slice(1));
  });
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-room-filter]");
    var region = form && form.closest("[data-live]");
    if (!region) return;
    event.preventDefault();
    showQuery(region, formQuery(form));
  });
  var typing = null;
  document.addEventListener("input", function (event) {
    var form = event.target.closest("form[data-room-filter]");
    if (!form || !form.closest("[data-live]")) return;
    window.clearTimeout(typing);
    typing = window.setTimeout(function () { showQuery(form.closest("[data-live]"), formQuery(form)); }, 300);
  });

  document.addEventListener("submit", function (event) {
    // one submission per form: a double click does not post twice (a search may repeat)
    var form = event.target;
    if (event.defaultPrevented || (form.method || "get").toLowerCase() !== "post") return;
    if (form.dataset.sent) { event.preventDefault(); return; }
    form.dataset.sent = "1";
    window.setTimeout(function () { delete form.dataset.sent; }, 4000);
  });
  document.addEventListener("DOMContentLoaded", function () {
    // a page answering a POST that must not be sent twice (a token shown once): reloading
    // it becomes a plain GET instead of posting the form again
    if (document.querySelector("[data-forget-post]")) window.history.replaceState(null, "", window.location.href);
    enhanceTables(document);
    startLive();
  });
  window.roomsync = { refresh: refresh };
})();
