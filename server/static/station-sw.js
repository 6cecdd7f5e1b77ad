"use strict";
// The phone station's service worker (DESIGN §17.3): the page, its scripts, its style and its
// WebAssembly come from this cache, so the station opens and scans with the network gone.
// Nothing else is cached: the station API and the staff pages always go to the network.
const CACHE = "scanline-station-v1";
const SHELL = ["/station/", "/station/phone.js", "/static/phone.wasm", "/static/camera.js", "/static/reader.wasm", "/static/staff.css"];
self.addEventListener("install", (ev) => {
  ev.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});
self.addEventListener("activate", (ev) => {
  ev.waitUntil(caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k)))).then(() => self.clients.claim()));
});
self.addEventListener("fetch", (ev) => {
  const url = new URL(ev.request.url);
  if (ev.request.method !== "GET" || url.origin !== self.location.origin || !SHELL.includes(url.pathname)) return;
  // The network first, so a new version reaches the phone; the cache when it is gone.
  ev.respondWith(fetch(ev.request).then((r) => {
    if (r.ok) { const copy = r.clone(); caches.open(CACHE).then((c) => c.put(ev.request, copy)); }
    return r;
  }).catch(() => caches.match(ev.request)));
});
