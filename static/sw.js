// The planner's service worker: after one visit the site works offline.
//
// Network first, cache as fallback: an online visit always gets the current build (Trunk's
// file names carry a content hash, the HTML does not), and every same-origin response is kept
// for the next offline visit. On install it fetches the page and caches the files the page
// names (its script, wasm and styles), since the very first load runs before this worker
// controls the page. It only ever talks to its own origin.
const CACHE = 'ipam-planner-v1';
const SCOPE = self.registration.scope;

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      const page = await fetch(SCOPE, { cache: 'no-cache' });
      if (!page.ok) return;
      const html = await page.clone().text();
      await cache.put(SCOPE, page);
      const assets = new Set();
      // Quoted, or unquoted as in Trunk's minified release HTML (`href=/style-….css`).
      for (const [, path] of html.matchAll(/["'=]([^"'\s>=]+\.(?:js|wasm|css))(?=["'\s>])/g)) {
        const url = new URL(path, SCOPE);
        if (url.origin === self.location.origin) assets.add(url.href);
      }
      await cache.addAll([...assets]);
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) if (key !== CACHE) await caches.delete(key);
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(
    (async () => {
      const cache = await caches.open(CACHE);
      try {
        const response = await fetch(request);
        if (response.ok) await cache.put(request, response.clone());
        return response;
      } catch (offline) {
        const navigate = request.mode === 'navigate';
        const hit = (await cache.match(request, { ignoreSearch: navigate })) ?? (navigate ? await cache.match(SCOPE) : undefined);
        if (hit) return hit;
        throw offline;
      }
    })(),
  );
});
