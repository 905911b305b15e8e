package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto"
	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// actionTimeout bounds every step a test takes in a browser. Steps wait for
// conditions, never for fixed times; this only turns a hang into a failure.
const actionTimeout = 20 * time.Second

// Viewports the tests look at pages in.
var (
	desktop = viewport{"desktop", 1280, 800, 1, false}
	phone   = viewport{"phone", 390, 844, 1, true}
)

type viewport struct {
	name          string
	width, height int64
	scale         float64
	mobile        bool
}

func (v viewport) emulate() chromedp.Action {
	opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(v.scale)}
	if v.mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	return chromedp.EmulateViewport(v.width, v.height, opts...)
}

// browser is one Chromium process with a profile of its own, so one
// member's cookies, cache and SharedWorker: separate members never share a
// browser. It watches every tab for script errors and failed requests and
// fails the test at its end if there were any nobody expected.
type browser struct {
	t    *testing.T
	srv  *server
	name string
	main *tab // the first tab; the parent of the others

	mu       sync.Mutex
	problems []string
	expected map[string]int // URL path → error status the test provokes
	debug    []string       // chromedp's own complaints, shown on failure
	tabs     int
}

// newBrowser starts Chromium for one member, with the flags the sandbox's
// closed network needs, and closes it when t ends.
func newBrowser(t *testing.T, srv *server, name string) *browser {
	t.Helper()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromePath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	b := &browser{t: t, srv: srv, name: name, expected: map[string]int{}}
	ctx, _ := chromedp.NewContext(allocCtx,
		chromedp.WithErrorf(b.debugf), chromedp.WithLogf(b.debugf))
	// The first Run starts the browser; it must get the context itself, not
	// one with a timeout, which would end the browser with it.
	if err := chromedp.Run(ctx); err != nil {
		cancelAlloc()
		t.Fatalf("%s: starting Chromium: %v", name, err)
	}
	t.Cleanup(func() {
		b.checkProblems()
		if err := chromedp.Cancel(ctx); err != nil {
			t.Logf("%s: closing Chromium: %v", name, err)
		}
		cancelAlloc()
		if t.Failed() {
			b.mu.Lock()
			if len(b.debug) > 0 {
				t.Logf("%s: chromedp said:\n%s", name, tail(strings.Join(b.debug, "\n"), 30))
			}
			b.mu.Unlock()
		}
	})
	b.main = b.attach(ctx, desktop)
	return b
}

// newTab opens another tab in the same browser (same profile, cookies and
// SharedWorker).
func (b *browser) newTab(v viewport) *tab {
	b.t.Helper()
	ctx, _ := chromedp.NewContext(b.main.ctx)
	if err := chromedp.Run(ctx); err != nil {
		b.t.Fatalf("%s: opening a tab: %v", b.name, err)
	}
	return b.attach(ctx, v)
}

// newProfileTab opens a tab in a new browser context of the same browser:
// an empty cache and no cookies, as on a first visit from a fresh profile.
// close ends the context.
func (b *browser) newProfileTab(v viewport) (tb *tab, close func()) {
	b.t.Helper()
	var id target.ID
	var bctx cdp.BrowserContextID
	b.main.run(chromedp.ActionFunc(func(ctx context.Context) error {
		exec := cdp.WithExecutor(ctx, chromedp.FromContext(ctx).Browser)
		var err error
		if bctx, err = target.CreateBrowserContext().WithDisposeOnDetach(true).Do(exec); err != nil {
			return err
		}
		id, err = target.CreateTarget("about:blank").WithBrowserContextID(bctx).WithNewWindow(true).Do(exec)
		return err
	}))
	ctx, cancel := chromedp.NewContext(b.main.ctx, chromedp.WithTargetID(id))
	if err := chromedp.Run(ctx); err != nil {
		b.t.Fatalf("%s: attaching to a tab in a new browser context: %v", b.name, err)
	}
	tb = b.attach(ctx, v)
	return tb, func() {
		cancel()
		b.main.run(chromedp.ActionFunc(func(ctx context.Context) error {
			return target.DisposeBrowserContext(bctx).Do(cdp.WithExecutor(ctx, chromedp.FromContext(ctx).Browser))
		}))
	}
}

func (b *browser) attach(ctx context.Context, v viewport) *tab {
	b.mu.Lock()
	b.tabs++
	tb := &tab{b: b, ctx: ctx, name: fmt.Sprintf("%s/tab%d", b.name, b.tabs), requests: map[network.RequestID]string{}}
	b.mu.Unlock()
	chromedp.ListenTarget(ctx, tb.watch)
	tb.run(v.emulate())
	return tb
}

