package e2e

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// latencySamples is how many messages TestLiveBadge times.
const latencySamples = 5

// watchBadgeJS makes the page note every change of its unread-messages
// badge with the moment it happened (ms since the epoch, sub-ms precise),
// and marks the document, so that a reload would show.
const watchBadgeJS = `(() => {
	window.__sameDocument = true;
	window.__badge = [];
	const badge = document.getElementById('message_count');
	new MutationObserver(() => window.__badge.push({
		text: badge.textContent.trim(),
		hidden: badge.hidden,
		at: performance.timeOrigin + performance.now(),
	})).observe(badge, {attributes: true, childList: true, characterData: true, subtree: true});
	return true;
})()`

// A message sent by A lights B's badge on B's open page without a reload;
// reading in one of B's tabs clears it in the others; and B's three tabs
// share one event stream.
func TestLiveBadge(t *testing.T) {
	needChromium(t)
	srv := startServer(t)
	alice := newMember(t, srv, "alice")
	bob := newMember(t, srv, "bob")
	alice.register()
	bob.register()

	tab1 := bob.tab
	tab1.waitFor(`document.documentElement.dataset.liveConnected === 'true'`)
	if tab1.badge("message_count") != "" {
		t.Fatalf("bob's badge shows %q before any message", tab1.badge("message_count"))
	}
	var ok bool
	tab1.eval(watchBadgeJS, &ok)

	for i := 1; i <= latencySamples; i++ {
		clicked := alice.sendMessage("bob", fmt.Sprintf("Hello bob, this is message %d.", i))
		var at float64
		tab1.waitFor(fmt.Sprintf(`window.__badge.some(r => r.text === '%d' && !r.hidden)`, i))
		tab1.eval(fmt.Sprintf(`window.__badge.find(r => r.text === '%d' && !r.hidden).at`, i), &at)
		latency := time.Duration((at - float64(clicked.UnixMicro())/1e3) * float64(time.Millisecond))
		t.Logf("message %d: bob's badge changed %v after alice clicked Send", i, latency.Round(100*time.Microsecond))
		recordBadgeLatency(latency)

		if i == 1 {
			if got := tab1.badge("message_count"); got != "1" {
				t.Errorf("bob's badge shows %q, want 1", got)
			}
			// Screen readers hear it, from the aria-live region.
			tab1.waitFor(`document.getElementById('live-announcer').textContent.includes('1 unread message')`)
			// One count per thing: the notification centre does not
			// count a message (both would have come in one event batch).
			if got := tab1.badge("activity_count"); got != "" {
				t.Errorf("bob's notification badge shows %q for a message, want it hidden", got)
			}
		}
	}
	var same bool
	tab1.eval(`window.__sameDocument === true`, &same)
	if !same {
		t.Fatalf("bob's page was reloaded; the badge must change without a reload")
	}

	// Two more tabs: all three get their counts from one SharedWorker,
	// which holds the only event stream.
	tab2 := bob.b.newTab(desktop)
	tab3 := bob.b.newTab(desktop)
	tab2.open("/index")
	tab3.open("/index")
	tabs := []*tab{tab1, tab2, tab3}
	for _, tb := range tabs {
		tb.waitFor(`document.documentElement.dataset.liveMode === 'shared-worker' && document.documentElement.dataset.liveConnected === 'true'`)
		if got := tb.badge("message_count"); got != fmt.Sprint(latencySamples) {
			t.Errorf("%s: badge shows %q, want %d", tb.name, got, latencySamples)
		}
	}
	if n := bob.b.sharedWorkers(); n != 1 {
		t.Errorf("bob's browser runs %d shared workers, want 1 for all three tabs", n)
	}
	for _, tb := range tabs {
		if n := tb.requestsTo("/events"); n != 0 {
			t.Errorf("%s opened %d event streams of its own; the worker should hold the only one", tb.name, n)
		}
	}

	// Reading in tab 2 clears the badge in tabs 1 and 3.
	tab2.open("/messages")
	if got := tab2.badge("message_count"); got != "" {
		t.Errorf("the messages page shows the badge %q, want it hidden", got)
	}
	if n := tab2.count("main .inbox-list .post-body"); n != postsPerPage {
		t.Errorf("the messages page lists %d messages, want %d", n, postsPerPage)
	}
	for _, tb := range []*tab{tab1, tab3} {
		tb.waitFor(`document.getElementById('message_count').hidden`)
	}
	tab1.waitFor(`document.getElementById('live-announcer').textContent.includes('No unread messages')`)
	tab1.eval(`window.__sameDocument === true`, &same)
	if !same {
		t.Errorf("bob's first tab was reloaded")
	}
}

