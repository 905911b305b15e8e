package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/backgroundservice"
	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/serviceworker"
	"github.com/chromedp/chromedp"
)

// natter's service worker (static/sw.js) in Chromium, driven through the
// DevTools protocol: ServiceWorker.deliverPushMessage hands it a push as
// the push service would, decrypted. (Headless Chromium cannot subscribe
// to a real push service; subscribing is covered by the HTTP tests.)
//
// A pushed message shows one notification per conversation, titled with
// its sender; a click leads to the conversation; a 'read' push closes it;
// and every push shows something.
func TestPushNotifications(t *testing.T) {
	needChromium(t)
	srv := startServer(t)
	bob := srv.seedMember(t, "bob", "")
	alice := newMember(t, srv, "alice")
	alice.register()
	bob.send("alice", "Lunch on Friday?")

	alice.allowNotifications()
	alice.open("/index")
	sw := alice.registerServiceWorker()
	conversation := srv.URL + "/messages/bob"

	sw.push(`{"type": "message", "title": "bob", "body": "Lunch on Friday?", "url": "/messages/bob", "tag": "conversation-2"}`)
	alice.waitForNotifications(`ns.some((n) => n.tag === 'conversation-2')`)
	want := shownNotification{Title: "bob", Body: "Lunch on Friday?", Tag: "conversation-2", URL: conversation}
	if got := sw.notifications(); len(got) != 1 || got[0] != want {
		t.Fatalf("after a message push the browser shows %+v, want only %+v", got, want)
	}

	// The next message of the conversation replaces its notification.
	sw.push(`{"type": "message", "title": "bob", "body": "Or Saturday?", "url": "/messages/bob", "tag": "conversation-2"}`)
	alice.waitForNotifications(`ns.some((n) => n.body === 'Or Saturday?')`)
	if got := sw.notifications(); len(got) != 1 || got[0].Body != "Or Saturday?" {
		t.Errorf("after a second message of the conversation: %+v, want one notification, the newer", got)
	}

	// A click leads to the conversation and closes the notification.
	click := sw.click("conversation-2")
	if len(click.Opened) != 1 || click.Opened[0] != conversation || len(click.Focused) != 0 {
		t.Fatalf("a click with only the timeline open: opened %q, focused %q; want %s opened", click.Opened, click.Focused, conversation)
	}
	alice.waitForNotifications(`ns.length === 0`) // the click closed it
	u, _ := url.Parse(click.Opened[0])
	alice.open(u.Path)
	alice.waitVisible("main")
	if text := alice.text("main"); !strings.Contains(text, "Lunch on Friday?") {
		t.Errorf("the page the click opens does not show bob's message:\n%s", text)
	}
	// With the conversation open already, a click brings its tab forward
	// rather than opening another.
	sw.push(`{"type": "message", "title": "bob", "body": "Or Sunday?", "url": "/messages/bob", "tag": "conversation-2"}`)
	alice.waitForNotifications(`ns.some((n) => n.body === 'Or Sunday?')`)
	click = sw.click("conversation-2")
	if len(click.Focused) != 1 || click.Focused[0] != conversation || len(click.Opened) != 0 {
		t.Errorf("a click with the conversation open: focused %q, opened %q; want its tab focused", click.Focused, click.Opened)
	}
	alice.waitForNotifications(`ns.length === 0`)

	// A 'read' push closes what was read and leaves the rest.
	sw.push(`{"type": "message", "title": "bob", "body": "Lunch on Friday?", "url": "/messages/bob", "tag": "conversation-2"}`)
	sw.push(`{"type": "mention", "title": "carol mentioned you", "body": "@alice the chess club", "url": "/index", "tag": "post-7"}`)
	alice.waitForNotifications(`ns.length === 2`)
	sw.push(`{"type": "read", "tags": ["conversation-2"]}`)
	alice.waitForNotifications(`ns.length === 1 && ns[0].tag === 'post-7'`)

	// The last one read with no natter page in view: browsers want every
	// push to show something, so a quiet "all caught up" note replaces it,
	// and the next natter page closes that.
	alice.run(chromedp.Navigate("about:blank"))
	sw.waitFor(`(await self.clients.matchAll({type: 'window', includeUncontrolled: true})).length === 0`)
	sw.push(`{"type": "read", "tags": ["post-7"]}`)
	sw.waitFor(`(await self.registration.getNotifications()).map((n) => n.tag).join() === 'natter-caught-up'`)
	alice.open("/index")
	alice.waitForNotifications(`ns.length === 0`)

	// A push it cannot read still shows a notification that leads to natter.
	sw.push(`not JSON`)
	alice.waitForNotifications(`ns.length === 1`)
	if got := sw.notifications(); got[0].Title != "natter" || got[0].URL != srv.URL+"/" {
		t.Errorf("an unreadable push shows %+v, want a notification titled natter leading to /", got[0])
	}
	// Nor does a pushed URL lead anywhere but natter.
	sw.push(`{"type": "message", "title": "mallory", "body": "hi", "url": "https://example.com/phish", "tag": "conversation-9"}`)
	alice.waitForNotifications(`ns.some((n) => n.tag === 'conversation-9')`)
	for _, n := range sw.notifications() {
		if n.Tag == "conversation-9" && n.URL != srv.URL+"/" {
			t.Errorf("a notification leads to %s, want natter's own /", n.URL)
		}
	}
}

