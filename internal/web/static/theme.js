// theme.js: the colour theme, light or dark, before the page is painted.
//
// Loaded in <head> without defer or async, so it runs before the body is
// laid out and the page never flashes the wrong theme. It is the only
// blocking script and is kept tiny. (natter's Content-Security-Policy
// forbids inline scripts, hence a file.)
//
// The member's choice — 'light', 'dark' or 'auto' (follow the system's
// prefers-color-scheme) — is remembered per browser in localStorage; it is
// never sent to the server, so no page, and none of the rendered fragments
// natter keeps, depends on it. Bootstrap 5.3 switches its colours on
// data-bs-theme on <html>.
(() => {
  'use strict';

  const KEY = 'natter.theme';
  const CHOICES = ['auto', 'light', 'dark'];
  const dark = window.matchMedia ? window.matchMedia('(prefers-color-scheme: dark)') : null;
  const root = document.documentElement;

  function stored() {
    try {
      const v = localStorage.getItem(KEY);
      return CHOICES.includes(v) ? v : 'auto';
    } catch {
      return 'auto'; // storage refused (some private modes)
    }
  }

  function apply(choice) {
    const theme = choice === 'auto' ? (dark && dark.matches ? 'dark' : 'light') : choice;
    root.dataset.bsTheme = theme;
    root.dataset.themeChoice = choice;
    for (const b of document.querySelectorAll('[data-theme-value]')) {
      b.setAttribute('aria-pressed', String(b.dataset.themeValue === choice));
    }
    document.dispatchEvent(new CustomEvent('natter:theme', {detail: {choice, theme}}));
  }

  function choose(choice) {
    if (!CHOICES.includes(choice)) return;
    try {
      if (choice === 'auto') localStorage.removeItem(KEY);
      else localStorage.setItem(KEY, choice);
    } catch {
      // Not remembered; this page still switches.
    }
    apply(choice);
  }

  apply(stored());

  // The system switching between light and dark (at dusk, say) is followed
  // at once when the member chose 'auto'; so is a choice made in another tab.
  if (dark) dark.addEventListener('change', () => apply(stored()));
  window.addEventListener('storage', (e) => {
    if (e.key === KEY || e.key === null) apply(stored());
  });

  // The switch (the footer's three buttons) needs this script, so it is
  // rendered hidden and shown here.
  document.addEventListener('DOMContentLoaded', () => {
    for (const group of document.querySelectorAll('[data-theme-switch]')) group.hidden = false;
    apply(stored());
    document.addEventListener('click', (e) => {
      const b = e.target instanceof Element ? e.target.closest('[data-theme-value]') : null;
      if (b) choose(b.dataset.themeValue);
    });
  });
})();
