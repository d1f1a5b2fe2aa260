// The occupant app's script: the booking page's live state (polled every half second
// until the room has answered), picking a time by clicking a free gap of a timeline, and
// moving focus to an error summary. Every page works without it.
(function () {
  "use strict";

  function watchState(region) {
    var url = region.getAttribute("data-state-url");
    var last = region.querySelector("[data-status]");
    var status = last ? last.getAttribute("data-status") : "";
    var calm = 0;
    function tick() {
      if (document.hidden) { window.setTimeout(tick, 1000); return; }
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin", redirect: "manual" })
        .then(function (answer) {
          if (answer.type === "opaqueredirect" || answer.status === 401 || answer.status === 403) {
            window.location.reload();
            return null;
          }
          return answer.ok ? answer.json() : null;
        })
        .then(function (state) {
          if (state) {
            var changed = state.status !== status || region.getAttribute("data-sync") !== state.sync;
            if (changed) {
              region.innerHTML = state.html;
              region.setAttribute("data-sync", state.sync);
              var badge = document.getElementById("state-badge");
              if (badge && state.badge) badge.innerHTML = state.badge;
              if (state.status !== status && (state.status === "declined" || state.status === "cancelled")) {
                document.querySelectorAll(".booking-card > .actions").forEach(function (el) { el.remove(); });
              }
              status = state.status;
            }
            calm = state.final ? calm + 1 : 0;
          }
          // Half a second while the room has not answered; then slowly, in case it changes its mind.
          window.setTimeout(tick, calm > 4 ? 5000 : 500);
        })
        .catch(function () { window.setTimeout(tick, 2000); });
    }
    window.setTimeout(tick, 500);
  }

  function localClock(seconds, zone) {
    var parts = new Intl.DateTimeFormat("en-GB", { timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
      .formatToParts(new Date(seconds * 1000));
    var get = function (type) { return parts.filter(function (p) { return p.type === type; })[0].value; };
    return get("hour") + ":" + get("minute");
  }

  // A click inside a free gap picks the quarter hour under the pointer (the meeting kept
  // inside the gap); the link's own address, the gap's start, is the keyboard's choice.
  document.addEventListener("click", function (event) {
    var gap = event.target.closest(".tl-free");
    if (!gap || event.detail === 0) return;
    var bar = gap.closest(".tl-bar");
    var rect = gap.getBoundingClientRect();
    var from = +gap.getAttribute("data-start"), to = +gap.getAttribute("data-end");
    var fits = (+bar.getAttribute("data-fits") || 60) * 60;
    var at = from + (to - from) * Math.min(Math.max((event.clientX - rect.left) / rect.width, 0), 1);
    at = Math.round(at / 900) * 900;
    at = Math.max(from, Math.min(at, to - fits));
    at = Math.ceil(at / 900) * 900 > to - fits ? Math.floor(at / 900) * 900 : Math.ceil(at / 900) * 900;
    if (at < from) at = from;
    var href = new URL(gap.getAttribute("data-href"), window.location.href);
    href.searchParams.set("start", localClock(at, bar.getAttribute("data-zone")));
    event.preventDefault();
    window.location.href = href.toString();
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-state-url]").forEach(function (region) {
      if (!region.hasAttribute("data-final")) watchState(region);
    });
    var summary = document.querySelector("[data-focus]");
    if (summary) summary.focus();
  });
})();
