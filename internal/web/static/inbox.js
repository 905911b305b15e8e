// inbox.js: private messages in the browser. Without it every page works;
// with it a conversation reads like a chat (Enter sends, days and times in
// the member's own time zone), and the "New message" field suggests
// members as the member types.
(() => {
  'use strict';

  // ---------------------------------------------------------------------
  // A conversation's reply box
  // ---------------------------------------------------------------------

  const reply = document.getElementById('reply');
  const box = reply?.querySelector('textarea[name="message"]');
  // Where the keyboard has no Shift key to speak of (phones), Enter stays
  // a new line and the Send button sends.
  const enterSends = box && !matchMedia('(pointer: coarse)').matches;
  const focusKey = 'natter.inbox.replyFocus';

  function grow() {
    box.style.height = 'auto';
    box.style.height = `${box.scrollHeight + 2}px`;
  }

  if (box) {
    if (enterSends) {
      const hint = document.getElementById(`${box.id}-hint`);
      if (hint) {
        hint.hidden = false;
        box.setAttribute('aria-describedby', `${box.getAttribute('aria-describedby') || ''} ${hint.id}`.trim());
      }
      box.addEventListener('keydown', (e) => {
        if (e.key !== 'Enter' || e.shiftKey || e.altKey || e.ctrlKey || e.metaKey || e.isComposing) return;
        e.preventDefault();
        if (box.value.trim() === '') return; // nothing to send: stay put
        reply.requestSubmit();
      });
    }
    reply.addEventListener('submit', () => {
      try {
        sessionStorage.setItem(focusKey, location.pathname);
      } catch {
        // Storage refused: the member clicks into the box again.
      }
    });
    box.addEventListener('input', grow);
    if (box.value) grow();
    // Back from sending: the member goes on typing. Not at once: going to
    // the new message's #m anchor takes the focus away after the load.
    try {
      if (sessionStorage.getItem(focusKey) === location.pathname) {
        sessionStorage.removeItem(focusKey);
        addEventListener('load', () => requestAnimationFrame(() => box.focus({preventScroll: true})), {once: true});
      }
    } catch {
      // As above.
    }
  }

  // ---------------------------------------------------------------------
  // Days and times in the member's time zone
  // ---------------------------------------------------------------------

  const thread = document.querySelector('ol.conversation-thread');
  const dayStart = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();

  function dayName(d) {
    const today = dayStart(new Date());
    const day = dayStart(d);
    if (day === today) return 'Today';
    // 36 hours back from today's midnight lands in yesterday, whatever
    // daylight saving time did.
    if (day === dayStart(new Date(today - 12 * 3600 * 1000))) return 'Yesterday';
    const opts = {weekday: 'long', day: 'numeric', month: 'long'};
    if (d.getFullYear() !== new Date().getFullYear()) opts.year = 'numeric';
    return d.toLocaleDateString(undefined, opts);
  }

  // layout draws the separators between days and ends each run of one
  // side's messages (where its avatar shows) as the browser's clock and
  // time zone see them; the server drew them in UTC. It runs again when
  // a message arrives live.
  function layout() {
    const messages = [...thread.querySelectorAll(':scope > li.message')];
    let lastDay = null;
    thread.querySelectorAll(':scope > li.day-separator').forEach((li) => li.remove());
    messages.forEach((li, i) => {
      const time = li.querySelector('time.message-time');
      const at = new Date(time?.getAttribute('datetime'));
      if (Number.isNaN(at.getTime())) return;
      const clock = at.toLocaleTimeString(undefined, {hour: '2-digit', minute: '2-digit'});
      if (time.textContent !== clock) time.textContent = clock;
      const full = at.toLocaleString(undefined, {dateStyle: 'full', timeStyle: 'short'});
      time.title = full;
      const said = li.querySelector('.bubble > .visually-hidden');
      if (said) said.textContent = `${li.classList.contains('mine') ? 'You' : said.textContent.split(',')[0]}, ${full}:`;
      const day = dayStart(at);
      if (day !== lastDay) {
        const sep = document.createElement('li');
        sep.className = 'day-separator';
        const t = document.createElement('time');
        t.dateTime = `${at.getFullYear()}-${String(at.getMonth() + 1).padStart(2, '0')}-${String(at.getDate()).padStart(2, '0')}`;
        t.textContent = dayName(at);
        sep.append(t);
        li.before(sep);
        lastDay = day;
      }
      const next = messages[i + 1];
      const nextAt = next && new Date(next.querySelector('time.message-time')?.getAttribute('datetime'));
      const ends = !next || next.classList.contains('mine') !== li.classList.contains('mine') || dayStart(nextAt) !== day;
      li.classList.toggle('cont', !ends);
    });
  }

  if (thread) {
    layout();
    // natter.js appends messages that arrive while the page is open.
    let pending = false;
    new MutationObserver((records) => {
      if (pending || !records.some((r) => [...r.addedNodes].some((n) => n.classList?.contains('message')))) return;
      pending = true;
      queueMicrotask(() => {
        layout();
        pending = false;
      });
    }).observe(thread, {childList: true});
  }

  // ---------------------------------------------------------------------
  // "New message": members suggested by name as the member types
  // ---------------------------------------------------------------------

  const to = document.querySelector('input[data-member-suggest]');
  if (to) {
    const list = document.getElementById(to.getAttribute('list'));
    const url = to.dataset.memberSuggest;
    const limit = Number(to.dataset.suggestLimit) || 8;
    const cache = new Map();
    let timer = 0;
    let asked = '';

    function show(prefix, names) {
      if (to.value.trim().toLowerCase() !== prefix) return; // typed on meanwhile
      list.replaceChildren(...names.map((n) => Object.assign(document.createElement('option'), {value: n})));
    }

    async function suggest() {
      const prefix = to.value.trim().toLowerCase();
      if (prefix === asked) return;
      asked = prefix;
      if (prefix === '') {
        list.replaceChildren();
        return;
      }
      // The answer for a shorter prefix that was complete (fewer names
      // than the server's limit) holds the answer for this one.
      for (let p = prefix; p.length > 0; p = p.slice(0, -1)) {
        const known = cache.get(p);
        if (known && (p === prefix || known.length < limit)) {
          show(prefix, known.filter((n) => n.toLowerCase().startsWith(prefix)));
          return;
        }
      }
      try {
        const response = await fetch(`${url}?prefix=${encodeURIComponent(prefix)}`, {credentials: 'same-origin', headers: {Accept: 'application/json'}});
        if (!response.ok) return; // 429: the field still works as typed
        const names = (await response.json()).map((m) => m.username);
        cache.set(prefix, names);
        show(prefix, names);
      } catch {
        // Offline: the field still works as typed.
      }
    }

    to.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(suggest, 120);
    });
  }
})();
