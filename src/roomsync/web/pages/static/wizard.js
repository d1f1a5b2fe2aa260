// The set-up wizard's script: focus on what needs attention, show only the credential and
// source inputs that apply, a live field preview, and the first import's progress bar.
// Every page works without it.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function showWhen(container, radios) {
    var chosen = container.querySelector("input[name=credential]:checked");
    document.querySelectorAll("[data-when]").forEach(function (part) {
      part.hidden = chosen && part.getAttribute("data-when") !== chosen.value;
    });
  }

  function bindSources(root) {
    root.querySelectorAll("select[data-source]").forEach(function (select) {
      var box = select.parentNode.querySelector("[data-directory]");
      var input = box && box.querySelector("input");
      function sync() { if (box) box.hidden = select.value !== "directory" && !(input && input.getAttribute("aria-invalid")); }
      select.addEventListener("change", sync);
      sync();
    });
  }

  function livePreview(form) {
    var target = document.querySelector(form.getAttribute("data-preview"));
    var timer = null;
    function send() {
      var data = new FormData(form);
      data.set("action", "preview");
      data.set("partial", "1");
      fetch(form.getAttribute("action"), { method: "POST", body: data, credentials: "same-origin", redirect: "manual" })
        .then(function (answer) { return answer.status === 200 || answer.status === 422 ? answer.text() : null; })
        .then(function (html) { if (html !== null) target.innerHTML = html; })
        .catch(function () {});
    }
    form.addEventListener("change", function () { window.clearTimeout(timer); timer = window.setTimeout(send, 300); });
  }

  function followImport(section) {
    var url = section.getAttribute("data-import");
    var bar = section.querySelector("progress");
    var area = section.querySelector("[data-progress-area]");
    function tick() {
      fetch(url, { credentials: "same-origin", redirect: "manual", headers: { "Accept": "application/json" } })
        .then(function (answer) {
          if (answer.type === "opaqueredirect") { window.location.reload(); return null; }
          return answer.ok ? answer.json() : null;
        })
        .then(function (run) {
          if (!run || run.state === "idle") return;
          area.hidden = false;
          bar.value = run.percent;
          bar.textContent = run.percent + "%";
          section.querySelector("#import-stage").textContent = run.stage;
          section.querySelector("[data-rooms]").textContent = run.rooms_saved + (run.rooms_total !== null ? " of " + run.rooms_total : "");
          section.querySelector("[data-bookings]").textContent = run.bookings_done + (run.bookings_total !== null ? " of " + run.bookings_total : "");
          var message = section.querySelector("[data-message]");
          message.textContent = run.message;
          message.className = run.state === "failed" ? "error" : "";
          if (run.state === "running") { window.setTimeout(tick, 400); return; }
          var start = section.querySelector("[data-start]");
          if (start) start.hidden = run.state === "done";
          if (run.state === "done") {
            section.querySelector("[data-done]").hidden = false;
            window.setTimeout(function () { window.location.assign(run.dashboard); }, 1500);
          }
        })
        .catch(function () { window.setTimeout(tick, 1000); });
    }
    tick();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var focus = document.querySelector("[data-focus]");
    if (focus) focus.focus();
    var credential = document.querySelector("[data-credential]");
    if (credential) {
      credential.addEventListener("change", function () { showWhen(credential); });
      showWhen(credential);
    }
    bindSources(document);
    var form = document.querySelector("form[data-preview]");
    if (form) livePreview(form);
    var section = document.querySelector("[data-import]");
    if (section) followImport(section);
  });
})();
