// forms.js: forms that keep what the member typed, and point at what went
// wrong. Loaded with `defer`; every page works without it.
//
// Drafts. The text of a post, a message or an about-me is kept in
// localStorage, under the member and the form (its action) and the field,
// as it is typed. It is forgotten when natter accepts the form, which
// natter answers with a redirect to a page; any other outcome keeps it:
// the form shown again with an error (which holds the text already), an
// error page, or the login page after the session ended. When the member
// is back (logged in again: natter returns them to the form's page) and
// the field is still as the server rendered it, the draft is put back and
// the page says so, with a way to discard it. Logging out in this
// browser forgets the member's drafts: the computer may be shared.
(() => {
  'use strict';

  const PREFIX = 'natter-draft:';
  // sessionStorage: the drafts of the form this tab has just sent.
  const SENT = 'natter-draft-sent';
  const FIELDS = 'textarea[name="body"], textarea[name="message"], textarea[name="about_me"]';
  const MAX_AGE_MS = 7 * 24 * 3600 * 1000; // older drafts are stale

  const member = document.body.dataset.userId || '';

  // Storage can be missing or refuse (private modes, full disks): then
  // nothing is kept, and the forms work as before.
  function storage(name) {
    try {
      const s = window[name];
      s.getItem(PREFIX);
      return s;
    } catch {
      return null;
    }
  }
  const local = storage('localStorage');
  const session = storage('sessionStorage');

  function keyOf(field) {
    if (!member || !field.form) return '';
    const action = new URL(field.form.getAttribute('action') || location.pathname, location.href).pathname;
    return `${PREFIX}${member}:${action}:${field.name}`;
  }

  function load(key) {
    try {
      const d = JSON.parse(local.getItem(key));
      if (d && typeof d.text === 'string' && Date.now() - d.at < MAX_AGE_MS) return d.text;
    } catch {
      // Not ours, or damaged: as if there were none.
    }
    local.removeItem(key);
    return '';
  }

  // save keeps what field holds; typing back what the server rendered
  // (or nothing) forgets the draft, sending it (force) keeps it anyway.
  function save(field, force) {
    const key = keyOf(field);
    if (!key) return;
    try {
      if (field.value.trim() === '' || (!force && field.value === field.defaultValue)) local.removeItem(key);
      else local.setItem(key, JSON.stringify({text: field.value, at: Date.now()}));
    } catch {
      // Full: the draft is not kept.
    }
  }

  // Did natter accept the form this tab sent? It answers success with a
  // redirect to a page (303, then 200); a refusal re-shows the form (4xx),
  // an error is a page of its own, and an ended session redirects to the
  // login page, where nobody is logged in.
  function accepted() {
    const nav = performance.getEntriesByType('navigation')[0];
    if (!nav || nav.redirectCount === 0 || !member) return false;
    return nav.responseStatus === undefined || nav.responseStatus === 200;
  }

  function settleSent() {
    let keys = [];
    try {
      keys = JSON.parse(session.getItem(SENT)) || [];
    } catch {
      // Nothing sent.
    }
    session.removeItem(SENT);
    if (!Array.isArray(keys) || !accepted()) return;
    for (const key of keys) {
      if (typeof key === 'string' && key.startsWith(`${PREFIX}${member}:`)) local.removeItem(key);
    }
  }

  // forgetAll drops every draft of the member's in this browser.
  function forgetAll() {
    const mine = `${PREFIX}${member}:`;
    for (let i = local.length - 1; i >= 0; i--) {
      const key = local.key(i);
      if (key && key.startsWith(mine)) local.removeItem(key);
    }
  }

  function showRestored(field) {
    const note = document.createElement('div');
    note.className = 'form-text draft-note';
    note.id = `${field.id || field.name}-draft`;
    note.setAttribute('role', 'status');
    note.textContent = 'Your unsent text was kept and is back here. ';
    const discard = document.createElement('button');
    discard.type = 'button';
    discard.className = 'btn btn-link btn-sm p-0 align-baseline';
    discard.textContent = 'Discard it';
    discard.addEventListener('click', () => {
      field.value = field.defaultValue;
      field.dispatchEvent(new Event('input', {bubbles: true}));
      note.remove();
      field.focus();
    });
    note.append(discard);
    // Under the field and its character counter.
    (document.getElementById(`${field.id}-counter`) || field).after(note);
  }

  function restore(field) {
    const text = load(keyOf(field));
    if (!text || field.value === text || field.value !== field.defaultValue) return;
    field.value = text;
    // Others listening (the character counter) see the new text.
    field.dispatchEvent(new Event('input', {bubbles: true}));
    showRestored(field);
  }

  function initDrafts() {
    if (!local || !session) return;
    settleSent();
    if (!member) return;
    for (const field of document.querySelectorAll(FIELDS)) restore(field);
    document.addEventListener('input', (e) => {
      if (e.target instanceof HTMLTextAreaElement && e.target.matches(FIELDS)) save(e.target);
    });
    document.addEventListener('submit', (e) => {
      if (e.target.matches('form[action="/logout"]')) {
        forgetAll(); // logging out on purpose, maybe on a shared computer
        return;
      }
      const fields = [...e.target.querySelectorAll(FIELDS)];
      if (fields.length === 0) return;
      for (const field of fields) save(field, true);
      // A script that sends the form itself (and so stops the page
      // from leaving) clears the field when it is done.
      if (e.defaultPrevented) return;
      try {
        session.setItem(SENT, JSON.stringify(fields.map(keyOf).filter(Boolean)));
      } catch {
        // The draft stays until the member discards it.
      }
    });
  }

  // After a refused submit, the first field with an error has the focus, so
  // the member (and a screen reader) lands on what to fix.
  function focusFirstError() {
    const field = document.querySelector('main [aria-invalid="true"]');
    if (!field) return;
    field.focus();
    if (typeof field.setSelectionRange === 'function' && /^(text|search|url|tel|password|email)?$/.test(field.type || '')) {
      try {
        field.setSelectionRange(field.value.length, field.value.length);
      } catch {
        // Some input types have no selection.
      }
    }
  }

  for (const init of [initDrafts, focusFirstError]) {
    try {
      init();
    } catch (err) {
      console.error('natter:', init.name, err);
    }
  }
})();
