/* The outreach entry page's service worker, served from /desk/services/outreach/sw.js so that
   its scope covers the entry pages. Network first: online, the desk always sees the fresh page
   (and the copy kept is refreshed); offline, a reload gets the last copy kept, and the entries
   themselves live in localStorage (outreach.js). Only GETs are kept: the sync POST must fail
   loudly offline so that outreach.js keeps the entries. */
"use strict";
var CACHE = "jiesu-outreach-v1";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

/* The page tells the worker what it needs to be reloaded offline: itself and its assets; the
   worker answers on the message's port once they are all kept. */
self.addEventListener("message", function (event) {
  var urls = (event.data && event.data.cache) || [];
  var port = event.ports && event.ports[0];
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(urls.map(function (url) {
      return fetch(url, { credentials: "same-origin" }).then(function (response) {
        if (response.ok) return cache.put(url, response).then(function () { return true; });
        return false;
      }).catch(function () { return false; /* offline already: keep the copy we have */ });
    }));
  }).then(function (kept) {
    if (port) port.postMessage({ kept: kept.every(Boolean) });
  }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET" || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(fetch(request).then(function (response) {
    if (response.ok && response.type === "basic") {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
    }
    return response;
  }).catch(function () {
    return caches.match(request, { ignoreVary: true }).then(function (hit) {
      return hit || Response.error();
    });
  }));
});
