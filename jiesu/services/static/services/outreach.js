/* The outreach desk's entry page (外出服务): works without a network.
   Each entry gets a UUID when it is typed and is kept in localStorage until the centre has it;
   it is sent to POST /api/v1/outreach-events/{id}/entries whenever the browser is online.
   The server stores each client id once, so sending again (a lost answer, two tabs) adds
   nothing. No inline script, no CDN: this file is served from the project's static files. */
(function () {
  "use strict";
  var root = document.querySelector("[data-outreach]");
  if (!root || root.getAttribute("data-ready")) return;
  root.setAttribute("data-ready", "1");
  var key = "jiesu-outreach-" + root.getAttribute("data-event");
  var url = root.getAttribute("data-sync-url");
  var form = root.querySelector("[data-entry-form]");
  var syncing = false;
  /* What the last "online"/"offline" event said: Chromium may fire "online" before
     navigator.onLine itself turns true. */
  var online = navigator.onLine;

  function msg(name) { return root.getAttribute("data-msg-" + name) || ""; }
  function load() {
    try { return JSON.parse(window.localStorage.getItem(key) || "[]"); } catch (e) { return []; }
  }
  function store(list) { window.localStorage.setItem(key, JSON.stringify(list)); render(); }
  function uuid4() {
    /* crypto.randomUUID needs a secure context; an intranet over plain HTTP is not one. */
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x < 16 ? "0" : "") + x.toString(16); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function csrf() {
    var m = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }
  function say(text) {
    var state = root.querySelector("[data-online-state]");
    state.setAttribute("data-online", online ? "true" : "false");
    state.textContent = (online ? msg("online") : msg("offline")) + (text ? " " + text : "");
  }
  function render(text) {
    var list = load();
    root.querySelector("[data-pending]").textContent = String(list.length);
    var ul = root.querySelector("[data-pending-list]");
    ul.textContent = "";
    list.forEach(function (entry) {
      var li = document.createElement("li");
      li.textContent = (entry.name || "") + " " + entry.phone + " · " + (entry.kind === "booking"
        ? msg("booking") + " " + (entry.label || "") : entry.content.slice(0, 40));
      if (entry.error) {
        var err = document.createElement("strong");
        err.className = "field-error";
        err.textContent = " " + entry.error + " ";
        li.appendChild(err);
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "btn quiet";
        remove.textContent = msg("remove");
        remove.addEventListener("click", function () {
          store(load().filter(function (e) { return e.client_id !== entry.client_id; }));
        });
        li.appendChild(remove);
      }
      ul.appendChild(li);
    });
    say(text || "");
  }
  function sync() {
    var list = load().filter(function (e) { return !e.error; });
    if (syncing || !online || !list.length) { render(); return; }
    syncing = true;
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(), "Accept": "application/json" },
      body: JSON.stringify({ entries: list.map(function (e) {
        var copy = Object.assign({}, e); delete copy.error; delete copy.label; return copy;
      }) })
    }).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.json();
    }).then(function (body) {
      var done = {}, failed = {};
      body.created.concat(body.existing).forEach(function (e) { done[e.client_id] = true; });
      body.failed.forEach(function (f) { failed[f.client_id] = f.message; });
      store(load().filter(function (e) { return !done[e.client_id]; }).map(function (e) {
        if (failed[e.client_id]) e.error = failed[e.client_id];
        return e;
      }));
      render(msg("synced") + " " + (body.created.length + body.existing.length));
    }).catch(function () {
      render(msg("failed"));
      window.setTimeout(sync, 5000);  /* the network may need a moment after "online" */
    }).then(function () { syncing = false; });
  }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var data = new FormData(form);
    if (!String(data.get("phone") || "").trim() || !String(data.get("content") || "").trim()) {
      form.querySelector(String(data.get("phone") || "").trim() ? "#e-content" : "#e-phone").focus();
      return;
    }
    var list = load();
    list.push({
      client_id: uuid4(),
      name: String(data.get("name") || "").trim(),
      phone: String(data.get("phone") || "").trim(),
      request_type: String(data.get("request_type") || "help"),
      content: String(data.get("content") || "").trim(),
      address: String(data.get("address") || "").trim(),
      solved_on_spot: data.get("solved_on_spot") === "1",
      answer: String(data.get("answer") || "").trim(),
      noted_at: new Date().toISOString()
    });
    store(list);
    form.reset();
    render(msg("saved"));
    form.querySelector("#e-name").focus();
    sync();
  });
  /* Bookings: the day's free slots came with the page (a JSON data block, not a script), so
     the form works offline; the server checks the slot again when the booking is sent, and a
     slot taken meanwhile comes back as this entry's error. */
  var booking = root.querySelector("[data-booking-form]");
  var offers = [];
  try { offers = JSON.parse(document.getElementById("outreach-slots").textContent || "[]"); } catch (e) { offers = []; }
  var offerSelect = booking.querySelector("#b-offer"), slotSelect = booking.querySelector("#b-slot");
  function option(select, value, text) {
    var o = document.createElement("option");
    o.value = value; o.textContent = text; select.appendChild(o);
  }
  function fillSlots() {
    slotSelect.textContent = "";
    var offer = offers[Number(offerSelect.value)];
    (offer ? offer.slots : []).forEach(function (s) { option(slotSelect, s.start, s.time + " (" + s.free + ")"); });
  }
  offers.forEach(function (o, i) { option(offerSelect, String(i), o.point_label + " · " + o.matter_label); });
  booking.querySelector("[data-no-slots]").hidden = offers.length > 0;
  fillSlots();
  offerSelect.addEventListener("change", fillSlots);
  booking.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var data = new FormData(booking);
    var offer = offers[Number(offerSelect.value)];
    var name = String(data.get("name") || "").trim(), phone = String(data.get("phone") || "").trim();
    if (!offer || !slotSelect.value || !name || !phone) {
      booking.querySelector(!name ? "#b-name" : "#b-phone").focus();
      return;
    }
    var list = load();
    list.push({
      client_id: uuid4(), kind: "booking", name: name, phone: phone,
      point: offer.point, matter: offer.matter, start: slotSelect.value,
      label: offer.point_label + " · " + offer.matter_label + " " + slotSelect.options[slotSelect.selectedIndex].text,
      noted_at: new Date().toISOString()
    });
    store(list);
    booking.querySelector("#b-name").value = "";
    booking.querySelector("#b-phone").value = "";
    render(msg("saved"));
    sync();
  });
  /* A reload without a network: the service worker answers with the last copy of this page. */
  if ("serviceWorker" in navigator && root.getAttribute("data-sw-url")) {
    navigator.serviceWorker.register(root.getAttribute("data-sw-url")).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (reg) {
      var urls = [window.location.href];
      document.querySelectorAll("script[src], link[rel=stylesheet][href]").forEach(function (el) {
        urls.push(el.src || el.href);
      });
      var channel = new MessageChannel();
      channel.port1.onmessage = function (ev) {
        /* "ready": this page and its assets are kept; a reload offline will find them. */
        root.setAttribute("data-sw", ev.data && ev.data.kept ? "ready" : "partial");
      };
      reg.active.postMessage({ cache: urls }, [channel.port2]);
    }).catch(function () { /* no worker (plain HTTP): the page still works until it is reloaded */ });
  }
  root.querySelector("[data-sync]").addEventListener("click", function () { online = navigator.onLine; sync(); });
  window.addEventListener("online", function () { online = true; sync(); });
  window.addEventListener("offline", function () { online = false; render(); });
  window.setInterval(function () {
    online = navigator.onLine;
    sync();
  }, 30000);
  render();
  sync();
})();