// The suggestion to turn notifications on shows once to a member whose
// browser has not been asked, stays away once dismissed, never shows to
// one who has answered, and nothing asks the browser's question or
// registers the service worker unprompted.
func TestPushSuggestion(t *testing.T) {
	needChromium(t)
	srv := startServer(t)
	alice := newMember(t, srv, "alice")
	alice.run(chromedp.ActionFunc(func(ctx context.Context) error {
		_, err := page.AddScriptToEvaluateOnNewDocument(countPermissionRequestsJS).Do(ctx)
		return err
	}))
	alice.register()

	alice.open("/index")
	alice.waitVisible("#push-suggestion")
	if href := alice.attr(`#push-suggestion a`, "href"); href != "/settings/notifications" {
		t.Errorf("the suggestion links to %q, want the notification settings", href)
	}
	alice.run(chromedpClick(`#push-suggestion [data-push-dismiss]`))
	alice.waitFor(`document.getElementById('push-suggestion').hidden`)
	alice.open("/messages")
	var seen struct {
		Hidden       bool
		Requests     int
		Permission   string
		Registration bool
	}
	alice.evalAsync(`navigator.serviceWorker.getRegistration('/').then((r) => ({
		Hidden: document.getElementById('push-suggestion').hidden,
		Requests: window.__permissionRequests,
		Permission: Notification.permission,
		Registration: Boolean(r),
	}))`, &seen)
	if !seen.Hidden {
		t.Error("the dismissed suggestion shows again on the next page")
	}
	if seen.Requests != 0 || seen.Permission != "default" || seen.Registration {
		t.Errorf("unprompted: %d permission requests, permission %q, a service worker registered: %v", seen.Requests, seen.Permission, seen.Registration)
	}

	// A member whose browser allows notifications already is not asked.
	bob := newMember(t, srv, "bob")
	bob.allowNotifications()
	bob.register()
	bob.open("/index")
	var hidden bool
	bob.eval(`document.readyState === 'complete' && document.getElementById('push-suggestion').hidden`, &hidden)
	if !hidden {
		t.Error("the suggestion shows to a member whose browser allows notifications already")
	}
}