// A message that arrives while B's tab is hidden raises a desktop
// notification, once B has allowed them.
func TestDesktopNotification(t *testing.T) {
	needChromium(t)
	srv := startServer(t)
	alice := newMember(t, srv, "alice")
	bob := newMember(t, srv, "bob")
	alice.register()
	bob.register()

	// Bob allows notifications (as following the suggestion to turn them
	// on and then Allow would), and his tab is in the background: the page
	// sees visibilityState 'hidden'. Notification is wrapped to record what
	// the page shows, and still shows it.
	origin, _ := url.Parse(srv.URL)
	bob.run(
		// The protocol's current form of Browser.grantPermissions; it is the
		// browser's business, not the page's.
		chromedp.ActionFunc(func(ctx context.Context) error {
			return cdpbrowser.SetPermission(&cdpbrowser.PermissionDescriptor{Name: "notifications"}, cdpbrowser.PermissionSettingGranted).
				WithOrigin(origin.Scheme + "://" + origin.Host).
				Do(cdp.WithExecutor(ctx, chromedp.FromContext(ctx).Browser))
		}),
		chromedp.ActionFunc(func(ctx context.Context) error {
			_, err := page.AddScriptToEvaluateOnNewDocument(hiddenTabJS).Do(ctx)
			return err
		}),
	)
	bob.open("/index")
	bob.waitFor(`document.documentElement.dataset.liveConnected === 'true'`)
	var state struct {
		Permission, Visibility string
		SuggestionHidden       bool
	}
	bob.eval(`({Permission: Notification.permission, Visibility: document.visibilityState,
		SuggestionHidden: document.getElementById('desktop-suggestion').hidden && document.getElementById('push-suggestion').hidden})`, &state)
	if state.Permission != "granted" || state.Visibility != "hidden" {
		t.Fatalf("bob's page sees permission %q and visibility %q, want granted and hidden", state.Permission, state.Visibility)
	}
	if !state.SuggestionHidden {
		t.Errorf("a suggestion to turn notifications on shows although they are allowed")
	}

	alice.sendMessage("bob", "Are you coming to the chess club?")
	bob.waitFor(`window.__notifications.length > 0`)
	var shown []struct{ Title, Body, Tag string }
	bob.eval(`window.__notifications`, &shown)
	if len(shown) != 1 || shown[0].Title != "natter" || shown[0].Body != "You have 1 unread message" {
		t.Errorf("desktop notifications shown: %+v, want one titled natter saying %q", shown, "You have 1 unread message")
	}
	if got := bob.badge("message_count"); got != "1" {
		t.Errorf("bob's badge shows %q, want 1", got)
	}
}

// hiddenTabJS runs before natter.js on every page: it makes the page look
// hidden (a background tab) and records each Notification it creates.
const hiddenTabJS = `(() => {
	Object.defineProperty(Document.prototype, 'visibilityState', {configurable: true, get: () => 'hidden'});
	Object.defineProperty(Document.prototype, 'hidden', {configurable: true, get: () => true});
	const Real = window.Notification;
	window.__notifications = [];
	window.Notification = class extends Real {
		constructor(title, options = {}) {
			window.__notifications.push({title, body: options.body || '', tag: options.tag || ''});
			super(title, options);
		}
	};
})();`

// badge returns the text of the navbar badge with id, or "" when it is
// hidden.
func (tb *tab) badge(id string) string {
	tb.b.t.Helper()
	var s string
	tb.eval(fmt.Sprintf(`(() => { const b = document.getElementById(%q);
		return !b || b.hidden ? '' : b.textContent.trim(); })()`, id), &s)
	return s
}

// sharedWorkers counts the browser's SharedWorkers.
func (b *browser) sharedWorkers() int {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.main.ctx, actionTimeout)
	defer cancel()
	infos, err := chromedp.Targets(ctx)
	if err != nil {
		b.t.Fatalf("%s: listing targets: %v", b.name, err)
	}
	n := 0
	for _, info := range infos {
		if info.Type == "shared_worker" {
			n++
		}
	}
	return n
}

// requestsTo counts the requests the tab's pages made to path.
func (tb *tab) requestsTo(path string) int {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	n := 0
	for _, raw := range tb.requests {
		if u, err := url.Parse(raw); err == nil && u.Path == path {
			n++
		}
	}
	return n
}