// version is the browser's product name and version, as "Chromium 1.2.3".
func (b *browser) version() string {
	b.t.Helper()
	var product string
	b.main.run(chromedp.ActionFunc(func(ctx context.Context) error {
		var err error
		_, product, _, _, _, err = cdpbrowser.GetVersion().Do(cdp.WithExecutor(ctx, chromedp.FromContext(ctx).Browser))
		return err
	}))
	name, ver, _ := strings.Cut(product, "/")
	if name == "HeadlessChrome" || name == "Chrome" {
		name = "Chromium"
	}
	return name + " " + ver
}

// expect tells the browser that path answering status is what the test
// wants (a 404 page, say), not a failure.
func (b *browser) expect(path string, status int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expected[path] = status
}

func (b *browser) isExpected(rawURL string, status int) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	want, ok := b.expected[u.Path]
	return ok && (status == 0 || status == want)
}

func (b *browser) problem(tb *tab, format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.problems = append(b.problems, tb.name+": "+fmt.Sprintf(format, args...))
}

func (b *browser) debugf(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.debug = append(b.debug, fmt.Sprintf(format, args...))
}

// checkProblems fails the test for every uncaught script error, console
// error and failed or unexpected error response seen on any page.
func (b *browser) checkProblems() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		b.t.Errorf("on a page: %s", p)
	}
	b.problems = nil
}

// tab is one page of a browser.
type tab struct {
	b    *browser
	ctx  context.Context
	name string

	mu       sync.Mutex
	requests map[network.RequestID]string // URLs, to name failed requests
}

// watch is the tab's CDP event listener. It runs on chromedp's event
// goroutine, so it only records.
func (tb *tab) watch(ev any) {
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		tb.b.problem(tb, "uncaught exception: %s", describeException(ev.ExceptionDetails))
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.APITypeError || ev.Type == runtime.APITypeAssert {
			var parts []string
			for _, arg := range ev.Args {
				if arg.Description != "" {
					parts = append(parts, arg.Description)
				} else {
					parts = append(parts, string(arg.Value))
				}
			}
			tb.b.problem(tb, "console.%s: %s", ev.Type, strings.Join(parts, " "))
		}
	case *cdplog.EventEntryAdded:
		// The browser's own error reports: CSP violations, failed loads.
		if ev.Entry.Level == cdplog.LevelError && !tb.b.isExpected(ev.Entry.URL, 0) {
			tb.b.problem(tb, "browser log (%s): %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
		}
	case *network.EventRequestWillBeSent:
		tb.mu.Lock()
		tb.requests[ev.RequestID] = ev.Request.URL
		tb.mu.Unlock()
	case *network.EventResponseReceived:
		if ev.Response.Status >= 400 && !tb.b.isExpected(ev.Response.URL, int(ev.Response.Status)) {
			tb.b.problem(tb, "HTTP %d for %s", ev.Response.Status, ev.Response.URL)
		}
	case *network.EventLoadingFailed:
		// Requests the page itself gave up on (an aborted popover fetch,
		// a navigation away) are not failures.
		if ev.Canceled {
			return
		}
		tb.mu.Lock()
		u := tb.requests[ev.RequestID]
		tb.mu.Unlock()
		tb.b.problem(tb, "request failed: %s %s %s", u, ev.ErrorText, ev.BlockedReason)
	}
}

func describeException(d *runtime.ExceptionDetails) string {
	if d == nil {
		return "(no details)"
	}
	s := d.Text
	if d.Exception != nil && d.Exception.Description != "" {
		s += " " + d.Exception.Description
	}
	return fmt.Sprintf("%s (%s:%d:%d)", s, d.URL, d.LineNumber+1, d.ColumnNumber+1)
}

// run runs actions in the tab, failing the test on an error or after
// actionTimeout.
func (tb *tab) run(actions ...chromedp.Action) {
	tb.b.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		tb.b.t.Fatalf("%s: %v", tb.name, err)
	}
}

// navigate runs actions that end in a page load (a click on a submit
// button, a link, a Navigate) and returns the final response's status.
func (tb *tab) navigate(actions ...chromedp.Action) int64 {
	tb.b.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, actions...)
	if err != nil {
		tb.b.t.Fatalf("%s: %v", tb.name, err)
	}
	if resp == nil {
		tb.b.t.Fatalf("%s: no page loaded", tb.name)
	}
	return resp.Status
}

// open loads path and wants it to render (200).
func (tb *tab) open(path string) {
	tb.b.t.Helper()
	tb.openStatus(path, 200)
}

