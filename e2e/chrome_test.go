package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// colourScheme emulates the system's prefers-color-scheme ("light" or
// "dark") in the tab, as a member's operating system setting would.
func colourScheme(scheme string) chromedp.Action {
	return emulation.SetEmulatedMedia().WithFeatures([]*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}})
}

// themeAtBodyJS runs before any of the page's scripts: it records the
// theme <html> carries when <body> is first inserted, that is before the
// first paint, so a page painted in the wrong theme and then switched
// would be seen.
const themeAtBodyJS = `(() => {
	new MutationObserver((records, observer) => {
		if (document.body && window.__themeAtBody === undefined) {
			window.__themeAtBody = document.documentElement.dataset.bsTheme || '';
			observer.disconnect();
		}
	}).observe(document, {childList: true, subtree: true});
})();`

// pageTheme is what the tab's page shows: the theme it was painted with
// and the theme now.
type pageTheme struct{ AtBody, Now, Choice, Background string }

func (tb *tab) theme() pageTheme {
	tb.b.t.Helper()
	var th pageTheme
	tb.eval(`({AtBody: window.__themeAtBody ?? '', Now: document.documentElement.dataset.bsTheme || '',
		Choice: document.documentElement.dataset.themeChoice || '',
		Background: getComputedStyle(document.body).backgroundColor})`, &th)
	return th
}

// Dark mode follows the system's colour scheme, from the first paint; the
// switch in the footer overrides it, and the choice is remembered by the
// browser, across reloads and in other tabs.
func TestDarkMode(t *testing.T) {
	needChromium(t)
	srv := startServer(t)
	alice := newMember(t, srv, "alice")
	alice.run(chromedp.ActionFunc(func(ctx context.Context) error {
		_, err := page.AddScriptToEvaluateOnNewDocument(themeAtBodyJS).Do(ctx)
		return err
	}), colourScheme("dark"))
	alice.register()

	const darkBody, lightBody = "rgb(33, 37, 41)", "rgb(255, 255, 255)" // Bootstrap's body colours
	want := func(tb *tab, theme, choice, bg string) {
		t.Helper()
		tb.waitFor(`document.readyState === 'complete'`)
		got := tb.theme()
		if got.AtBody != theme || got.Now != theme || got.Choice != choice || got.Background != bg {
			t.Errorf("%s: page painted %q, now %q (choice %q, background %s); want %q throughout (choice %q, background %s)",
				tb.name, got.AtBody, got.Now, got.Choice, got.Background, theme, choice, bg)
		}
	}
	alice.open("/index")
	want(alice.tab, "dark", "auto", darkBody)

	// The member picks Light: it holds against the dark system, after a
	// reload and in a new tab.
	alice.run(chromedpClick(`[data-theme-value="light"]`))
	alice.waitFor(`document.documentElement.dataset.bsTheme === 'light'`)
	var pressed string
	alice.eval(`document.querySelector('[data-theme-value="light"]').getAttribute('aria-pressed')`, &pressed)
	if pressed != "true" {
		t.Errorf("the Light button is aria-pressed=%q after choosing it", pressed)
	}
	alice.open("/messages")
	want(alice.tab, "light", "light", lightBody)
	other := alice.b.newTab(desktop)
	other.run(chromedp.ActionFunc(func(ctx context.Context) error {
		_, err := page.AddScriptToEvaluateOnNewDocument(themeAtBodyJS).Do(ctx)
		return err
	}), colourScheme("dark"))
	other.open("/activity")
	want(other, "light", "light", lightBody)

	// Back to Auto: the system's dark again, and the page follows the
	// system when it changes, with no reload.
	alice.run(chromedpClick(`[data-theme-value="auto"]`))
	alice.waitFor(`document.documentElement.dataset.bsTheme === 'dark'`)
	alice.run(colourScheme("light"))
	alice.waitFor(`document.documentElement.dataset.bsTheme === 'light'`)
	alice.run(colourScheme("dark"))
	alice.open("/index")
	want(alice.tab, "dark", "auto", darkBody)
	// The other tab heard of the choice too.
	other.waitFor(`document.documentElement.dataset.themeChoice === 'auto'`)
}

