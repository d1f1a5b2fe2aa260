// The room display: polls its state, draws it, and sends check-in, book-now and end.
(function () {
  "use strict";
  var root = document.getElementById("display");
  var base = "/display/" + root.dataset.room;
  var header = root.dataset.writeHeader;
  var POLL_MS = 15000;
  var timer = null;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function button(label, onClick, secondary) {
    var b = el("button", { type: "button" }, label);
    if (secondary) b.className = "secondary";
    b.addEventListener("click", function () { b.disabled = true; onClick(); });
    return b;
  }

  function draw(state) {
    root.className = "display " + (state.busy ? "busy" : "free");
    document.getElementById("clock").textContent = state.clock;
    document.getElementById("status").textContent = state.busy ? "Busy" : "Free";
    var current = document.getElementById("current");
    current.replaceChildren();
    var actions = document.getElementById("actions");
    actions.replaceChildren();
    if (state.current) {
      var m = state.current;
      current.append(el("p", { "class": "display-title" }, m.title),
                     el("p", { "class": "display-time" }, m.start + "–" + m.end));
      if (m.checked_in) {
        actions.append(el("p", { "class": "display-hint" }, "✓ Checked in"));
      } else if (m.check_in_open) {
        actions.append(button("Check in", function () { act("check-in", { booking_id: m.id }); }));
        if (m.release_at) {
          actions.append(el("p", { "class": "display-hint" },
            "Check in by " + m.release_at + " or the room is released."));
        }
      }
      actions.append(button("Extend 15 min", function () { act("extend", { booking_id: m.id }); }, true));
      actions.append(button("End meeting now", function () { act("end", { booking_id: m.id }); }, true));
    } else {
      current.append(el("p", { "class": "display-time" },
        state.free_until ? "until " + state.free_until : "for the rest of the day"));
      state.book_now.forEach(function (minutes) {
        actions.append(button("Book " + minutes + " min", function () { act("book", { minutes: minutes }); }));
      });
    }
    var next = document.getElementById("next");
    next.replaceChildren();
    if (!state.next.length) next.append(el("li", { "class": "display-none" }, "Nothing else booked today."));
    state.next.forEach(function (m) {
      var li = el("li");
      li.append(el("span", { "class": "display-slot" }, m.start + "–" + m.end), " " + m.title);
      next.append(li);
    });
  }

  function online(ok) { document.getElementById("offline").hidden = ok; }
  function say(text) { document.getElementById("message").textContent = text || ""; }

  function refresh() {
    return fetch(base + "/state", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (state) { online(true); draw(state); })
      .catch(function () { online(false); });
  }

  function act(verb, body) {
    say("");
    var headers = { "Content-Type": "application/json" };
    headers[header] = "1";
    fetch(base + "/" + verb, { method: "POST", credentials: "same-origin", headers: headers,
                               body: JSON.stringify(body) })
      .then(function (r) {
        return r.json().then(function (data) {
          if (r.ok) { online(true); draw(data); say(verb === "book" ? "Booked — enjoy the room." : ""); return; }
          say(data.error ? data.error.message : "That did not work.");
          refresh();
        });
      })
      .catch(function () { online(false); say("Not sent: the display is offline."); refresh(); });
  }

  draw(JSON.parse(document.getElementById("initial-state").textContent));
  timer = setInterval(refresh, POLL_MS);
  window.addEventListener("online", refresh);
  window.roomsyncDisplay = { refresh: refresh, stop: function () { clearInterval(timer); } };
})();