func (tb *tab) openStatus(path string, want int64) {
	tb.b.t.Helper()
	if got := tb.navigate(chromedp.Navigate(tb.b.srv.URL + path)); got != want {
		tb.b.t.Fatalf("%s: GET %s: status %d, want %d", tb.name, path, got, want)
	}
}

// submit clicks the button sel, which submits a form, and wants the page
// it leads to (after natter's redirect) to render.
func (tb *tab) submit(sel string) {
	tb.b.t.Helper()
	if got := tb.navigate(chromedpClick(sel)); got != 200 {
		tb.b.t.Fatalf("%s: submitting %s: status %d, want 200", tb.name, sel, got)
	}
}

// fill replaces the value of the field sel with text, typed as a person's
// input method would (one insertText, so long texts are quick).
func (tb *tab) fill(sel, text string) {
	tb.b.t.Helper()
	var ok bool
	tb.run(
		chromedp.WaitVisible(sel, chromedp.ByQuery),
		chromedp.Evaluate(fmt.Sprintf(`(() => {
			const el = document.querySelector(%q);
			el.value = '';
			el.focus();
			return document.activeElement === el;
		})()`, sel), &ok),
		input.InsertText(text),
	)
	if !ok {
		tb.b.t.Fatalf("%s: could not focus %s", tb.name, sel)
	}
}

// text returns the visible text of the first element matching sel.
func (tb *tab) text(sel string) string {
	tb.b.t.Helper()
	var s string
	tb.run(chromedp.Text(sel, &s, chromedp.ByQuery))
	return strings.TrimSpace(s)
}

// has reports whether an element matches sel right now.
func (tb *tab) has(sel string) bool {
	tb.b.t.Helper()
	var n int
	tb.eval(fmt.Sprintf("document.querySelectorAll(%q).length", sel), &n)
	return n > 0
}

func (tb *tab) waitVisible(sel string) {
	tb.b.t.Helper()
	tb.run(chromedp.WaitVisible(sel, chromedp.ByQuery))
}

// eval evaluates a JavaScript expression in the page (through the
// DevTools protocol, so the page's CSP does not apply) into res.
func (tb *tab) eval(expr string, res any) {
	tb.b.t.Helper()
	tb.run(chromedp.Evaluate(expr, res))
}

// evalAsync is eval for an expression that yields a promise.
func (tb *tab) evalAsync(expr string, res any) {
	tb.b.t.Helper()
	tb.run(chromedp.Evaluate(expr, res, func(p *runtime.EvaluateParams) *runtime.EvaluateParams {
		return p.WithAwaitPromise(true)
	}))
}

// waitFor polls a JavaScript condition until it is true. The interval is
// a timer rather than animation frames, which a background tab never gets.
//
// chromedp sends a poll to the execution context it last heard of for the
// page; just after a navigation that can still be the old document's, which
// is gone ("Cannot find context with specified id", seen on a loaded machine
// when a page is opened again at the same address). The poll then starts
// again, in the new document's context once chromedp has read its event.
func (tb *tab) waitFor(cond string) {
	tb.b.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, actionTimeout)
	defer cancel()
	for {
		err := chromedp.Run(ctx, chromedp.Poll(cond, nil,
			chromedp.WithPollingInterval(10*time.Millisecond),
			chromedp.WithPollingTimeout(actionTimeout-time.Second)))
		var cdpErr *cdproto.Error
		if errors.As(err, &cdpErr) && cdpErr.Message == "Cannot find context with specified id" && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond) // the poll's own interval
			continue
		}
		if err != nil {
			tb.b.t.Fatalf("%s: waiting for %s: %v", tb.name, cond, err)
		}
		return
	}
}

// centre scrolls the first element matching sel into the middle of the
// viewport and returns its centre, in viewport coordinates. The scroll is
// instant: Bootstrap makes scrolling smooth, and a position read while the
// page still glides would be wrong a moment later.
func (tb *tab) centre(sel string) (x, y float64) {
	tb.b.t.Helper()
	tb.waitVisible(sel)
	var ok bool
	// Instantly: Bootstrap makes scrolling smooth, and the position read
	// next would be the one before the scroll.
	tb.eval(fmt.Sprintf(`(document.querySelector(%q).scrollIntoView({block: 'center', inline: 'center', behavior: 'instant'}), true)`, sel), &ok)
	return tb.position(sel)
}

