package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// liveJS is true when a tab's stream is connected.
const liveJS = `document.documentElement.dataset.liveConnected === 'true'`

// backOffCap is the longest the page waits between two tries (30 s in
// live-worker.js), with a margin for a loaded machine.
const backOffCap = 40 * time.Second

// waitForWithin is waitFor with a timeout of its own, for waits the page's
// back-off makes longer than an action.
func (tb *tab) waitForWithin(cond string, d time.Duration) {
	tb.b.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, d+time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, chromedp.Poll(cond, nil,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(d))); err != nil {
		tb.b.t.Fatalf("%s: waiting for %s: %v", tb.name, cond, err)
	}
}

// natter stopped for a while (a deploy, a laptop asleep) and started
// again: every open tab is live again within the back-off's cap, without a
// reload, and a message sent then reaches them all; meanwhile the page said
// it was reconnecting, and stopped saying so. A tab opened once the server
// is back does not inherit the back-off: it is live at once.
//
// The outage is driven by what the page reports, not by a clock: the worker
// reports each failed try (data-live-attempts), and natter starts again
// once four have failed, when the next try is 4–8 s away.
func TestLiveAfterOutage(t *testing.T) {
	needChromium(t)
	srv := startServer(t)
	alice := newMember(t, srv, "alice")
	bob := newMember(t, srv, "bob")
	alice.register()
	bob.register()

	tabs := []*tab{bob.tab, bob.b.newTab(desktop), bob.b.newTab(desktop)}
	tabs[1].open("/index")
	tabs[2].open("/index")
	for _, tb := range tabs {
		tb.waitFor(liveJS)
		var ok bool
		tb.eval(watchBadgeJS, &ok)
	}

	if err := srv.stop(); err != nil {
		t.Fatal(err)
	}
	for _, tb := range tabs {
		tb.waitFor(`document.documentElement.dataset.liveState === 'down'`)
	}
	tabs[0].waitFor(`Number(document.documentElement.dataset.liveAttempts) >= 4`)
	for _, tb := range tabs {
		tb.waitFor(`!document.getElementById('live-status').hidden && document.getElementById('live-status').textContent === 'Reconnecting…'`)
	}
	tabs[0].waitFor(`document.getElementById('live-announcer').textContent.includes('Reconnecting…')`)
	srv.restart(t)

	for _, tb := range tabs {
		tb.waitForWithin(liveJS, backOffCap)
		tb.waitFor(`document.getElementById('live-status').hidden`)
	}
	alice.sendMessage("bob", "Back again?")
	for _, tb := range tabs {
		tb.waitFor(`document.getElementById('message_count').textContent.trim() === '1' && !document.getElementById('message_count').hidden`)
		// The title counts what the badges count.
		tb.waitFor(`document.title === '(' + (Number(document.getElementById('message_count').textContent) +
			Number(document.getElementById('activity_count').textContent)) + ') Home · natter'`)
		var same bool
		tb.eval(`window.__sameDocument === true`, &same)
		if !same {
			t.Errorf("%s was reloaded; it must come back live by itself", tb.name)
		}
	}

	// Down again, long enough for the back-off to grow; once natter is
	// back a new tab connects at once, not when the back-off says.
	if err := srv.stop(); err != nil {
		t.Fatal(err)
	}
	tabs[0].waitFor(`Number(document.documentElement.dataset.liveAttempts) >= 4`)
	srv.restart(t)
	fresh := bob.b.newTab(desktop)
	fresh.open("/index")
	fresh.waitFor(liveJS)
	alice.sendMessage("bob", "And again.")
	fresh.waitFor(`document.getElementById('message_count').textContent.trim() === '2'`)
}

// Logging out in one tab stops the stream and shows the other tabs as
// logged out; logging in again in that browser is live at once.
func TestLiveLogoutAndLogin(t *testing.T) {
	needChromium(t)
	srv := startServer(t)
	alice := newMember(t, srv, "alice")
	bob := newMember(t, srv, "bob")
	alice.register()
	bob.register()
	other := bob.b.newTab(desktop)
	other.open("/index")
	bob.waitFor(liveJS)
	other.waitFor(liveJS)

	bob.logout()
	other.waitFor(`document.documentElement.dataset.liveState === 'logged-out' && document.getElementById('live-status').textContent.includes('logged out')`)

	bob.login()
	bob.waitFor(liveJS)
	alice.sendMessage("bob", "Welcome back.")
	bob.waitFor(`document.getElementById('message_count').textContent.trim() === '1' && !document.getElementById('message_count').hidden`)
}