// At 360 px the navbar is one row — brand, badges, the account menu — not
// three; logged out too.
func TestPhoneNavbar(t *testing.T) {
	needChromium(t)
	srv := startServer(t)
	small := viewport{"small phone", 360, 740, 1, true}
	alice := newMember(t, srv, "alice")
	alice.run(small.emulate())
	alice.open("/login")
	checkOneRow(t, alice.tab, "logged out /login")
	alice.open("/")
	checkOneRow(t, alice.tab, "logged out /")

	alice.register()
	alice.open("/index")
	alice.waitFor(`document.documentElement.dataset.liveConnected === 'true'`)
	srv.seedMember(t, "bob", "").send("alice", "Lunch on Friday?")
	srv.seedMember(t, "carol", "").post("@alice the chess club needs a fourth player.")
	// Both badges lit live; screen readers hear "1 unread message" (the
	// badge, then its label, kept in step by natter.js).
	alice.waitFor(`!document.getElementById('message_count').hidden && !document.getElementById('activity_count').hidden`)
	var heard string
	alice.eval(`(() => { const a = document.querySelector('a[href="/messages"]'); return [...a.querySelectorAll('.nav-label, #message_count, [data-notification-label]')].filter(e => !e.hidden).map(e => e.textContent.trim()).join(' '); })()`, &heard)
	if heard != "Messages 1 unread message" {
		t.Errorf("the Messages link reads %q, want %q", heard, "Messages 1 unread message")
	}
	checkOneRow(t, alice.tab, "/index")
	for _, path := range []string{"/messages", "/settings/account"} {
		alice.open(path)
		checkOneRow(t, alice.tab, path)
	}
}

// checkOneRow fails t unless the navbar is under 64 px tall, with every
// item on one line and inside the viewport.
func checkOneRow(t *testing.T, tb *tab, where string) {
	t.Helper()
	var nav struct {
		Height, Width float64
		Rows          int
		Overflow      bool
	}
	tb.eval(`(() => {
		const nav = document.querySelector('header nav');
		const items = [...nav.querySelectorAll('.navbar-brand, .navbar-nav > .nav-item, .account-menu > summary')]
			.filter(e => e.getClientRects().length > 0);
		// One row: every item overlaps every other vertically.
		const boxes = items.map(e => e.getBoundingClientRect());
		const oneRow = Math.max(...boxes.map(b => b.top)) < Math.min(...boxes.map(b => b.bottom));
		return {Height: nav.getBoundingClientRect().height, Width: document.documentElement.clientWidth,
			Rows: oneRow ? 1 : 2, Overflow: items.some(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)};
	})()`, &nav)
	if nav.Height >= 64 || nav.Rows != 1 || nav.Overflow {
		t.Errorf("%s at %.0f px: the navbar is %.0f px tall in %d rows (overflowing: %v), want one row under 64 px",
			where, nav.Width, nav.Height, nav.Rows, nav.Overflow)
	}
}

