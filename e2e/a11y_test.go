package e2e

import (
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// axeFile is axe-core 4.14.1 (axe.min.js from `npm pack axe-core@4`;
// MPL-2.0, see testdata/axe.LICENSE). The tests inject it through the
// DevTools protocol, which natter's Content-Security-Policy does not govern.
const axeFile = "testdata/axe.min.js"

// axeRunJS runs every axe rule that is not experimental on the page and
// returns the violations in a shape Go can read.
const axeRunJS = `axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map(v => ({
	id: v.id, impact: v.impact || '', help: v.help,
	nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html.slice(0, 160), summary: n.failureSummary || ''})),
})))`

type axeViolation struct {
	ID, Impact, Help string
	Nodes            []struct{ Target, HTML, Summary string }
}

// Every page type, logged out and in, desktop and phone width, light and
// dark: axe-core finds nothing moderate, serious or critical. The pages are
// visited with unread counts and unread markers showing, and the timeline
// also with a member's hover card open and with the account menu open, so
// their colours and their place among the page's landmarks are checked too.
func TestAccessibility(t *testing.T) {
	needChromium(t)
	src, err := os.ReadFile(axeFile)
	if err != nil {
		t.Fatalf("axe-core: %v", err)
	}
	srv := startServer(t)
	seedTimeline(t, srv)
	alice := newMember(t, srv, "alice")
	alice.b.expect("/no-such-page", 404)
	alice.b.expect("/new-message", 404) // ?to=nobody

	type pageCase struct {
		name, path string
		status     int64
		prepare    func(tb *tab) // after loading, before the audit
	}
	audit := func(pages []pageCase, state string) {
		for _, p := range pages {
			for _, v := range []viewport{desktop, phone} {
				for _, scheme := range []string{"light", "dark"} {
					alice.run(v.emulate(), colourScheme(scheme))
					alice.openStatus(p.path, p.status)
					alice.waitFor(`document.documentElement.dataset.bsTheme === '` + scheme + `'`)
					if p.prepare != nil {
						p.prepare(alice.tab)
					}
					where := state + " " + p.name + " (" + p.path + ") at " + v.name + " width, " + scheme
					auditPage(t, alice.tab, string(src), where)
				}
			}
		}
	}

	audit([]pageCase{
		{"front page", "/", 200, nil},
		{"login", "/login", 200, nil},
		{"register", "/register", 200, nil},
		{"reset password", "/reset-password", 200, nil},
		{"not found", "/no-such-page", 404, nil},
	}, "logged out:")

	alice.run(desktop.emulate())
	alice.register()
	srv.seedMember(t, "erin", "").send("alice", "Lunch on Friday?")
	srv.seedMember(t, "frank", "").post("@alice the chess club needs a fourth player.")

	audit([]pageCase{
		// Unread first: the badges and unread markers are lit here.
		{"timeline", "/index", 200, nil},
		{"timeline with a popover", "/index", 200, func(tb *tab) {
			// Focus opens it at any width (phones have no hover).
			var ok bool
			tb.eval(`(document.querySelector('article.post a.user-popup[href="/user/bob"]').focus(), true)`, &ok)
			tb.waitVisible(`.popover.user-popover`)
		}},
		{"timeline with the account menu open", "/index", 200, func(tb *tab) { tb.openAccountMenu() }},
		{"new message", "/new-message", 200, nil},
		{"new message with suggestions", "/new-message", 200, func(tb *tab) {
			tb.run(chromedp.SendKeys("#to", "e", chromedp.ByQuery))
			tb.waitFor(`document.querySelectorAll('#to-suggestions [role="option"]').length > 0`)
		}},
		{"new message, unknown name", "/new-message?to=nobody", 404, nil},
		{"notifications", "/activity", 200, nil},
		{"profile", "/user/bob", 200, nil},
		{"own profile", "/user/alice", 200, nil},
		{"edit profile", "/edit-profile", 200, nil},
		{"notification settings", "/settings/notifications", 200, nil},
		{"account settings", "/settings/account", 200, nil},
		{"sessions", "/settings/sessions", 200, nil},
		{"notifications past the end", "/activity?before=1", 200, nil},
		{"send message", "/send-message/bob", 200, nil},
		{"messages", "/messages", 200, nil},
		{"conversation", "/messages/erin", 200, nil},
		{"log out", "/logout", 200, nil},
		{"not found", "/no-such-page", 404, nil},
	}, "logged in:")
}

// auditPage runs axe-core on tb's page and fails t for each moderate,
// serious or critical violation, logging the minor ones.
func auditPage(t *testing.T, tb *tab, src, where string) {
	t.Helper()
	for _, vi := range tb.axe(src) {
		var nodes []string
		for _, n := range vi.Nodes {
			nodes = append(nodes, "\n\t\t"+n.Target+": "+n.HTML+"\n\t\t\t"+strings.ReplaceAll(n.Summary, "\n", " "))
		}
		msg := where + ": " + vi.Impact + " " + vi.ID + ": " + vi.Help + strings.Join(nodes, "")
		switch vi.Impact {
		case "moderate", "serious", "critical":
			t.Error(msg)
		default: // minor
			t.Log(msg)
		}
	}
}

// axe runs axe-core on the page and returns its violations.
func (tb *tab) axe(src string) []axeViolation {
	tb.b.t.Helper()
	var loaded bool
	tb.eval(`typeof window.axe === 'object'`, &loaded)
	if !loaded {
		tb.eval(src+"\n;true", &loaded)
	}
	var vs []axeViolation
	tb.evalAsync(axeRunJS, &vs)
	return vs
}
