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
    // Back from a reply, at #m of the newest message: the browser's own
    // scroll to the anchor comes after the load (and, the reply box being
    // sticky, may leave the page where it was), so the page goes to its
    // end once loaded, as natter.js does for a conversation opened plainly.
    addEventListener('load', () => requestAnimationFrame(() => {
      const target = location.hash && document.getElementById(location.hash.slice(1));
      if (target && target === thread.querySelector(':scope > li.message:last-child') && !location.search.includes('before=')) {
        window.scrollTo({top: document.documentElement.scrollHeight, behavior: 'instant'});
      }
    }), {once: true});
    // natter.js appends messages that arrive while the page is open. One
    // that begins on screen (the member was reading the newest) is brought
    // fully into view, above the sticky reply box: the page goes to its end.
    new MutationObserver((records) => {
      const added = records.flatMap((r) => [...r.addedNodes]).filter((n) => n.classList?.contains('message'));
      if (added.length === 0) return;
      const last = thread.querySelector(':scope > li.message:last-child');
      const follow = added.includes(last) && last.getBoundingClientRect().top < innerHeight;
      layout();
      if (follow) window.scrollTo({top: document.documentElement.scrollHeight, behavior: 'smooth'});
    }).observe(thread, {childList: true});
  }

  // ---------------------------------------------------------------------
  // "New message": members suggested by name as the member types
  // ---------------------------------------------------------------------

  // The field is an ARIA combobox: a list of members with their avatars
  // under it, Up and Down to move through it, Enter or a click to write to
  // the one chosen, Escape to close it. Without JavaScript it is a plain
  // text field.
  const to = document.querySelector('input[data-member-suggest]');
  if (to) {
    const url = to.dataset.memberSuggest;
    const limit = Number(to.dataset.suggestLimit) || 8;
    const form = to.form;
    const list = document.createElement('ul');
    list.id = `${to.id}-suggestions`;
    list.className = 'member-suggestions list-group shadow-sm';
    list.setAttribute('role', 'listbox');
    list.setAttribute('aria-label', 'Members');
    list.hidden = true;
    to.after(list);
    to.setAttribute('role', 'combobox');
    to.setAttribute('aria-autocomplete', 'list');
    to.setAttribute('aria-controls', list.id);
    to.setAttribute('aria-expanded', 'false');
    const cache = new Map();
    let timer = 0;
    let asked = '';
    let active = -1;

    const options = () => [...list.querySelectorAll('[role="option"]')];

    function close() {
      list.hidden = true;
      to.setAttribute('aria-expanded', 'false');
      to.removeAttribute('aria-activedescendant');
      active = -1;
    }

    function highlight(i) {
      const opts = options();
      active = opts.length ? (i + opts.length) % opts.length : -1;
      opts.forEach((o, j) => {
        o.classList.toggle('active', j === active);
        o.setAttribute('aria-selected', String(j === active));
      });
      if (active >= 0) {
        to.setAttribute('aria-activedescendant', opts[active].id);
        opts[active].scrollIntoView({block: 'nearest'});
      } else {
        to.removeAttribute('aria-activedescendant');
      }
    }

    function choose(name) {
      to.value = name;
      close();
      form.requestSubmit();
    }

    function show(prefix, members) {
      if (to.value.trim().toLowerCase() !== prefix) return; // typed on meanwhile
      list.replaceChildren(...members.map((m, i) => {
        const li = document.createElement('li');
        li.id = `${list.id}-${i}`;
        li.className = 'list-group-item list-group-item-action d-flex align-items-center gap-2';
        li.setAttribute('role', 'option');
        li.setAttribute('aria-selected', 'false');
        li.dataset.username = m.username;
        const img = Object.assign(document.createElement('img'), {src: m.avatar, alt: '', width: 24, height: 24, className: 'avatar avatar-sm'});
        li.append(img, document.createTextNode(m.username));
        // mousedown, not click: the field must not lose the focus first.
        li.addEventListener('mousedown', (e) => {
          e.preventDefault();
          choose(m.username);
        });
        return li;
      }));
      active = -1;
      to.removeAttribute('aria-activedescendant');
      const open = members.length > 0;
      list.hidden = !open;
      to.setAttribute('aria-expanded', String(open));
    }

    async function suggest() {
      const prefix = to.value.trim().replace(/^@/, '').toLowerCase();
      if (prefix === asked) return;
      asked = prefix;
      if (prefix === '') {
        close();
        return;
      }
      // The answer for a shorter prefix that was complete (fewer names
      // than the server's limit) holds the answer for this one.
      for (let p = prefix; p.length > 0; p = p.slice(0, -1)) {
        const known = cache.get(p);
        if (known && (p === prefix || known.length < limit)) {
          show(prefix, known.filter((m) => m.username.toLowerCase().startsWith(prefix)));
          return;
        }
      }
      try {
        const response = await fetch(`${url}?prefix=${encodeURIComponent(prefix)}`, {credentials: 'same-origin', headers: {Accept: 'application/json'}});
        if (!response.ok) return; // 429: the field still works as typed
        const members = await response.json();
        cache.set(prefix, members);
        show(prefix, members);
      } catch {
        // Offline: the field still works as typed.
      }
    }

    to.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(suggest, 120);
    });
    to.addEventListener('keydown', (e) => {
      if (list.hidden) return;
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        highlight(active + (e.key === 'ArrowDown' ? 1 : -1));
      } else if (e.key === 'Enter' && active >= 0) {
        e.preventDefault();
        choose(options()[active].dataset.username);
      } else if (e.key === 'Escape') {
        e.preventDefault();
        close();
      }
    });
    to.addEventListener('blur', close);
  }
})();
