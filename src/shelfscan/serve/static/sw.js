// shelfscan live: service worker. Precaches the live page, onnxruntime-web and the models at install, then
// answers those URLs from the cache (so the page works offline); everything else (the API, the upload page)
// goes to the network. The server fills in the cache version (a hash of what is cached) and the URL list.
"use strict";
const CACHE = "shelfscan-live-__CACHE_VERSION__";
const PRECACHE = __PRECACHE__;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(PRECACHE)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith("shelfscan-live-") && k !== CACHE)
      .map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || !PRECACHE.includes(url.pathname)) {
    return;
  }
  event.respondWith(caches.open(CACHE).then(async (cache) => {
    const hit = await cache.match(url.pathname);
    if (hit) return hit;
    const res = await fetch(event.request);
    if (res.ok) cache.put(url.pathname, res.clone());
    return res;
  }));
});