// The account menu works from the keyboard: Enter opens it, the arrow keys
// move through it, Escape closes it and gives the focus back. The skip
// link is invisible until the keyboard reaches it.
func TestAccountMenuKeyboard(t *testing.T) {
	needChromium(t)
	srv := startServer(t)
	alice := newMember(t, srv, "alice")
	alice.register()
	alice.open("/index")
	alice.waitFor(`document.readyState === 'complete'`)

	var skip struct{ Width, Height float64 }
	skipBox := `(() => { const r = document.querySelector('.skip-link').getBoundingClientRect(); return {Width: r.width, Height: r.height}; })()`
	alice.eval(skipBox, &skip)
	if skip.Width > 1 || skip.Height > 1 {
		t.Errorf("the skip link is %.0f×%.0f px before it is focused, want hidden", skip.Width, skip.Height)
	}
	alice.run(chromedp.KeyEvent(kb.Tab))
	alice.waitFor(`document.activeElement.classList.contains('skip-link')`)
	alice.eval(skipBox, &skip)
	if skip.Width < 40 || skip.Height < 20 {
		t.Errorf("the focused skip link is %.0f×%.0f px, want it visible", skip.Width, skip.Height)
	}

	var ok bool
	alice.eval(`(document.querySelector('details.account-menu > summary').focus(), true)`, &ok)
	alice.run(chromedp.KeyEvent(kb.Enter))
	alice.waitFor(`document.querySelector('details.account-menu').open`)
	alice.run(chromedp.KeyEvent(kb.ArrowDown))
	alice.waitFor(`document.activeElement.matches('details.account-menu a[href="/user/alice"]')`)
	alice.run(chromedp.KeyEvent(kb.ArrowDown))
	alice.waitFor(`document.activeElement.matches('details.account-menu a[href="/settings/account"]')`)
	alice.run(chromedp.KeyEvent(kb.ArrowDown))
	alice.waitFor(`document.activeElement.matches('details.account-menu form[action="/logout"] button')`)
	alice.run(chromedp.KeyEvent(kb.ArrowDown)) // round to the top
	alice.waitFor(`document.activeElement.matches('details.account-menu a[href="/user/alice"]')`)
	var ring string
	alice.eval(`getComputedStyle(document.activeElement).outlineStyle`, &ring)
	if ring == "none" {
		t.Error("the focused menu item has no focus ring")
	}
	alice.run(chromedp.KeyEvent(kb.Escape))
	alice.waitFor(`!document.querySelector('details.account-menu').open && document.activeElement.matches('details.account-menu > summary')`)

	// Enter on "Settings" follows it.
	alice.run(chromedp.KeyEvent(kb.Enter))
	alice.waitFor(`document.querySelector('details.account-menu').open`)
	alice.run(chromedp.KeyEvent(kb.ArrowDown), chromedp.KeyEvent(kb.ArrowDown))
	alice.waitFor(`document.activeElement.matches('details.account-menu a[href="/settings/account"]')`)
	if got := alice.navigate(chromedp.KeyEvent(kb.Enter)); got != 200 {
		t.Fatalf("following Settings: status %d", got)
	}
	alice.waitFor(`location.pathname === '/settings/account'`)

	// A click elsewhere closes an open menu.
	alice.run(chromedpClick(`details.account-menu > summary`))
	alice.waitFor(`document.querySelector('details.account-menu').open`)
	alice.run(chromedpClick(`main h1`))
	alice.waitFor(`!document.querySelector('details.account-menu').open`)
}

// flashDoneJS resolves with how the page's flash message left
// ('dismissed' or 'timeout'), synchronised on chrome.js's event.
const flashDoneJS = `new Promise(resolve => document.addEventListener('natter:flash', e => resolve(e.detail.how), {once: true}))`

// A confirmation sits in the content column and leaves by itself; it can
// be dismissed at once; an error stays. Logging out says so.
func TestFlashMessages(t *testing.T) {
	needChromium(t)
	srv := startServer(t)
	alice := newMember(t, srv, "alice")
	alice.register()

	// The confirmation after posting: in the content column, then gone.
	alice.open("/index")
	alice.fill("#body", "Hello, street!")
	alice.submit(`form[action="/index"] button[type="submit"]`)
	alice.wantFlash("Your post is now live!")
	var cols struct{ Flash, Form float64 }
	alice.eval(`({Flash: document.querySelector('main .flash').getBoundingClientRect().left,
		Form: document.querySelector('form[action="/index"]').getBoundingClientRect().left})`, &cols)
	if d := cols.Flash - cols.Form; d < -1 || d > 1 {
		t.Errorf("the flash starts at x=%.0f, the content column at x=%.0f", cols.Flash, cols.Form)
	}
	var how string
	alice.evalAsync(flashDoneJS, &how)
	if how != "timeout" {
		t.Errorf("the confirmation left by %q, want by itself", how)
	}
	alice.waitFor(`document.querySelector('main .flash').hidden`)

	// Dismissed by its button.
	alice.editProfile("Beekeeper.")
	alice.eval(`(window.__flashDone = `+flashDoneJS+`, true)`, new(bool))
	alice.run(chromedpClick(`main .flash [data-flash-dismiss]`))
	alice.evalAsync(`window.__flashDone`, &how)
	if how != "dismissed" || alice.has("main .flash") {
		t.Errorf("after its close button the flash left by %q and is on the page: %v", how, alice.has("main .flash"))
	}

	// Logging out says so.
	alice.logout()
	alice.wantFlash("You have been logged out.")

	// An error stays until it is dismissed: it is no flash.
	alice.fill("#username", "alice")
	alice.fill("#password", "not the password")
	alice.b.expect("/login", 422)
	if got := alice.navigate(chromedpClick(`main button[type="submit"]`)); got != 422 {
		t.Fatalf("logging in with a wrong password: status %d, want 422", got)
	}
	if alice.has(`main [data-autohide]`) || !alice.has(`main .alert-danger`) {
		t.Error("the error message is missing, or would leave by itself")
	}
	alice.run(chromedpClick(`main .alert-danger .btn-close`))
	alice.waitFor(`document.querySelector('main .alert-danger') === null`)
}

