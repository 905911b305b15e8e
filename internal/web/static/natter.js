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

  const LIVE_NAME = 'natter-live'; // the worker's name
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
    if (Number.isFinite(count)) {
      // A new message while its conversation is on screen belongs to the
      // page, not to the badge: the conversation shows it and reads it.
      if (n.name === 'unread_message_count' && count > (counts.get(n.name) ?? 0) && conversation.visible()) {
        conversation.refresh();
      } else {
        showCount(n.name, count);
      }
    }

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
    const labelled = [...badges].find((b) => b.dataset.labelOne && b.dataset.labelMany);
    const label = labelled ? (count === 1 ? labelled.dataset.labelOne : labelled.dataset.labelMany) : '';
    // What screen readers hear after the badge's number: "3 unread messages".
    for (const el of document.querySelectorAll(`[data-notification-label="${CSS.escape(name)}"]`)) {
      el.textContent = label ? ` ${label}` : '';
      el.hidden = count === 0;
    }
    showTotal();
    // Without a previous value there is no change to tell anyone about.
    if (previous === undefined || previous === count) return;

    if (label) announce(count === 0 ? `No ${label}` : `${count} ${label}`);

    if (name === 'unread_message_count' && count > previous && document.visibilityState === 'hidden') {
      notifyDesktop(`You have ${count} ${label || 'unread messages'}`);
    }
  }

  // The tab's title and icon show that something is unread: "(3) Home ·
  // natter", and a dot on the icon.
  const baseTitle = document.title.replace(/^\(\d+\) /, '');
  function showTotal() {
    let total = 0;
    for (const name of NOTIFICATION_NAMES) total += counts.get(name) || 0;
    const title = total > 0 ? `(${total}) ${baseTitle}` : baseTitle;
    if (document.title !== title) document.title = title;
    const icon = document.querySelector('link[rel="icon"][data-unread-href]');
    if (!icon) return;
    if (!icon.dataset.readHref) icon.dataset.readHref = icon.getAttribute('href');
    const href = total > 0 ? icon.dataset.unreadHref : icon.dataset.readHref;
    if (icon.getAttribute('href') !== href) icon.setAttribute('href', href);
  }

  // ---------------------------------------------------------------------
  // A live conversation: /messages/{username} shows a new message in place
  // ---------------------------------------------------------------------

  const conversation = {
    thread: () => document.querySelector('ol.conversation-thread'),
    // Only a page showing the newest messages (not ?before=) is live.
    open() {
      return Boolean(this.thread()) && /^\/messages\/[^/]+$/.test(location.pathname) && !location.search.includes('before=');
    },
    visible() {
      return this.open() && document.visibilityState === 'visible';
    },
    busy: false,
    again: false,
    // Fetches the conversation (which marks it read, as the member is
    // looking), adds the messages the page lacks, and shows the counts as
    // they are after reading.
    async refresh() {
      if (this.busy) {
        this.again = true;
        return;
      }
      this.busy = true;
      try {
        const thread = this.thread();
        const atBottom = window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 40;
        const response = await fetch(location.pathname, {headers: {Accept: 'text/html'}, credentials: 'same-origin'});
        if (!response.ok || response.redirected) return;
        const doc = new DOMParser().parseFromString(await response.text(), 'text/html');
        let added = null;
        for (const li of doc.querySelectorAll('ol.conversation-thread > li.message[id]')) {
          if (document.getElementById(li.id)) continue;
          thread.querySelector('li:not(.message)')?.remove(); // "No messages yet"
          added = document.importNode(li, true);
          thread.append(added);
        }
        const badge = doc.getElementById('message_count');
        const count = badge ? parseInt(badge.textContent, 10) : NaN;
        if (Number.isFinite(count)) showCount('unread_message_count', count);
        if (added) {
          refreshTimes();
          if (atBottom) added.scrollIntoView({block: 'end'});
        }
      } catch {
        // The stream or the next visit will bring it.
      } finally {
        this.busy = false;
        if (this.again) {
          this.again = false;
          this.refresh();
        }
      }
    },
  };

  // A conversation opens at its newest message, with the reply box in view
  // (unless the member followed a link to an earlier place in it; a reply
  // comes back to #m of the newest). The box is sticky, always "in view",
  // so the page itself scrolls to its end.
  if (conversation.open()) {
    const target = location.hash && document.getElementById(location.hash.slice(1));
    if (!target || target === conversation.thread().lastElementChild) {
      window.scrollTo({top: document.documentElement.scrollHeight, behavior: 'instant'});
    }
  }

  // A conversation left in a hidden tab kept its new messages unread (and
  // counted); seeing the tab again shows and reads them.
  document.addEventListener('visibilitychange', () => {
    if (conversation.visible() && (counts.get('unread_message_count') || 0) > 0) conversation.refresh();
  });

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
    showTotal();
  }

  // ---------------------------------------------------------------------
  // Live delivery: live-worker.js holds the stream (see there)
  // ---------------------------------------------------------------------

  // A reset from the server replaces everything the page knew: it shows
  // exactly the values sent, and a name not among them is 0.
  function applyReset(msg) {
    const values = new Map();
    for (const n of Array.isArray(msg.notifications) ? msg.notifications : []) {
      if (n && typeof n.name === 'string') values.set(n.name, n);
    }
    for (const name of new Set([...NOTIFICATION_NAMES, ...values.keys()])) {
      const n = values.get(name) || {name, data: 0, timestamp: 0};
      newest.set(name, {id: msg.id ?? null, timestamp: n.timestamp});
      if (n.timestamp > since) since = n.timestamp;
      const count = Number(n.data);
      if (Number.isFinite(count)) showCount(name, count);
    }
  }

  // How long the stream may be down before the page says so: a restart
  // of the server or a short network blip should pass unseen.
  const RECONNECTING_AFTER_MS = 3000;
  let reconnectingTimer = null;

  function showLiveState(state) {
    root.dataset.liveConnected = String(state === 'live');
    root.dataset.liveState = state;
    const indicator = document.getElementById('live-status');
    if (state === 'down') {
      if (reconnectingTimer === null && indicator && indicator.hidden) {
        reconnectingTimer = setTimeout(() => {
          reconnectingTimer = null;
          indicator.textContent = 'Reconnecting…';
          indicator.hidden = false;
          announce('Reconnecting…'); // once per outage
        }, RECONNECTING_AFTER_MS);
      }
      return;
    }
    clearTimeout(reconnectingTimer);
    reconnectingTimer = null;
    if (!indicator) return;
    if (state === 'logged-out') {
      indicator.textContent = 'You are logged out. ';
      const link = document.createElement('a');
      link.href = `/login?next=${encodeURIComponent(location.pathname + location.search)}`;
      link.textContent = 'Log in again';
      indicator.append(link);
      indicator.hidden = false;
      announce('You are logged out.');
    } else {
      indicator.hidden = true;
      indicator.textContent = '';
    }
  }

  function handleLiveMessage(msg) {
    if (!msg) return;
    if (msg.type === 'notification') applyNotification(msg);
    else if (msg.type === 'reset') applyReset(msg);
    else if (msg.type === 'posts') {
      // New posts on the site, for the timeline (timeline.js).
      document.dispatchEvent(new CustomEvent('natter:posts', {detail: {recent: msg.recent, full: msg.full}}));
    }
    else if (msg.type === 'status') {
      root.dataset.liveAttempts = String(msg.attempt || 0);
      showLiveState(msg.state);
    }
  }

  function startLive() {
    const {userId, liveUrl, pollUrl, workerUrl} = document.body.dataset;
    if (!userId || !workerUrl) return; // logged out: nothing is live

    // The server's badges show every notification up to sequence number
    // data-seq: a streamed one with a higher id is newer, whatever its
    // time. Polling starts from data-since, a little before the page was
    // rendered (a poll result is a name's current value, so one the page
    // already shows does no harm).
    const main = document.getElementById('main');
    since = parseFloat(main && main.dataset.since) || Date.now() / 1000;
    const parsed = Number.parseInt(document.body.dataset.seq, 10);
    const seq = Number.isFinite(parsed) ? parsed : null;
    for (const name of NOTIFICATION_NAMES) newest.set(name, {id: seq, timestamp: since});

    let port;
    try {
      if (typeof SharedWorker === 'function') {
        const worker = new SharedWorker(workerUrl, {name: LIVE_NAME});
        port = worker.port;
        root.dataset.liveMode = 'shared-worker';
      } else {
        port = new Worker(workerUrl, {name: LIVE_NAME});
        root.dataset.liveMode = 'worker';
      }
    } catch {
      return; // forbidden here: the page keeps the counts it was rendered with
    }
    port.addEventListener('message', (e) => handleLiveMessage(e.data));
    if (port.start) port.start();
    const hello = () => port.postMessage({
      type: 'hello', userId, liveUrl, pollUrl, names: NOTIFICATION_NAMES, seq, since,
      // The page shows the newest posts: the stream should tell of new ones.
      timeline: Boolean(document.querySelector('[data-live-timeline]')),
    });
    const wake = () => port.postMessage({type: 'wake'});
    // Let the worker forget this page; say hello again when it comes back
    // from the back/forward cache.
    window.addEventListener('pagehide', () => port.postMessage({type: 'bye'}));
    window.addEventListener('pageshow', (e) => { if (e.persisted) hello(); });
    // The browser knows before the back-off does.
    window.addEventListener('online', wake);
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') wake();
    });
    hello();
  }

  // ---------------------------------------------------------------------
  // Desktop notifications (opt-in)
  // ---------------------------------------------------------------------

  // A one-time suggestion, and only where push.js has none to make: a
  // browser with Web Push gets push.js's (turning push on also allows
  // these), one with page notifications alone gets this one.
  const DESKTOP_SUGGESTION_KEY = 'natter.desktopSuggestion'; // localStorage: 'dismissed'

  function initDesktopSuggestion() {
    const box = document.getElementById('desktop-suggestion');
    if (!box || !('Notification' in window) || Notification.permission !== 'default') return;
    const pushCapable = window.isSecureContext && 'serviceWorker' in navigator && 'PushManager' in window;
    if (pushCapable) return;
    try {
      if (localStorage.getItem(DESKTOP_SUGGESTION_KEY) === 'dismissed') return;
    } catch {
      // Storage refused: the suggestion shows, and shows again next time.
    }
    const dismiss = () => {
      box.hidden = true;
      try {
        localStorage.setItem(DESKTOP_SUGGESTION_KEY, 'dismissed');
      } catch {
        // Not remembered.
      }
    };
    box.hidden = false;
    box.querySelector('[data-desktop-dismiss]')?.addEventListener('click', dismiss);
    box.querySelector('[data-desktop-enable]')?.addEventListener('click', async () => {
      try {
        await Notification.requestPermission();
      } catch {
        // Asked and failed: the member can try from the browser's settings.
      }
      dismiss();
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

    // A member's name or avatar: links marked user-popup or avatar-link,
    // an avatar that says its card (data-popup), and any other avatar
    // linking to a profile (outside the navbar).
    const MARKED = 'a.user-popup[data-popup], a.avatar-link[data-popup], img.avatar[data-popup]';
    const LINKS = CSS.supports('selector(:has(> img))') ? `${MARKED}, a[href^="/user/"]:has(> img.avatar)` : MARKED;
    const linkFrom = (node) => {
      if (!(node instanceof Element)) return null;
      const link = node.closest(LINKS);
      return link && !link.closest('.navbar') ? link : null;
    };
    const popupURL = (link) => link.dataset.popup || `${link.pathname.replace(/\/$/, '')}/popup`;
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
      const url = new URL(popupURL(link), location.href);
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

    // The text box the member is typing in, if any: a card must not cover it.
    function typingIn() {
      const el = document.activeElement;
      if (!(el instanceof HTMLElement)) return null;
      if (el.isContentEditable || el instanceof HTMLTextAreaElement) return el;
      if (el instanceof HTMLInputElement && !['button', 'checkbox', 'color', 'file', 'hidden', 'image',
        'radio', 'range', 'reset', 'submit'].includes(el.type)) return el;
      return null;
    }

    // How big the card will be: rendered once, unseen, as Bootstrap will.
    function measure(html) {
      const probe = document.createElement('div');
      probe.className = 'popover user-popover bs-popover-top';
      probe.style.cssText = 'position:absolute;top:0;left:0;visibility:hidden;pointer-events:none';
      probe.innerHTML = `<div class="popover-arrow"></div><div class="popover-body">${html}</div>`;
      document.body.append(probe);
      const {width, height} = probe.getBoundingClientRect();
      probe.remove();
      return {width, height};
    }

    const overlaps = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;

    // Where the card goes: above the link, as usual, unless there it would
    // cover the field the member is typing in (then below, or beside);
    // Popper still flips a card that does not fit.
    function placementFor(link, html) {
      const field = typingIn();
      if (!field) return ['top', ['bottom', 'right', 'left']];
      const gap = 8; // the arrow
      const box = measure(html);
      const r = link.getBoundingClientRect();
      const f = field.getBoundingClientRect();
      const cx = r.left + r.width / 2;
      const cy = r.top + r.height / 2;
      const candidates = {
        top: {left: cx - box.width / 2, right: cx + box.width / 2, top: r.top - gap - box.height, bottom: r.top - gap},
        bottom: {left: cx - box.width / 2, right: cx + box.width / 2, top: r.bottom + gap, bottom: r.bottom + gap + box.height},
        right: {left: r.right + gap, right: r.right + gap + box.width, top: cy - box.height / 2, bottom: cy + box.height / 2},
        left: {left: r.left - gap - box.width, right: r.left - gap, top: cy - box.height / 2, bottom: cy + box.height / 2},
      };
      const order = ['top', 'bottom', 'right', 'left'];
      const clear = order.filter((p) => !overlaps(candidates[p], f));
      if (clear.length === 0) return ['top', ['bottom', 'right', 'left']];
      return [clear[0], clear.slice(1)];
    }

    function show(link, html) {
      pending = null;
      close();
      const [placement, fallbackPlacements] = placementFor(link, html);
      const popover = new window.bootstrap.Popover(link, {
        trigger: 'manual',
        html: true,
        sanitize: false, // the fragment is escaped by the server, and trusted
        content: html,
        placement,
        fallbackPlacements,
        customClass: 'user-popover',
        animation: false, // popovers come and go fast; no half-faded leftovers
        // A non-modal dialog rather than Bootstrap's role="tooltip": the
        // card holds links, and a tooltip holds none (WAI-ARIA APG's
        // tooltip pattern points hover content with links to a non-modal
        // dialog). Named after its member below, it is a dialog wherever it
        // is inserted (the end of <body>, where Popper places it freely),
        // not stray text outside the page's landmarks; axe's `region` rule
        // counts a dialog as a region. No header: the card has no title.
        template: '<div class="popover" role="dialog"><div class="popover-arrow"></div><div class="popover-body"></div></div>',
      });
      open = {link, popover, tip: null}; // set first, so close() cleans up even if show() throws
      popover.show();
      // show() points the link's aria-describedby at the popover it inserted.
      open.tip = document.getElementById(link.getAttribute('aria-describedby'));
      if (!open.tip) {
        close(); // nothing was shown (e.g. the link left the page)
        return;
      }
      // The dialog's name is the member's name, the card's first link.
      const name = open.tip.querySelector('[data-card-name]');
      if (name) {
        name.id = `${open.tip.id}-name`;
        open.tip.setAttribute('aria-labelledby', name.id);
      }
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

  // Characters as the server counts them (app.checkText): Unicode code
  // points of the text without the spaces around it, which the server
  // trims. `.length` counts UTF-16 units, two for an emoji; and the
  // textarea has no maxlength, which counts those too and would stop an
  // emoji post at 70. An emoji made of several code points (👨‍👩‍👧, a
  // flag) counts as those, on both sides.
  function countChars(text) {
    return [...text.trim()].length;
  }

  function counterOf(textarea) {
    const counter = textarea.id ? document.getElementById(`${textarea.id}-counter`) : null;
    const max = parseInt(textarea.dataset.maxChars, 10);
    return counter && max > 0 ? {counter, max, over: countChars(textarea.value) - max} : null;
  }

  function updateCounter(textarea) {
    const c = counterOf(textarea);
    if (!c) return;
    const left = -c.over;
    if (c.over > 0) {
      c.counter.textContent = c.over === 1 ? '1 character too many' : `${c.over} characters too many`;
    } else {
      c.counter.textContent = left === 1 ? '1 character left' : `${left} characters left`;
    }
    c.counter.classList.toggle('text-danger', c.over > 0);
    // Marked invalid while too long; a mark the server put there stays.
    if (c.over > 0 && !textarea.classList.contains('is-invalid')) {
      textarea.classList.add('is-invalid');
      textarea.setAttribute('aria-invalid', 'true');
      textarea.dataset.overLimit = '';
    } else if (c.over <= 0 && 'overLimit' in textarea.dataset) {
      textarea.classList.remove('is-invalid');
      textarea.removeAttribute('aria-invalid');
      delete textarea.dataset.overLimit;
    }
  }

  // A form whose text is too long is not sent: the counter says why (the
  // server would refuse it the same way, and does without JavaScript).
  function refuseTooLong(e) {
    const form = e.target;
    if (!(form instanceof HTMLFormElement)) return;
    for (const textarea of form.querySelectorAll('textarea[data-maxlength-counter]')) {
      const c = counterOf(textarea);
      if (!c || c.over <= 0) continue;
      e.preventDefault();
      e.stopImmediatePropagation();
      const message = `Too long by ${c.over === 1 ? '1 character' : `${c.over} characters`}: keep it to ${c.max}.`;
      c.counter.textContent = message;
      c.counter.classList.add('text-danger');
      announce(message);
      textarea.focus();
      return;
    }
  }

  function initCounters() {
    document.querySelectorAll('textarea[data-maxlength-counter]').forEach(updateCounter);
    document.addEventListener('input', (e) => {
      if (e.target instanceof HTMLTextAreaElement && e.target.matches('[data-maxlength-counter]')) {
        updateCounter(e.target);
      }
    });
    document.addEventListener('submit', refuseTooLong, true);
  }

  // ---------------------------------------------------------------------

  // One broken feature must not take the others down with it.
  for (const init of [readInitialCounts, startLive, initDesktopSuggestion,
    initUserPopovers, initRelativeTimes, initCounters]) {
    try {
      init();
    } catch (err) {
      console.error('natter:', init.name, err);
    }
  }
})();
