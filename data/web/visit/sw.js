// SPDX-License-Identifier: GPL-3.0-or-later
// The visit page's service worker: keeps a copy of the page itself (HTML, scripts, styles, the
// triage rules) so that a patient who reloads or reopens the page without a connection still sees
// their visit, and what they write waits in the page's own outbox until the connection is back.
// Only the page's files are kept. Nothing from the API (/fhir, /auth, /ws, /visit/queue, /chat…)
// ever passes through this cache: those answers hold health data and must come from the server.
//
// Network first: with a connection every file is asked for as before (the server's ETag makes
// that a 304), so a server upgrade reaches the patient at once; the copy is used only when the
// network fails.

'use strict';

const CACHE = 'wz-visit-shell-1';

const SHELL = [
  './',
  'visit.css', 'chat.css', 'call.css', 'records.css',
  'visit.js', 'chat.js', 'call.js', 'records.js',
  'triage-rules.json',
  '../style.css', '../favicon.svg',
].map((file) => new URL(file, self.registration.scope).href);

function isShell (request) {
  if (request.method !== 'GET')
    return false;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin)
    return false;
  url.hash = '';
  url.search = '';
  return request.mode === 'navigate' ? url.href === SHELL[0] : SHELL.includes(url.href);
}

self.addEventListener('install', (event) => {
  // A file that fails to load leaves the worker uninstalled rather than half a page cached.
  event.waitUntil(caches.open(CACHE)
    .then((cache) => cache.addAll(SHELL.map((href) => new Request(href, { cache: 'no-cache' }))))
    .then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((name) => name.startsWith('wz-visit-shell-') && name !== CACHE)
      .map((name) => caches.delete(name))))
    .then(() => self.clients.claim()));
});

async function networkFirst (request) {
  const cache = await caches.open(CACHE);
  const key = request.mode === 'navigate' ? SHELL[0] : request.url.split(/[?#]/)[0];
  try {
    const response = await fetch(request);
    if (response.ok)
      await cache.put(key, response.clone());
    return response;
  } catch (error) {
    const copy = await cache.match(key);
    if (copy)
      return copy;
    throw error;
  }
}

self.addEventListener('fetch', (event) => {
  if (isShell(event.request))
    event.respondWith(networkFirst(event.request));
});