// A visitor's front page says what the site is and leads in.
func TestFrontPageInBrowser(t *testing.T) {
	needChromium(t)
	srv := startServer(t)
	visitor := newMember(t, srv, "visitor")
	visitor.run(phone.emulate())
	visitor.open("/")
	if got := visitor.text("main h1"); got != "natter" {
		t.Errorf("the front page's heading is %q", got)
	}
	if got := visitor.text("main .lead"); !strings.Contains(got, "short posts") {
		t.Errorf("the front page says %q", got)
	}
	visitor.submit(`main a[href="/register"]`)
	if got := visitor.text("main h1"); got != "Register" {
		t.Errorf("Create an account leads to %q", got)
	}
}

// Every element the keyboard reaches shows that it has the focus, in both
// themes: a ring (outline or Bootstrap's box-shadow) is drawn around it.
func TestFocusRings(t *testing.T) {
	needChromium(t)
	srv := startServer(t)
	members := seedTimeline(t, srv)
	alice := newMember(t, srv, "alice")
	alice.register()
	members["bob"].send("alice", "Lunch on Friday?")
	for _, scheme := range []string{"light", "dark"} {
		alice.run(colourScheme(scheme))
		// (Not /settings/notifications: Chromium's own time fields there
		// leave :focus for a moment between their parts.)
		for _, path := range []string{"/index", "/post/1", "/user/bob", "/messages", "/messages/bob",
			"/activity", "/settings/account"} {
			alice.open(path)
			alice.waitFor(`document.readyState === 'complete' && document.documentElement.dataset.bsTheme === '` + scheme + `'`)
			var seen []string
			for range 80 {
				alice.run(chromedp.KeyEvent(kb.Tab))
				var el struct {
					Desc    string
					Ring    bool
					AtStart bool
				}
				alice.eval(`(() => {
					const e = document.activeElement;
					if (!e || e === document.body) return {Desc: '', Ring: true, AtStart: true};
					const s = getComputedStyle(e);
					const drawn = s => (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none';
					// Or a row that is one link outlines the whole row (the inbox).
					let ring = drawn(s);
					for (let a = e.parentElement; !ring && a && a !== document.body; a = a.parentElement) {
						const as = getComputedStyle(a);
						ring = a.matches(':has(:focus-visible)') && as.outlineStyle !== 'none' && parseFloat(as.outlineWidth) > 0;
					}
					return {Desc: e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + String(e.className).trim().split(/\s+/).join('.') : '') + ' ' + (e.getAttribute('href') || e.textContent.trim().slice(0, 30)), Ring: ring, AtStart: false};
				})()`, &el)
				if el.AtStart || (len(seen) > 0 && el.Desc == seen[0]) {
					break
				}
				seen = append(seen, el.Desc)
				if !el.Ring {
					t.Errorf("%s %s: %s has the focus and no ring", scheme, path, el.Desc)
				}
			}
			t.Logf("%s %s: %d elements reached by the keyboard, each with a ring", scheme, path, len(seen))
			if len(seen) < 5 {
				t.Errorf("%s %s: the keyboard reached only %q", scheme, path, seen)
			}
		}
	}
}