// position returns the centre of the first element matching sel, in
// viewport coordinates, without scrolling.
func (tb *tab) position(sel string) (x, y float64) {
	tb.b.t.Helper()
	tb.waitVisible(sel)
	var box struct{ X, Y float64 }
	tb.eval(fmt.Sprintf(`(() => {
		const r = document.querySelector(%q).getBoundingClientRect();
		return {X: r.left + r.width / 2, Y: r.top + r.height / 2};
	})()`, sel), &box)
	return box.X, box.Y
}

// mouseTo moves the mouse pointer to (x, y).
func (tb *tab) mouseTo(x, y float64) chromedp.Action {
	return chromedp.MouseEvent(input.MouseMoved, x, y)
}

// disableScripts turns JavaScript off in the tab, for every page it loads
// from now on.
func (tb *tab) disableScripts() {
	tb.b.t.Helper()
	tb.run(emulation.SetScriptExecutionDisabled(true))
}

// member is a person with a browser of their own.
type member struct {
	*tab // the first tab
	name string
}

// newMember starts a browser for name (who has no account yet).
func newMember(t *testing.T, srv *server, name string) *member {
	t.Helper()
	return &member{tab: newBrowser(t, srv, name).main, name: name}
}

// register fills in the registration form and lands, logged in, on the
// timeline.
func (m *member) register() {
	m.b.t.Helper()
	m.open("/register")
	m.fill("#username", m.name)
	m.fill("#email", m.name+"@example.com")
	m.fill("#password", password)
	m.fill("#confirm_password", password)
	m.submit(`main button[type="submit"]`)
	m.wantFlash("Welcome to natter, " + m.name)
}

func (m *member) login() {
	m.b.t.Helper()
	m.open("/login")
	m.fill("#username", m.name)
	m.fill("#password", password)
	m.submit(`main button[type="submit"]`)
	if got := m.text("main h1"); got != "Hi, "+m.name+"!" {
		m.b.t.Fatalf("%s: after logging in the page says %q", m.name, got)
	}
}

func (m *member) logout() {
	m.b.t.Helper()
	m.openAccountMenu()
	m.submit(`form[action="/logout"] button`)
	if got := m.text("main h1"); got != "Log in" {
		m.b.t.Fatalf("%s: after logging out the page says %q, want the login page", m.name, got)
	}
}

// openAccountMenu opens the navbar's account menu (a <details>), where
// the profile, the settings and "Log out" are.
func (tb *tab) openAccountMenu() {
	tb.b.t.Helper()
	var open bool
	tb.eval(`document.querySelector('details.account-menu').open`, &open)
	if !open {
		tb.run(chromedpClick(`details.account-menu > summary`))
	}
	tb.waitVisible(`details.account-menu form[action="/logout"] button`)
}

// post writes a post through the form on the timeline.
func (m *member) post(body string) {
	m.b.t.Helper()
	m.open("/index")
	m.fill("#body", body)
	m.submit(`form[action="/index"] button[type="submit"]`)
	m.wantFlash("Your post is now live!")
}

// sendMessage writes to another member through the send-message form.
// It returns when natter has shown the confirmation, and the moment the
// button was clicked.
func (m *member) sendMessage(to, body string) time.Time {
	m.b.t.Helper()
	m.open("/send-message/" + to)
	m.fill("#message", body)
	clicked := time.Now()
	m.submit(`main form button[type="submit"]`)
	m.wantFlash("Your message has been sent.")
	return clicked
}

func (m *member) editProfile(about string) {
	m.b.t.Helper()
	m.open("/edit-profile")
	m.fill("#about_me", about)
	m.submit(`main form button[type="submit"]`)
	m.wantFlash("Your changes have been saved.")
}

// wantFlash wants the page's flash message to contain text.
func (tb *tab) wantFlash(text string) {
	tb.b.t.Helper()
	if !tb.has("main .alert") {
		tb.b.t.Fatalf("%s: no flash message on the page, want %q", tb.name, text)
	}
	if got := tb.text("main .alert"); !strings.Contains(got, text) {
		tb.b.t.Fatalf("%s: flash says %q, want %q", tb.name, got, text)
	}
}

// chromedpClick clicks the first element matching the CSS selector sel.
func chromedpClick(sel string) chromedp.Action {
	return chromedp.Click(sel, chromedp.ByQuery)
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// logIn gives tb m's session: the browser is then m, logged in, without
// going through the login form.
func (tb *tab) logIn(m *httpMember) {
	tb.b.t.Helper()
	c := m.cookie()
	tb.run(network.SetCookie(c.Name, c.Value).WithURL(m.srv.URL).WithHTTPOnly(true))
}
