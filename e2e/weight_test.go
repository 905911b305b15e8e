package e2e

import (
	"testing"

	"github.com/chromedp/cdproto/network"
)

// Page-weight budgets for the timeline, in bytes transferred.
const (
	indexFirstBudget  = 150 << 10 // empty cache
	indexRepeatBudget = 20 << 10  // static files cached
)

// measureJS sums the Performance API's transfer sizes for the page: the
// document and every resource it loaded.
const measureJS = `(() => {
	const nav = performance.getEntriesByType('navigation')[0];
	const res = performance.getEntriesByType('resource');
	return {
		Bytes: nav.transferSize + res.reduce((sum, r) => sum + r.transferSize, 0),
		Requests: 1 + res.length,
		LoadMS: nav.loadEventEnd - nav.startTime,
		// Fingerprinted static files and avatars: cached for a year.
		StaticBytes: res.filter(r => /^\/(static|avatar)\//.test(new URL(r.name).pathname))
			.reduce((sum, r) => sum + r.transferSize, 0),
	};
})()`

// Each page type's transferred bytes and load time, on a first visit
// (empty cache) and a repeat visit; /index stays within its budgets.
func TestPageWeight(t *testing.T) {
	needChromium(t)
	srv := startServer(t)
	others := seedTimeline(t, srv)
	alice := srv.seedMember(t, "alice", "Alice keeps bees and writes about them.")
	alice.post("The bees are back in the lavender. @bob come and see.")
	erin := srv.seedMember(t, "erin", "")
	erin.send("alice", "Lunch on Friday?")
	others["bob"].send("alice", "Coming to see the bees tomorrow.")
	cookie := alice.cookie()

	b := newBrowser(t, srv, "alice")
	b.expect("/no-such-page", 404)
	recordBrowserVersion(b.version())

	pages := []struct {
		name, path string
		status     int64
		member     bool
	}{
		{"login", "/login", 200, false},
		{"register", "/register", 200, false},
		{"timeline", "/index", 200, true},
		{"profile", "/user/bob", 200, true},
		{"edit profile", "/edit-profile", 200, true},
		{"send message", "/send-message/bob", 200, true},
		{"messages", "/messages", 200, true},
		{"new message", "/new-message", 200, true},
		{"conversation", "/messages/erin", 200, true},
		{"notifications", "/activity", 200, true},
		{"not found", "/no-such-page", 404, true},
	}
	for _, p := range pages {
		tb, closeTab := b.newProfileTab(desktop)
		if p.member {
			tb.run(network.SetCookie(cookie.Name, cookie.Value).WithURL(srv.URL).WithHTTPOnly(true))
		}
		first := tb.measure(p.path, p.status)
		repeat := tb.measure(p.path, p.status)
		closeTab()
		name := "`" + p.path + "` (" + p.name + ")"
		recordWeight(pageWeight{page: name, first: first, repeat: repeat})
		t.Logf("%-16s first visit %6d bytes in %2d requests, %4.0f ms; repeat %6d bytes in %2d requests, %4.0f ms",
			p.path, first.bytes, first.requests, first.loadMS, repeat.bytes, repeat.requests, repeat.loadMS)

		if p.path == "/index" {
			if first.bytes >= indexFirstBudget {
				t.Errorf("/index transferred %d bytes on a first visit, budget %d", first.bytes, indexFirstBudget)
			}
			if repeat.bytes >= indexRepeatBudget {
				t.Errorf("/index transferred %d bytes on a repeat visit, budget %d", repeat.bytes, indexRepeatBudget)
			}
		}
		// A repeat visit fetches the page itself and nothing that is cached.
		if repeat.staticBytes != 0 {
			t.Errorf("%s: a repeat visit transferred %d bytes of static files and avatars, want all from the cache", p.path, repeat.staticBytes)
		}
		if first.staticBytes == 0 {
			t.Errorf("%s: a first visit transferred no static files: was the cache not empty?", p.path)
		}
	}
}

// measure loads path and reads what it cost from the Performance API.
func (tb *tab) measure(path string, status int64) visit {
	tb.b.t.Helper()
	tb.openStatus(path, status)
	tb.waitFor(`performance.getEntriesByType('navigation')[0].loadEventEnd > 0`)
	var m struct {
		Bytes, StaticBytes int64
		Requests           int
		LoadMS             float64
	}
	tb.eval(measureJS, &m)
	return visit{bytes: m.Bytes, staticBytes: m.StaticBytes, requests: m.Requests, loadMS: m.LoadMS}
}