// toggleVisibilityJS runs before natter.js: the page's visibility follows
// window.__hidden, and setVisible tells the page as the browser would.
const toggleVisibilityJS = `(() => {
	window.__hidden = true;
	Object.defineProperty(Document.prototype, 'visibilityState', {configurable: true, get: () => window.__hidden ? 'hidden' : 'visible'});
	Object.defineProperty(Document.prototype, 'hidden', {configurable: true, get: () => window.__hidden});
	window.setVisible = () => { window.__hidden = false; document.dispatchEvent(new Event('visibilitychange')); return true; };
})();`

// An open conversation shows a new message from its member in place, and
// reads it: the badge does not rise while the tab is visible. In a hidden
// tab the message stays unread and counts, until the tab is seen.
func TestLiveConversation(t *testing.T) {
	needChromium(t)
	srv := startServer(t)
	alice := newMember(t, srv, "alice")
	bob := newMember(t, srv, "bob")
	alice.register()
	bob.register()
	alice.sendMessage("bob", "First.")

	bob.open("/messages/alice")
	bob.waitFor(liveJS)
	var ok bool
	bob.eval(watchBadgeJS, &ok)
	alice.sendMessage("bob", "Second, live.")
	bob.waitFor(`document.querySelector('ol.conversation-thread').textContent.includes('Second, live.')`)
	// The page read it: the count is 0 everywhere.
	bob.waitFor(`document.documentElement.dataset.liveConnected === 'true'`)
	var rose bool
	bob.eval(`window.__badge.some(r => !r.hidden)`, &rose)
	if rose || !ok {
		t.Errorf("the badge showed while the conversation was on screen")
	}
	var same bool
	bob.eval(`window.__sameDocument === true`, &same)
	if !same {
		t.Errorf("the conversation was reloaded")
	}
	bob.open("/index")
	if got := bob.badge("message_count"); got != "" {
		t.Errorf("after reading in place the badge shows %q, want none", got)
	}

	hidden := bob.b.newTab(desktop)
	hidden.run(chromedp.ActionFunc(func(ctx context.Context) error {
		_, err := page.AddScriptToEvaluateOnNewDocument(toggleVisibilityJS).Do(ctx)
		return err
	}))
	hidden.open("/messages/alice")
	hidden.waitFor(liveJS)
	alice.sendMessage("bob", "Third, unseen.")
	hidden.waitFor(`document.getElementById('message_count').textContent.trim() === '1' && !document.getElementById('message_count').hidden`)
	var shown bool
	hidden.eval(`document.querySelector('ol.conversation-thread').textContent.includes('Third, unseen.')`, &shown)
	if shown {
		t.Errorf("a hidden tab read the message: it must stay unread until seen")
	}
	hidden.eval(`window.setVisible()`, &ok)
	hidden.waitFor(`document.querySelector('ol.conversation-thread').textContent.includes('Third, unseen.') && document.getElementById('message_count').hidden`)
}

// A tab left open from an earlier login is never handed the events of the
// member logged in now in the same browser: alice's tab, after bob logs in
// in another tab, shows itself logged out, and bob's message count never
// appears on it.
func TestLiveTabOfAnotherLogin(t *testing.T) {
	needChromium(t)
	srv := startServer(t)
	carol := newMember(t, srv, "carol")
	carol.register()
	bob := newMember(t, srv, "bob")
	bob.register()
	bob.logout()
	alice := newMember(t, srv, "alice")
	alice.register()
	alice.waitFor(liveJS)
	var ok bool
	alice.eval(watchBadgeJS, &ok)

	// In the same browser, another tab: alice logs out, bob logs in.
	other := alice.b.newTab(desktop)
	other.open("/index")
	other.openAccountMenu()
	other.submit(`form[action="/logout"] button`)
	other.open("/login")
	other.fill("#username", "bob")
	other.fill("#password", password)
	other.submit(`main button[type="submit"]`)
	other.waitFor(liveJS)

	alice.waitFor(`document.documentElement.dataset.liveState === 'logged-out'`)
	carol.sendMessage("bob", "For bob only.")
	other.waitFor(`document.getElementById('message_count').textContent.trim() === '1' && !document.getElementById('message_count').hidden`)
	var leaked bool
	alice.eval(`window.__badge.some(r => !r.hidden)`, &leaked)
	if leaked || alice.badge("message_count") != "" {
		t.Errorf("alice's old tab showed bob's unread count")
	}
}
