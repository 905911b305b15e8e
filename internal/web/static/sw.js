// sw.js: natter's service worker, served at /sw.js with the scope /.
//
// It exists for Web Push: it shows what natter's delivery engine pushes,
// opens the right page when a notification is clicked, closes notifications
// once what they were about has been read on any device ('read' pushes), and
// subscribes again when the push service replaces a subscription.
//
// It has no fetch handler and opens no cache: every page still comes from
// the server as if the worker were not there, so nothing private is ever
// kept on the device by it, and a new version can take over at once.
'use strict';

// Fixed URLs of natter's push API (DESIGN.md §8; other clients use them too).
const KEY_URL = '/push/key';
const SUBSCRIPTIONS_URL = '/push/subscriptions';
// Unfingerprinted icon URLs: the worker's own URL is fixed, so it cannot
// name fingerprinted files. They are served with no-cache.
const ICON_URL = '/static/icons/icon-192.png';
const BADGE_URL = '/static/icons/badge-96.png';
// The tag of the quiet note a 'read' push leaves when it closed everything
// (see closeRead); the next notification and the next natter page close it.
const CAUGHT_UP_TAG = 'natter-caught-up';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

// ---------------------------------------------------------------------
// Pushes
// ---------------------------------------------------------------------

// A payload is JSON {type: 'message'|'mention'|'test'|'read', title, body,
// url, tag}; a 'read' one has tags: [...], the notifications to close.
self.addEventListener('push', (event) => {
  const payload = readPayload(event.data);
  event.waitUntil(inTurn(() => (payload.type === 'read' ? closeRead(payload) : show(payload))));
});

// Pushes are handled one at a time, in the order they came. The browser
// starts the next push event before the last has finished, and a 'read'
// must not overtake the message it closes; besides, Chromium's
// getNotifications() run while a showNotification() is under way can lose
// that notification from every later list, so it could never be closed.
let turn = Promise.resolve();
function inTurn(task) {
  const done = turn.then(task);
  turn = done.catch(() => {});
  return done;
}

// readPayload never fails: a push that cannot be read still shows a
// notification, since browsers punish pushes that show nothing (Chrome
// shows its own "updated in the background" note, Safari ends the
// subscription after a few).
function readPayload(data) {
  let payload = null;
  try {
    payload = data ? data.json() : null;
  } catch {
    // Not JSON: shown as a generic notification below.
  }
  return payload && typeof payload === 'object' ? payload : {};
}

async function show(payload) {
  const tag = stringOr(payload.tag, '');
  const title = stringOr(payload.title, 'natter');
  const options = {
    body: stringOr(payload.body, payload.title ? '' : 'Something new is waiting for you on natter.'),
    icon: ICON_URL,
    badge: BADGE_URL,
    data: {url: ownURL(payload.url), type: stringOr(payload.type, '')},
  };
  if (tag) {
    // One notification per conversation or post: a newer one replaces it,
    // and still alerts the member (renotify).
    options.tag = tag;
    options.renotify = true;
  }
  await closeTagged(new Set([CAUGHT_UP_TAG]));
  await self.registration.showNotification(title, options);
}

// closeRead closes the notifications about what was read elsewhere.
//
// Browsers expect every push to show something. When this one closed the
// last of natter's notifications and no natter page is in view, it leaves
// a silent "all caught up" note in their place (tagged, so there is never
// more than one), which natter's next notification and the next natter
// page opened replace or close: a quiet trace rather than Chrome's
// "This site has been updated in the background" or, on Safari, a
// subscription revoked after a few silent pushes.
async function closeRead(payload) {
  const tags = new Set();
  for (const tag of [...(Array.isArray(payload.tags) ? payload.tags : []), payload.tag]) {
    if (typeof tag === 'string' && tag !== '') tags.add(tag);
  }
  const left = (await closeTagged(tags)).length;
  if (left > 0 || (await pageInView())) return;
  await self.registration.showNotification('natter', {
    body: 'You are all caught up.',
    icon: ICON_URL,
    badge: BADGE_URL,
    tag: CAUGHT_UP_TAG,
    silent: true,
    data: {url: ownURL('/'), type: 'read'},
  });
}

