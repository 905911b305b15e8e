// push.js: Web Push in this browser. Loaded with `defer` on members' pages.
//
// - Inside #push-controls (the notification settings page) it shows whether
//   this browser can get natter's notifications and turns them on or off:
//   "on" registers the service worker (/sw.js), asks for permission — only
//   on that click —, subscribes with natter's VAPID key and hands the
//   subscription to natter; "off" unsubscribes and tells natter.
// - It fills in the settings form's empty time zone with the browser's.
// - Once, on any page, it suggests turning notifications on, until the
//   member dismisses the suggestion or answers the browser's question.
// - It tells the service worker that a natter page is open, which closes
//   the "all caught up" note sw.js may have left.
//
// Nothing here asks for permission unprompted.
(() => {
  'use strict';

  const SW_URL = '/sw.js';
  const SUGGESTION_KEY = 'natter.pushSuggestion'; // localStorage: 'dismissed'

  const supported = () => window.isSecureContext && 'serviceWorker' in navigator &&
    'PushManager' in window && 'Notification' in window;

  // ---------------------------------------------------------------------
  // The controls on the settings page
  // ---------------------------------------------------------------------

  function initControls() {
    const root = document.getElementById('push-controls');
    if (!root) return;
    const {keyUrl, subscriptionsUrl} = root.dataset;
    if (!keyUrl || !subscriptionsUrl) return;

    const status = document.createElement('p');
    status.className = 'mb-2';
    status.setAttribute('role', 'status');
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'btn btn-primary';
    button.hidden = true;
    root.replaceChildren(status, button);

    let state = 'checking';
    let keyPromise = null; // fetched once the page may need it, not on the click
    let busy = false;

    function render(next, message) {
      state = next;
      root.dataset.state = state;
      const texts = {
        checking: 'Checking whether this browser can show notifications…',
        unsupported: isAppleWithoutApp()
          ? 'To get notifications on an iPhone or iPad, add natter to your Home Screen (Share, then “Add to Home Screen”) and open it from there.'
          : 'This browser cannot show notifications from natter.',
        blocked: 'Notifications from natter are blocked in this browser. Allow them in the browser’s site settings to turn them on.',
        off: 'Notifications are off in this browser.',
        on: 'Notifications are on in this browser.',
      };
      status.textContent = message || texts[state];
      button.hidden = state !== 'off' && state !== 'on';
      button.textContent = state === 'on' ? 'Turn off in this browser' : 'Turn on notifications in this browser';
      button.className = state === 'on' ? 'btn btn-outline-secondary' : 'btn btn-primary';
      button.disabled = busy;
    }

    async function currentSubscription() {
      const registration = await navigator.serviceWorker.getRegistration('/');
      return registration ? registration.pushManager.getSubscription() : null;
    }

    async function refresh() {
      if (!supported()) return render('unsupported');
      if (Notification.permission === 'denied') return render('blocked');
      keyPromise = keyPromise || fetchKey(keyUrl);
      keyPromise.catch(() => { keyPromise = null; }); // a failed fetch is retried on the click
      const subscription = Notification.permission === 'granted' ? await currentSubscription() : null;
      render(subscription ? 'on' : 'off');
    }

    async function turnOn() {
      // Asked first, while the click still counts as the member's gesture
      // (Safari refuses a question asked after other awaits).
      const permission = await Notification.requestPermission();
      if (permission !== 'granted') {
        render(permission === 'denied' ? 'blocked' : 'off',
          permission === 'denied' ? null : 'Notifications stay off: the browser was not allowed to show them.');
        return;
      }
      const key = await (keyPromise || (keyPromise = fetchKey(keyUrl)));
      await navigator.serviceWorker.register(SW_URL, {scope: '/'});
      const registration = await navigator.serviceWorker.ready;
      let subscription = await registration.pushManager.getSubscription();
      if (subscription && !sameKey(subscription, key)) {
        // Made for another key (natter's keys were replaced): it cannot be
        // reused, and subscribe() refuses while it exists.
        await subscription.unsubscribe();
        subscription = null;
      }
      subscription = subscription || await registration.pushManager.subscribe({userVisibleOnly: true, applicationServerKey: key});
      const response = await sendJSON(subscriptionsUrl, 'POST', subscription.toJSON());
      if (!response.ok) {
        // Leave nothing half-done: a subscription natter refused is no use.
        await subscription.unsubscribe().catch(() => {});
        throw new Error(await errorText(response));
      }
      render('on', 'Notifications are on in this browser. You can send yourself a test notification below.');
    }

    async function turnOff() {
      const subscription = await currentSubscription();
      if (subscription) {
        const {endpoint} = subscription;
        // Unsubscribed here whatever natter answers: natter drops an
        // endpoint the push service reports gone at its next push.
        await subscription.unsubscribe();
        const response = await sendJSON(subscriptionsUrl, 'DELETE', {endpoint}).catch(() => null);
        if (response && !response.ok && response.status !== 404) throw new Error(await errorText(response));
      }
      render('off', 'Notifications are off in this browser.');
    }

    button.addEventListener('click', async () => {
      if (busy) return;
      busy = true;
      const action = state === 'on' ? turnOff : turnOn;
      render(state, state === 'on' ? 'Turning notifications off…' : 'Turning notifications on…');
      try {
        await action();
      } catch (err) {
        await refresh().catch(() => {});
        status.textContent = `Something went wrong: ${err && err.message ? err.message : err}. Please try again.`;
      } finally {
        busy = false;
        button.disabled = false;
      }
    });

    render('checking');
    refresh().catch(() => render('unsupported'));
  }

  async function fetchKey(keyUrl) {
    const response = await fetch(keyUrl, {headers: {Accept: 'application/json'}});
    if (!response.ok) throw new Error(await errorText(response));
    const {publicKey} = await response.json();
    if (typeof publicKey !== 'string' || publicKey === '') throw new Error('natter sent no push key');
    return base64URLToBytes(publicKey);
  }

  function sameKey(subscription, key) {
    const own = subscription.options && subscription.options.applicationServerKey;
    if (!own) return false;
    const bytes = new Uint8Array(own);
    return bytes.length === key.length && bytes.every((b, i) => b === key[i]);
  }

  function sendJSON(url, method, body) {
    return fetch(url, {
      method,
      credentials: 'same-origin',
      headers: {'Content-Type': 'application/json', Accept: 'application/json'},
      body: JSON.stringify(body),
    });
  }

  // errorText is natter's JSON error message ({"error": "..."}), or the status.
  async function errorText(response) {
    try {
      const body = await response.json();
      if (body && typeof body.error === 'string') return body.error;
    } catch {
      // Not JSON.
    }
    return `HTTP ${response.status}`;
  }

  function base64URLToBytes(text) {
    const base64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
    return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  }

  // isAppleWithoutApp: Safari on iOS and iPadOS offers Web Push only to a
  // site added to the Home Screen; navigator.standalone exists only there.
  function isAppleWithoutApp() {
    return navigator.standalone === false;
  }

  // ---------------------------------------------------------------------
  // The time zone
  // ---------------------------------------------------------------------

  function initTimeZone() {
    const fields = document.querySelectorAll('input[name="time_zone"], select[name="time_zone"]');
    if (fields.length === 0) return;
    let zone = '';
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone || '';
    } catch {
      return;
    }
    for (const field of fields) {
      if (field.value !== '' || !zone) continue;
      if (field instanceof HTMLSelectElement && ![...field.options].some((o) => o.value === zone)) continue;
      field.value = zone;
    }
  }

  // ---------------------------------------------------------------------
  // The one-time suggestion
  // ---------------------------------------------------------------------

  function initSuggestion() {
    const box = document.getElementById('push-suggestion');
    // Not on the settings page itself, where the controls are.
    if (!box || document.getElementById('push-controls')) return;
    if (!supported() || Notification.permission !== 'default' || remembered()) return;
    box.hidden = false;
    const dismiss = () => {
      box.hidden = true;
      try {
        localStorage.setItem(SUGGESTION_KEY, 'dismissed');
      } catch {
        // Storage refused (private mode): it shows again next time.
      }
    };
    for (const el of box.querySelectorAll('[data-push-dismiss], a')) el.addEventListener('click', dismiss);
  }

  function remembered() {
    try {
      return localStorage.getItem(SUGGESTION_KEY) === 'dismissed';
    } catch {
      return false;
    }
  }

  // ---------------------------------------------------------------------
  // The "all caught up" note
  // ---------------------------------------------------------------------

  // The worker closes it: the page asking for the notifications itself
  // could race a push being shown (see inTurn in sw.js).
  async function closeCaughtUp() {
    if (!supported() || Notification.permission !== 'granted') return;
    const registration = await navigator.serviceWorker.getRegistration('/');
    if (registration && registration.active) registration.active.postMessage({type: 'page-open'});
  }

  // ---------------------------------------------------------------------

  for (const init of [initControls, initTimeZone, initSuggestion, closeCaughtUp]) {
    try {
      const done = init();
      if (done instanceof Promise) done.catch((err) => console.warn('natter:', init.name, err));
    } catch (err) {
      console.error('natter:', init.name, err);
    }
  }
})();
