// Package e2e drives natter in headless Chromium, the way members use it:
// two browsers at once, separate profiles, real forms, the live badge, the
// popover, the page without JavaScript, axe-core's accessibility rules and
// the Performance API's page weights.
//
// The tests build cmd/natter once and start it per test on a free port with
// a fresh SQLite file. They use Debian's /usr/bin/chromium, chromium on
// PATH, or the browser NATTER_CHROMIUM names; without one they skip (and
// fail instead when NATTER_TEST_REQUIRE_ALL is set, as in CI).
//
// NATTER_SCREENSHOTS=1 regenerates the documentation the suite produces:
// the README's pictures in docs/screenshots/ and the browser's section of
// docs/benchmarks.md.
//
// The package has no code outside its tests; this file only documents it.
package e2e