// closeTagged closes the notifications with one of tags and returns those
// still shown.
async function closeTagged(tags) {
  const left = [];
  for (const notification of await self.registration.getNotifications()) {
    if (tags.has(notification.tag)) notification.close();
    else left.push(notification);
  }
  return left;
}

async function pageInView() {
  const windows = await self.clients.matchAll({type: 'window', includeUncontrolled: true});
  return windows.some((w) => w.visibilityState === 'visible');
}

// A natter page opened (push.js says so): the member is looking at
// natter, so the "all caught up" note has said what it had to. Closed in
// turn with the pushes, for the reason inTurn gives.
self.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'page-open') {
    event.waitUntil(inTurn(() => closeTagged(new Set([CAUGHT_UP_TAG]))));
  }
});

// ---------------------------------------------------------------------
// Clicks
// ---------------------------------------------------------------------

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const data = event.notification.data || {};
  event.waitUntil(openPage(ownURL(data.url)));
});

// openPage focuses a natter tab already showing url, or opens one.
async function openPage(url) {
  const target = new URL(url);
  const windows = await self.clients.matchAll({type: 'window', includeUncontrolled: true});
  const open = windows.find((w) => {
    const u = new URL(w.url);
    return u.origin === target.origin && u.pathname === target.pathname && u.search === target.search;
  });
  if (open) return open.focus();
  return self.clients.openWindow(url);
}

// ---------------------------------------------------------------------
// Subscriptions
// ---------------------------------------------------------------------

// The push service may replace a subscription (expiry, a key rotated);
// natter learns of the new one here, or it would push to a dead endpoint.
// This runs without a page: it needs the member's session cookie, which
// the worker's requests carry like the pages' do.
self.addEventListener('pushsubscriptionchange', (event) => {
  event.waitUntil(resubscribe(event.oldSubscription, event.newSubscription));
});

async function resubscribe(oldSubscription, newSubscription) {
  let subscription = newSubscription;
  if (!subscription) {
    subscription = await self.registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: await serverKey(oldSubscription),
    });
  }
  const response = await sendJSON('POST', subscription.toJSON());
  if (!response.ok) throw new Error(`${SUBSCRIPTIONS_URL}: HTTP ${response.status}`);
  if (oldSubscription && oldSubscription.endpoint !== subscription.endpoint) {
    // Best effort: a dead endpoint is also dropped at its first failed push.
    await sendJSON('DELETE', {endpoint: oldSubscription.endpoint}).catch(() => {});
  }
}

// serverKey is natter's current VAPID public key, or the old
// subscription's when natter cannot be reached.
async function serverKey(oldSubscription) {
  try {
    const response = await fetch(KEY_URL, {headers: {Accept: 'application/json'}});
    if (response.ok) {
      const {publicKey} = await response.json();
      if (typeof publicKey === 'string' && publicKey !== '') return base64URLToBytes(publicKey);
    }
  } catch {
    // Fall back to the old key below.
  }
  const old = oldSubscription && oldSubscription.options && oldSubscription.options.applicationServerKey;
  if (!old) throw new Error(`${KEY_URL}: no key to subscribe with`);
  return old;
}

function sendJSON(method, body) {
  return fetch(SUBSCRIPTIONS_URL, {
    method,
    credentials: 'same-origin',
    headers: {'Content-Type': 'application/json', Accept: 'application/json'},
    body: JSON.stringify(body),
  });
}

// ---------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------

function stringOr(value, fallback) {
  return typeof value === 'string' && value !== '' ? value : fallback;
}

// ownURL resolves url against natter's origin, and refuses to lead anywhere
// else: a click only ever opens natter.
function ownURL(url) {
  const home = new URL('/', self.location.origin);
  if (typeof url !== 'string' || url === '') return home.href;
  try {
    const u = new URL(url, self.location.origin);
    return u.origin === home.origin ? u.href : home.href;
  } catch {
    return home.href;
  }
}

function base64URLToBytes(text) {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}
