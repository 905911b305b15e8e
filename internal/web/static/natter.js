// natter.js: the page script for natter. No framework, no build step.
//
// Loaded with `defer` after bootstrap.bundle.min.js, so the DOM is parsed
// and window.bootstrap normally exists. Every feature looks for the DOM it
// needs and checks the browser APIs it uses: a page without a feature, or a
// browser without an API, simply goes without it.
(() => {
  'use strict';

  // Every notification the server streams; the SSE event names equal these.
  // live-worker.js gets this list in the 'hello' message, so it lives only here.
  const NOTIFICATION_NAMES = ['unread_message_count', 'unread_activity_count'];

  const LIVE_NAME = 'natter-live'; // SharedWorker name, Web Lock name and BroadcastChannel name
  const POLL_INTERVAL_MS = 10000;
  const MAX_STREAM_FAILURES = 3; // same rule as live-worker.js, see there
  const STREAM_HEALTHY_MS = 30000;
  const MESSAGES_URL = '/messages';

  const root = document.documentElement;

  // ---------------------------------------------------------------------
  // Applying notifications to the page
  // ---------------------------------------------------------------------

  // name → {id, timestamp} of the newest notification applied. Events can
  // arrive late or twice (reconnects, several tabs), so only newer ones count.
  const newest = new Map();
  // name → count currently shown; tells whether a count went up or down.
  const counts = new Map();
  // Newest server timestamp (float seconds) known; polling asks for changes after it.
  let since = 0;

  function isNewer(n) {
    const prev = newest.get(n.name);
    if (!prev) return true;
    // Stream events carry the member's increasing sequence id; polling
    // results do not, and the page's own poll start (data-since) has none.
    if (n.id != null && prev.id != null) return n.id > prev.id;
    return n.timestamp > prev.timestamp;
  }

  function applyNotification(n) {
    if (!n || typeof n.name !== 'string' || !isNewer(n)) return;
    const prev = newest.get(n.name);
    newest.set(n.name, {id: n.id ?? (prev ? prev.id : null), timestamp: n.timestamp});
    if (n.timestamp > since) since = n.timestamp;

    const count = Number(n.data);
    if (Number.isFinite(count)) showCount(n.name, count);

    document.dispatchEvent(new CustomEvent('natter:notification', {
      detail: {id: n.id ?? null, name: n.name, data: n.data, timestamp: n.timestamp},
    }));
  }

  function badgesFor(name) {
    return document.querySelectorAll(`[data-notification="${CSS.escape(name)}"]`);
  }

  function showCount(name, count) {
    const previous = counts.get(name);
    counts.set(name, count);
    const badges = badgesFor(name);
    for (const badge of badges) {
      badge.textContent = String(count);
      badge.hidden = count === 0;
    }
    // Without a previous value there is no change to tell anyone about.
    if (previous === undefined || previous === count) return;

    const labelled = [...badges].find((b) => b.dataset.labelOne && b.dataset.labelMany);
    const label = labelled ? (count === 1 ? labelled.dataset.labelOne : labelled.dataset.labelMany) : '';
    if (label) announce(count === 0 ? `No ${label}` : `${count} ${label}`);

    if (name === 'unread_message_count' && count > previous && document.visibilityState === 'hidden') {
      notifyDesktop(`You have ${count} ${label || 'unread messages'}`);
    }
  }

  // Several counts can change at once (e.g. after a reconnect); gather them
  // into one announcement, since a polite live region may only read the last.
  let announcements = [];
  function announce(text) {
    const announcer = document.getElementById('live-announcer');
    if (!announcer) return;
    if (announcements.length === 0) {
      setTimeout(() => {
        announcer.textContent = announcements.join('. ');
        announcements = [];
      }, 100);
    }
    announcements.push(text);
  }

  // Badges rendered by the server are the starting point for "did it change?".
  function readInitialCounts() {
    for (const name of NOTIFICATION_NAMES) {
      const badge = badgesFor(name)[0];
      const count = badge ? parseInt(badge.textContent, 10) : NaN;
      if (Number.isFinite(count)) counts.set(name, count);
    }
  }

  // ---------------------------------------------------------------------
  // Live delivery: SharedWorker → leader election → direct → polling
  // ---------------------------------------------------------------------

  let polling = false;

  function setMode(mode) {
    if (!polling) root.dataset.liveMode = mode; // polling is final for this page
  }

  // Messages from the worker, the leader tab or our own stream all look alike:
  // {type: 'notification', id, name, data, timestamp} or {type: 'status', connected, fallback}.
  function handleLiveMessage(msg) {
    if (!msg) return;
    if (msg.type === 'notification') {
      applyNotification(msg);
    } else if (msg.type === 'status') {
      root.dataset.liveConnected = String(Boolean(msg.connected));
      if (msg.fallback) startPolling();
    }
  }

  function startLive() {
    const {userId, liveUrl, workerUrl} = document.body.dataset;
    if (!userId) return; // logged out: nothing is live

    // The server's badges show every notification up to sequence number
    // data-seq: a streamed one with a higher id is newer, whatever its
    // time. Polling starts from data-since, a little before the page was
    // rendered (a poll result is a name's current value, so one the page
    // already shows does no harm).
    const main = document.getElementById('main');
    since = parseFloat(main && main.dataset.since) || Date.now() / 1000;
    const seq = Number.parseInt(document.body.dataset.seq, 10);
    for (const name of NOTIFICATION_NAMES) {
      newest.set(name, {id: Number.isFinite(seq) ? seq : null, timestamp: since});
    }

    if (!liveUrl) return startPolling();
    if (workerUrl && startSharedWorker(workerUrl, userId, liveUrl)) return;
    startWithoutWorker(userId, liveUrl);
  }

  function startWithoutWorker(userId, liveUrl) {
    if (navigator.locks && 'BroadcastChannel' in window) {
      startLeaderElection(userId, liveUrl);
    } else {
      setMode('direct');
      openStream(liveUrl, handleLiveMessage);
    }
  }

  // 1. One worker holds the stream for all tabs (see live-worker.js).
  function startSharedWorker(workerUrl, userId, liveUrl) {
    let worker;
    try {
      worker = new SharedWorker(workerUrl, {name: LIVE_NAME});
    } catch {
      return false; // missing, or forbidden in this context
    }
    const port = worker.port;
    const hello = () => port.postMessage({type: 'hello', userId, liveUrl, names: NOTIFICATION_NAMES});

    port.addEventListener('message', (e) => handleLiveMessage(e.data));
    port.start();
    // A worker script that cannot load (blocked, 404) reports here.
    worker.addEventListener('error', () => {
      port.close();
      startWithoutWorker(userId, liveUrl);
    }, {once: true});
    // Let the worker forget this page; re-register if it comes back from the back/forward cache.
    window.addEventListener('pagehide', () => port.postMessage({type: 'bye'}));
    window.addEventListener('pageshow', (e) => { if (e.persisted) hello(); });

    setMode('shared-worker');
    hello();
    return true;
  }

  // 2. Tabs elect a leader with a Web Lock; the leader holds the stream and
  // relays it over a BroadcastChannel. When the leader's page goes away the
  // browser releases its lock and the next waiting tab takes over.
  function startLeaderElection(userId, liveUrl) {
    const channel = new BroadcastChannel(LIVE_NAME);
    let leading = false;
    const latest = new Map(); // name → last notification, replayed to tabs that join
    let status = null;

    const relay = (msg) => channel.postMessage({...msg, userId});
    channel.addEventListener('message', (e) => {
      const msg = e.data || {};
      // Ignore tabs left over from another member's session.
      if (msg.userId !== userId) return;
      if (!leading) {
        handleLiveMessage(msg);
      } else if (msg.type === 'hello') {
        if (status) relay(status);
        for (const n of latest.values()) relay(n);
      }
    });

    setMode('follower');
    relay({type: 'hello'}); // a current leader answers with the current state

    navigator.locks.request(LIVE_NAME, () => {
      leading = true;
      setMode('leader');
      const lead = (msg) => {
        if (msg.type === 'notification') latest.set(msg.name, msg);
        else status = msg;
        relay(msg);
        handleLiveMessage(msg);
      };
      // A tab that already fell back to polling does not retry the stream;
      // it tells joining tabs to poll as well.
      if (polling) lead({type: 'status', connected: false, fallback: true});
      else openStream(liveUrl, lead);
      return new Promise(() => {}); // hold the lock for the page's lifetime
    }).catch(() => {
      // Locks refused (e.g. an opaque origin): manage on our own.
      channel.close();
      setMode('direct');
      openStream(liveUrl, handleLiveMessage);
    });
  }

  // 3. The EventSource itself; mirrors openStream() in live-worker.js.
  function openStream(liveUrl, onMessage) {
    if (typeof EventSource === 'undefined') {
      onMessage({type: 'status', connected: false, fallback: true});
      return;
    }
    const source = new EventSource(liveUrl);
    // Quick failures in a row; a stream that stayed open a while, or
    // delivered an event, proves streaming works (see live-worker.js).
    let failures = 0;
    let openedAt = 0;

    source.addEventListener('open', () => {
      openedAt = Date.now();
      onMessage({type: 'status', connected: true, fallback: false});
    });
    source.addEventListener('error', () => {
      if (openedAt && Date.now() - openedAt > STREAM_HEALTHY_MS) failures = 0;
      openedAt = 0;
      failures++;
      // CLOSED: the browser will not retry (401, or not an event stream at all).
      const fallback = source.readyState === EventSource.CLOSED || failures >= MAX_STREAM_FAILURES;
      if (fallback) source.close();
      onMessage({type: 'status', connected: false, fallback});
    });
    for (const name of NOTIFICATION_NAMES) {
      source.addEventListener(name, (e) => {
        let payload;
        try {
          payload = JSON.parse(e.data);
        } catch {
          return;
        }
        failures = 0;
        onMessage({
          type: 'notification',
          id: e.lastEventId === '' ? null : Number(e.lastEventId),
          name: payload.name || name,
          data: payload.data,
          timestamp: payload.timestamp,
        });
      });
    }
  }

  // 4. The fallback when streaming is impossible: ask for changes every 10 s.
  function startPolling() {
    const pollUrl = document.body.dataset.pollUrl;
    if (polling || !pollUrl) return;
    setMode('polling');
    polling = true;

    const poll = async () => {
      const url = new URL(pollUrl, location.href);
      url.searchParams.set('since', String(since));
      try {
        const response = await fetch(url, {headers: {Accept: 'application/json'}});
        if (response.status === 401) return; // logged out: stop for good
        if (response.ok) {
          const changes = await response.json();
          for (const n of Array.isArray(changes) ? changes : []) applyNotification({id: null, ...n});
        }
      } catch {
        // Offline or a bad reply: just try again next round.
      }
      // Chained timeouts rather than setInterval, so slow replies never overlap.
      setTimeout(poll, POLL_INTERVAL_MS);
    };
    poll();
  }

  // ---------------------------------------------------------------------
  // Desktop notifications (opt-in)
  // ---------------------------------------------------------------------

  function initDesktopNotificationButton() {
    const button = document.getElementById('desktop-notifications');
    if (!button || !('Notification' in window) || Notification.permission !== 'default') return;
    button.hidden = false;
    button.addEventListener('click', async () => {
      try {
        await Notification.requestPermission();
      } catch {
        // Nothing to do: the button stays for another try.
      }
      if (Notification.permission !== 'default') button.hidden = true;
    });
  }

  function notifyDesktop(text) {
    if (!('Notification' in window) || Notification.permission !== 'granted') return;
    try {
      // The shared tag makes every open tab replace one notification instead of stacking several.
      const notification = new Notification('natter', {body: text, tag: 'natter-messages'});
      notification.addEventListener('click', () => {
        window.focus();
        notification.close();
        location.href = MESSAGES_URL;
      });
    } catch {
      // Some browsers (Chrome on Android) allow notifications only from a service worker.
    }
  }

  // ---------------------------------------------------------------------
  // User popovers
  // ---------------------------------------------------------------------

  function initUserPopovers() {
    if (!window.bootstrap || !window.bootstrap.Popover) return;

    const SHOW_DELAY_MS = 500; // hovering this long means interest, not passing by
    const HIDE_GRACE_MS = 150; // time to cross the gap between link and popover
    const fragments = new Map(); // popup URL → HTML, for the page's lifetime

    let pending = null; // {link, timer, controller} counting down to show
    let open = null; // {link, popover, tip}: at most one at a time
    let hideTimer = null;
    let dismissed = null; // link closed with Escape: do not reopen until it is left

    const linkFrom = (node) => (node instanceof Element ? node.closest('a.user-popup[data-popup]') : null);
    const inOpenTip = (node) => Boolean(open && open.tip && node instanceof Node && open.tip.contains(node));

    function cancelPending() {
      if (!pending) return;
      clearTimeout(pending.timer);
      pending.controller.abort();
      pending = null;
    }

    function close() {
      clearTimeout(hideTimer);
      if (!open) return;
      open.popover.dispose();
      open.link.removeAttribute('aria-describedby'); // dispose() leaves it behind
      open = null;
    }

    async function fetchFragment(url, signal) {
      if (fragments.has(url)) return fragments.get(url);
      const response = await fetch(url, {signal, headers: {Accept: 'text/html'}});
      if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
      // Redirected: the session has ended and this is the login page, not
      // a popup.
      if (response.redirected) throw new Error(`${url}: redirected to ${response.url}`);
      const html = await response.text();
      fragments.set(url, html);
      return html;
    }

    function schedule(link) {
      cancelPending();
      const url = new URL(link.dataset.popup, location.href);
      if (url.origin !== location.origin) return; // only ever talk to our own server
      const controller = new AbortController();
      const timer = setTimeout(async () => {
        try {
          const html = await fetchFragment(url.href, controller.signal);
          if (pending && pending.controller === controller) show(link, html);
        } catch {
          // Aborted, or the server had no popup: the link still works as a link.
        }
      }, SHOW_DELAY_MS);
      pending = {link, timer, controller};
    }

    function show(link, html) {
      pending = null;
      close();
      const popover = new window.bootstrap.Popover(link, {
        trigger: 'manual',
        html: true,
        sanitize: false, // the fragment is escaped by the server, and trusted
        content: html,
        placement: 'top',
        fallbackPlacements: ['bottom', 'right', 'left'],
        customClass: 'user-popover',
        animation: false, // popovers come and go fast; no half-faded leftovers
      });
      open = {link, popover, tip: null}; // set first, so close() cleans up even if show() throws
      popover.show();
      // show() points the link's aria-describedby at the popover it inserted.
      open.tip = document.getElementById(link.getAttribute('aria-describedby'));
      if (!open.tip) close(); // nothing was shown (e.g. the link left the page)
    }

    function enter(target) {
      if (inOpenTip(target)) {
        clearTimeout(hideTimer);
        return;
      }
      const link = linkFrom(target);
      if (!link || link === dismissed) return;
      if (open && open.link === link) {
        clearTimeout(hideTimer);
      } else if (!pending || pending.link !== link) {
        schedule(link);
      }
    }

    function leave(target, related) {
      const from = inOpenTip(target) ? open.link : linkFrom(target);
      if (!from) return;
      // Moving inside the link, or between the link and its popover, is not leaving.
      if (related instanceof Node && (from.contains(related) || inOpenTip(related))) return;
      if (from === dismissed) dismissed = null;
      if (pending && pending.link === from) cancelPending();
      if (open && open.link === from) {
        clearTimeout(hideTimer);
        hideTimer = setTimeout(close, HIDE_GRACE_MS);
      }
    }

    // Delegated on document, so links added to the page later work too.
    document.addEventListener('mouseover', (e) => enter(e.target));
    document.addEventListener('focusin', (e) => enter(e.target));
    document.addEventListener('mouseout', (e) => leave(e.target, e.relatedTarget));
    document.addEventListener('focusout', (e) => leave(e.target, e.relatedTarget));
    document.addEventListener('keydown', (e) => {
      if (e.key !== 'Escape') return;
      cancelPending();
      if (!open) return;
      const {link} = open;
      close();
      dismissed = link; // focusing it again below must not reopen the popover
      link.focus();
    });
  }

  // ---------------------------------------------------------------------
  // Relative times
  // ---------------------------------------------------------------------

  function relativeTime(date, now) {
    const minutes = Math.floor((now - date) / 60000);
    const hours = Math.floor(minutes / 60);
    const days = Math.floor(hours / 24);
    if (minutes < 1) return 'just now'; // also a date slightly in the future (clock skew)
    if (hours < 1) return minutes === 1 ? '1 minute ago' : `${minutes} minutes ago`;
    if (days < 1) return hours === 1 ? '1 hour ago' : `${hours} hours ago`;
    if (days === 1) return 'yesterday';
    if (days < 7) return `${days} days ago`;
    return date.toLocaleDateString(undefined, {year: 'numeric', month: 'short', day: 'numeric'});
  }

  function refreshTimes() {
    const now = Date.now();
    for (const el of document.querySelectorAll('time.js-relative[datetime]')) {
      const date = new Date(el.getAttribute('datetime'));
      if (Number.isNaN(date.getTime())) continue;
      const text = relativeTime(date, now);
      if (el.textContent !== text) el.textContent = text;
      if (!el.title) el.title = date.toLocaleString(undefined, {dateStyle: 'full', timeStyle: 'short'});
    }
  }

  function initRelativeTimes() {
    refreshTimes();
    setInterval(refreshTimes, 30000);
    // Background tabs get their timers throttled; catch up when seen again.
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') refreshTimes();
    });
  }

  // ---------------------------------------------------------------------
  // "N characters left" counters
  // ---------------------------------------------------------------------

  function updateCounter(textarea) {
    const counter = textarea.id ? document.getElementById(`${textarea.id}-counter`) : null;
    const max = parseInt(textarea.getAttribute('maxlength'), 10);
    if (!counter || !(max > 0)) return;
    // Code points, like the server; .length would count an emoji as two.
    const left = max - [...textarea.value].length;
    counter.textContent = left === 1 ? '1 character left' : `${left} characters left`;
  }

  function initCounters() {
    document.querySelectorAll('textarea[data-maxlength-counter]').forEach(updateCounter);
    document.addEventListener('input', (e) => {
      if (e.target instanceof HTMLTextAreaElement && e.target.matches('[data-maxlength-counter]')) {
        updateCounter(e.target);
      }
    });
  }

  // ---------------------------------------------------------------------

  // One broken feature must not take the others down with it.
  for (const init of [readInitialCounts, startLive, initDesktopNotificationButton,
    initUserPopovers, initRelativeTimes, initCounters]) {
    try {
      init();
    } catch (err) {
      console.error('natter:', init.name, err);
    }
  }
})();