// push.js's controls show the browser's state: off, with the button to
// turn notifications on; blocked, with no button; and it fills an empty
// time zone field with the browser's. The controls live on the server
// side's notification settings page; this test needs only the element
// that page carries, so it adds it (and time zone fields) to the timeline
// before push.js runs.
func TestPushControls(t *testing.T) {
	needChromium(t)
	srv := startServer(t)
	alice := newMember(t, srv, "alice")
	alice.run(
		emulation.SetTimezoneOverride("Pacific/Auckland"),
		chromedp.ActionFunc(func(ctx context.Context) error {
			_, err := page.AddScriptToEvaluateOnNewDocument(pushControlsFixtureJS).Do(ctx)
			return err
		}),
	)
	// The controls fetch the key ahead of a click. The server side's
	// endpoint is built on another branch; where it is missing, the 404 is
	// no fault of the page (turning on would then say so).
	alice.b.expect("/push/key", 404)
	alice.register()

	alice.open("/index")
	alice.waitFor(`document.getElementById('push-controls').dataset.state === 'off'`)
	var off struct {
		Status, Button string
		ButtonHidden   bool
		Suggestion     bool
		Empty, Set     string
	}
	alice.eval(`(() => {
		const root = document.getElementById('push-controls');
		return {
			Status: root.querySelector('[role=status]').textContent,
			Button: root.querySelector('button').textContent,
			ButtonHidden: root.querySelector('button').hidden,
			Suggestion: !document.getElementById('push-suggestion').hidden,
			Empty: document.getElementById('tz-empty').value,
			Set: document.getElementById('tz-set').value,
		};
	})()`, &off)
	if off.Button != "Turn on notifications in this browser" || off.ButtonHidden || off.Status != "Notifications are off in this browser." {
		t.Errorf("controls before turning on: %q, button %q (hidden %v)", off.Status, off.Button, off.ButtonHidden)
	}
	if off.Suggestion {
		t.Error("the page with the controls also shows the suggestion")
	}
	if off.Empty != "Pacific/Auckland" || off.Set != "Europe/Oslo" {
		t.Errorf("time zones %q and %q, want the empty one filled with the browser's (Pacific/Auckland) and the other kept (Europe/Oslo)", off.Empty, off.Set)
	}

	alice.setNotifications(cdpbrowser.PermissionSettingDenied)
	alice.open("/index")
	alice.waitFor(`document.getElementById('push-controls').dataset.state === 'blocked'`)
	var blocked struct {
		Status       string
		ButtonHidden bool
	}
	alice.eval(`(() => {
		const root = document.getElementById('push-controls');
		return {Status: root.querySelector('[role=status]').textContent, ButtonHidden: root.querySelector('button').hidden};
	})()`, &blocked)
	if !blocked.ButtonHidden || !strings.Contains(blocked.Status, "blocked") {
		t.Errorf("controls with notifications blocked: %q, button hidden %v", blocked.Status, blocked.ButtonHidden)
	}
}

// pushControlsFixtureJS adds, as the settings page would have them, the
// push controls' element and two time zone fields to the timeline. It
// runs when the page's parsing ends, before deferred scripts (push.js).
const pushControlsFixtureJS = `document.addEventListener('readystatechange', () => {
	if (document.readyState !== 'interactive' || location.pathname !== '/index') return;
	document.getElementById('main').insertAdjacentHTML('afterbegin',
		'<div id="push-controls" data-key-url="/push/key" data-subscriptions-url="/push/subscriptions"></div>' +
		'<input name="time_zone" id="tz-empty"><input name="time_zone" id="tz-set" value="Europe/Oslo">');
});`

// countPermissionRequestsJS counts the page's calls of
// Notification.requestPermission.
const countPermissionRequestsJS = `(() => {
	window.__permissionRequests = 0;
	const ask = Notification.requestPermission.bind(Notification);
	Notification.requestPermission = (...args) => { window.__permissionRequests++; return ask(...args); };
})();`

// allowNotifications allows natter's notifications in the member's
// browser, as answering "Allow" would.
func (m *member) allowNotifications() {
	m.b.t.Helper()
	m.setNotifications(cdpbrowser.PermissionSettingGranted)
}

// setNotifications sets the browser's notification permission for natter.
func (m *member) setNotifications(setting cdpbrowser.PermissionSetting) {
	m.b.t.Helper()
	origin, _ := url.Parse(m.b.srv.URL)
	m.run(chromedp.ActionFunc(func(ctx context.Context) error {
		return cdpbrowser.SetPermission(&cdpbrowser.PermissionDescriptor{Name: "notifications"}, setting).
			WithOrigin(origin.Scheme + "://" + origin.Host).
			Do(cdp.WithExecutor(ctx, chromedp.FromContext(ctx).Browser))
	}))
}

