package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// BenchmarkPages serves the pages natter-load measures, straight through
// natter's handler (no network), to a member with a session: the server's
// own cost per request, for profiling (go test -bench Pages -cpuprofile).
// docs/benchmarks.md has the figures over real HTTP.
func BenchmarkPages(b *testing.B) {
	s := newSite(b)
	alice, bob := s.register(b, "alice"), s.register(b, "bob")
	for i := range 30 {
		bob.post(b, fmt.Sprintf("Post number %d, with @alice in it.", i))
		bob.send(b, alice, fmt.Sprintf("Message number %d.", i))
	}
	// The inbox as natter-load's members have it: alice writes with 8
	// peers, who write to her in turn; half of them have not answered her
	// last message ("You: ..." rows), two have not answered at all.
	peers := make([]*member, 8)
	for i := range peers {
		peers[i] = s.register(b, fmt.Sprintf("peer%d", i))
	}
	for round := range 3 {
		for i, p := range peers[:6] {
			p.send(b, alice, fmt.Sprintf("Message %d of peer %d, @alice.", round, i))
		}
	}
	for i, p := range peers {
		alice.send(b, p, fmt.Sprintf("Answer to peer %d.", i))
		if i%2 == 0 && i < 6 {
			p.send(b, alice, fmt.Sprintf("Thanks, from peer %d.", i))
		}
	}
	u, _ := url.Parse(s.URL)
	cookies := alice.client.Jar.Cookies(u)

	for _, path := range []string{"/index", "/user/bob", "/user/bob/popup", "/messages", "/notifications?since=0"} {
		// Named without the leading slash, so that -bench 'Pages/messages'
		// selects one page.
		b.Run(strings.TrimPrefix(path, "/"), func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			for _, c := range cookies {
				req.AddCookie(c)
			}
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				s.handler.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("%s: %d", path, w.Code)
				}
			}
		})
	}
}
