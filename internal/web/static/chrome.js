// chrome.js: the page's chrome — the account menu, flash and error
// messages, the error pages' "Go back".
// Loaded with `defer`; everything here works without it, only less well.
(() => {
  'use strict';

  // ---------------------------------------------------------------------
  // Menus: <details data-menu>. The browser opens and closes them (by
  // click, Enter or Space on the summary); this adds what a menu button
  // does besides: Escape closes it and gives the focus back, arrow keys
  // move between its items, and a click or focus elsewhere closes it.
  // ---------------------------------------------------------------------

  const menus = () => document.querySelectorAll('details[data-menu]');
  const itemsOf = (menu) => [...menu.querySelectorAll('.dropdown-menu a[href], .dropdown-menu button:not([disabled])')];

  function closeMenu(menu, focusSummary) {
    if (!menu.open) return;
    menu.open = false;
    if (focusSummary) menu.querySelector('summary')?.focus();
  }

  function initMenus() {
    document.addEventListener('click', (e) => {
      for (const menu of menus()) {
        if (menu.open && !menu.contains(e.target)) closeMenu(menu, false);
      }
    });
    document.addEventListener('focusin', (e) => {
      for (const menu of menus()) {
        if (menu.open && !menu.contains(e.target)) closeMenu(menu, false);
      }
    });
    // On the window, capturing, so that it runs first and Bootstrap's
    // dropdown script — which handles arrow keys and Escape in any
    // .dropdown-menu from the document's capture phase, expecting a
    // toggle button of its own — never sees the keys handled here.
    window.addEventListener('keydown', (e) => {
      const menu = e.target instanceof Element ? e.target.closest('details[data-menu]') : null;
      if (menu) menuKey(menu, e);
    }, true);
  }

  function menuKey(menu, e) {
    const items = itemsOf(menu);
    const at = items.indexOf(document.activeElement);
    if (e.key === 'Escape' && menu.open) {
      e.preventDefault();
      e.stopPropagation();
      closeMenu(menu, true);
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      e.stopPropagation();
      if (!menu.open) menu.open = true;
      const step = e.key === 'ArrowDown' ? 1 : -1;
      const next = at < 0 ? (step > 0 ? 0 : items.length - 1) : (at + step + items.length) % items.length;
      items[next]?.focus();
    } else if ((e.key === 'Home' || e.key === 'End') && at >= 0) {
      e.preventDefault();
      items[e.key === 'Home' ? 0 : items.length - 1]?.focus();
    }
  }

  // ---------------------------------------------------------------------
  // Flash messages: dismissible; a confirmation (data-autohide) leaves by
  // itself after a while — not while the pointer or the focus is on it,
  // nor while the tab is hidden, so nobody misses it. Each leaves with a
  // 'natter:flash' event on the document (detail.how: 'dismissed' or
  // 'timeout'), which the browser tests wait for.
  // ---------------------------------------------------------------------

  const FLASH_MS = 8000;

  // A page's error messages (a refused form's) stay until the member
  // dismisses them: each gets a close button here, as the flash has.
  function initErrors() {
    for (const alert of document.querySelectorAll('main .alert-danger[role="alert"]')) {
      if (alert.querySelector('.btn-close')) continue;
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'btn-close';
      button.setAttribute('aria-label', 'Dismiss this message');
      button.addEventListener('click', () => {
        const main = document.getElementById('main');
        alert.remove();
        if (main) {
          main.setAttribute('tabindex', '-1');
          main.focus({preventScroll: true});
        }
      });
      alert.classList.add('alert-dismissible');
      alert.append(button);
    }
  }

  function initFlash() {
    for (const flash of document.querySelectorAll('.flash')) {
      const button = flash.querySelector('[data-flash-dismiss]');
      const done = (how) => document.dispatchEvent(new CustomEvent('natter:flash', {detail: {how}}));
      if (button) {
        button.hidden = false;
        button.addEventListener('click', () => {
          // The focus was on the button: give it to the content, not to <body>.
          const main = document.getElementById('main');
          flash.remove();
          if (main) {
            main.setAttribute('tabindex', '-1');
            main.focus({preventScroll: true});
          }
          done('dismissed');
        });
      }
      if (!flash.hasAttribute('data-autohide')) continue;

      let left = FLASH_MS;
      let started = 0;
      let timer = null;
      const held = () => flash.matches(':hover, :focus-within') || document.visibilityState !== 'visible';
      const pause = () => {
        if (timer === null) return;
        clearTimeout(timer);
        timer = null;
        left -= performance.now() - started;
      };
      const resume = () => {
        if (timer !== null || !flash.isConnected || flash.hidden || held()) return;
        started = performance.now();
        timer = setTimeout(leave, Math.max(left, 1000));
      };
      const leave = () => {
        timer = null;
        if (held()) return; // resumed on the next mouseleave, focusout or visibilitychange
        flash.classList.add('leaving');
        // Hidden, not removed: it was a status message, and stays in the
        // document as said (its text reads the same to a script).
        const hide = () => {
          flash.hidden = true;
          done('timeout');
        };
        if (window.matchMedia('(prefers-reduced-motion: reduce)').matches) hide();
        else setTimeout(hide, 300);
      };
      flash.addEventListener('mouseenter', pause);
      flash.addEventListener('focusin', pause);
      flash.addEventListener('mouseleave', resume);
      flash.addEventListener('focusout', () => setTimeout(resume, 0));
      document.addEventListener('visibilitychange', () => (document.visibilityState === 'visible' ? resume() : pause()));
      resume();
    }
  }

  // ---------------------------------------------------------------------
  // "Go back" on error pages, when the member came from this site.
  // ---------------------------------------------------------------------

  function initHistoryBack() {
    const button = document.querySelector('[data-history-back]');
    if (!button || history.length < 2) return;
    let fromHere = false;
    try {
      fromHere = document.referrer !== '' && new URL(document.referrer).origin === location.origin;
    } catch {
      return;
    }
    if (!fromHere) return;
    button.hidden = false;
    button.addEventListener('click', () => history.back());
  }

  for (const init of [initMenus, initFlash, initErrors, initHistoryBack]) {
    try {
      init();
    } catch (err) {
      console.error('natter:', init.name, err);
    }
  }
})();