// attr returns the attribute name of the first element matching sel.
func (tb *tab) attr(sel, name string) string {
	tb.b.t.Helper()
	var v string
	tb.eval(fmt.Sprintf(`document.querySelector(%q).getAttribute(%q) || ''`, sel, name), &v)
	return v
}

// waitForNotifications polls until cond, an expression over ns (the
// notifications natter's worker shows), is true.
func (tb *tab) waitForNotifications(cond string) {
	tb.b.t.Helper()
	tb.waitFor(`navigator.serviceWorker.getRegistration('/').then((r) => r ? r.getNotifications() : []).then((ns) => ` + cond + `)`)
}

// serviceWorker is natter's service worker in a member's browser.
type serviceWorker struct {
	*tab        // the worker's DevTools target: eval runs in the worker
	page   *tab // the page that registered it, whose session delivers pushes
	origin string
	id     serviceworker.RegistrationID
	// handled receives the outcome ("Success") of each push event the
	// worker finished, in order, as the protocol's BackgroundService
	// domain records them.
	handled chan string
}

// registerServiceWorker registers /sw.js from the member's natter page,
// as push.js does, and attaches to the worker.
func (m *member) registerServiceWorker() *serviceWorker {
	t := m.b.t
	t.Helper()
	// The protocol reports the registration (it may do so again as the
	// worker moves from installing to active: the first report will do).
	scope := m.b.srv.URL + "/"
	found := make(chan serviceworker.RegistrationID, 1)
	chromedp.ListenTarget(m.ctx, func(ev any) {
		if ev, ok := ev.(*serviceworker.EventWorkerRegistrationUpdated); ok {
			for _, r := range ev.Registrations {
				if r.ScopeURL == scope && !r.IsDeleted {
					select {
					case found <- r.RegistrationID:
					default:
					}
				}
			}
		}
	})
	handled := make(chan string, 100)
	chromedp.ListenTarget(m.ctx, func(ev any) {
		ev2, ok := ev.(*backgroundservice.EventBackgroundServiceEventReceived)
		if !ok || ev2.BackgroundServiceEvent.Service != backgroundservice.ServiceNamePushMessaging ||
			ev2.BackgroundServiceEvent.EventName != "Push event completed" {
			return
		}
		status := "(none)"
		for _, md := range ev2.BackgroundServiceEvent.EventMetadata {
			if md.Key == "Status" {
				status = md.Value
			}
		}
		handled <- status
	})
	m.run(serviceworker.Enable(),
		backgroundservice.StartObserving(backgroundservice.ServiceNamePushMessaging),
		backgroundservice.SetRecording(true, backgroundservice.ServiceNamePushMessaging))
	var state string
	m.evalAsync(`navigator.serviceWorker.register('/sw.js', {scope: '/'})
		.then(() => navigator.serviceWorker.ready).then((r) => r.scope)`, &state)
	if state != scope {
		t.Fatalf("the service worker's scope is %q, want %q", state, scope)
	}
	var id serviceworker.RegistrationID
	select {
	case id = <-found:
	case <-time.After(actionTimeout):
		t.Fatalf("the DevTools protocol reported no registration for %s", scope)
	}

	infos, err := chromedp.Targets(m.ctx)
	if err != nil {
		t.Fatalf("listing targets: %v", err)
	}
	for _, info := range infos {
		if info.Type == "service_worker" && info.URL == m.b.srv.URL+"/sw.js" {
			ctx, _ := chromedp.NewContext(m.ctx, chromedp.WithTargetID(info.TargetID))
			if err := chromedp.Run(ctx); err != nil {
				t.Fatalf("attaching to the service worker: %v", err)
			}
			tb := &tab{b: m.b, ctx: ctx, name: m.b.name + "/sw.js", requests: map[network.RequestID]string{}}
			// The worker's uncaught errors fail the test like a page's.
			chromedp.ListenTarget(ctx, tb.watch)
			return &serviceWorker{tab: tb, page: m.tab, origin: m.b.srv.URL, id: id, handled: handled}
		}
	}
	t.Fatalf("no service worker target for %s/sw.js among %d targets", m.b.srv.URL, len(infos))
	return nil
}

// push delivers data to the worker as a push message and waits until the
// worker has handled it. Tests look at notifications only between pushes:
// Chromium's getNotifications() while a showNotification() is under way
// can lose that notification (sw.js handles its pushes in turn for that
// reason too).
func (w *serviceWorker) push(data string) {
	w.b.t.Helper()
	w.page.run(chromedp.ActionFunc(func(ctx context.Context) error {
		return serviceworker.DeliverPushMessage(w.origin, w.id, data).Do(ctx)
	}))
	select {
	case status := <-w.handled:
		if status != "Success" {
			w.b.t.Errorf("the worker's push event for %s ended with %q", data, status)
		}
	case <-time.After(actionTimeout):
		w.b.t.Fatalf("the worker did not finish handling the push %s", data)
	}
}

// waitFor polls cond, an expression that may await, in the worker until it
// is true. (chromedp.Poll needs a page's frame.)
func (w *serviceWorker) waitFor(cond string) {
	w.b.t.Helper()
	var ok bool
	w.evalAsync(`(async () => {
		for (;;) {
			if (`+cond+`) return true;
			await new Promise((resolve) => setTimeout(resolve, 10));
		}
	})()`, &ok)
}

type shownNotification struct {
	Title, Body, Tag, URL string
}

// notifications returns what the worker's notifications show.
func (w *serviceWorker) notifications() []shownNotification {
	w.b.t.Helper()
	var ns []shownNotification
	w.evalAsync(`self.registration.getNotifications().then((ns) => ns.map((n) => ({
		Title: n.title, Body: n.body, Tag: n.tag, URL: (n.data && n.data.url) || '',
	})))`, &ns)
	return ns
}

// clickResult is what the worker asked the browser to do on a click.
type clickResult struct {
	Opened  []string // clients.openWindow
	Focused []string // WindowClient.focus, by the client's URL
}

// click clicks the notification tagged tag, as far as a test can.
//
// The DevTools protocol has no way to click a notification, and Chromium
// lets a worker open or focus a window only while it handles a real click
// (otherwise "InvalidAccessError: Not allowed to open a window"). So click
// dispatches a notificationclick event for the shown notification into the
// worker (through the protocol, in the worker's own context: nothing in
// sw.js is there for tests) and records the windows the worker's handler
// asks to open or focus instead of letting the browser refuse. The event's
// waitUntil is the test's, since a script-made event has no real one; the
// test waits for what the handler handed it.
func (w *serviceWorker) click(tag string) clickResult {
	w.b.t.Helper()
	raw := ""
	w.evalAsync(fmt.Sprintf(`(async (tag) => {
		const [notification] = await self.registration.getNotifications({tag});
		if (!notification) throw new Error('no notification tagged ' + tag);
		const calls = {Opened: [], Focused: []};
		const open = Clients.prototype.openWindow, focus = WindowClient.prototype.focus;
		Clients.prototype.openWindow = function (url) { calls.Opened.push(url); return Promise.resolve(null); };
		WindowClient.prototype.focus = function () { calls.Focused.push(this.url); return Promise.resolve(this); };
		try {
			const event = new NotificationEvent('notificationclick', {notification});
			const pending = [];
			Object.defineProperty(event, 'waitUntil', {value: (p) => pending.push(p)});
			self.dispatchEvent(event);
			await Promise.all(pending);
		} finally {
			Clients.prototype.openWindow = open;
			WindowClient.prototype.focus = focus;
		}
		return JSON.stringify(calls);
	})(%q)`, tag), &raw)
	var r clickResult
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		w.b.t.Fatalf("clicking %s: %v (%s)", tag, err, raw)
	}
	return r
}
