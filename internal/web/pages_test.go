package web_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// Every page natter has, rendered with real content: a template error fails
// here, not on a member's screen. Each page is a whole, self-contained
// document: the layout, the security headers, and nothing from another site.
func TestEveryPageRenders(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice, bob := s.register(t, "alice"), s.register(t, "bob")
	alice.postForm(t, "/edit-profile", url.Values{"username": {"alice"}, "about_me": {"Hi, I'm Alice."}}).wantRedirect("/user/alice")
	alice.post(t, "Hello @bob")
	bob.post(t, "Hello @alice")
	alice.send(t, bob, "How are you?")
	bob.send(t, alice, "Fine!")
	alice.send(t, bob, "Great.")

	guest := s.browser()
	for _, tt := range []struct {
		who    *member
		path   string
		status int
		shows  string // a class or id only that page's content has
	}{
		{guest, "/login", 200, "remember_me"},
		{guest, "/register", 200, "confirm_password"},
		{guest, "/", 200, "front"},
		{guest, "/nowhere", 404, ""},
		{bob, "/", 200, "post"},
		{bob, "/index", 200, "post"},
		{bob, "/user/alice", 200, "about-me"},
		{bob, "/user/alice/popup", 200, "user-popover"},
		{bob, "/edit-profile", 200, "about_me"},
		{bob, "/send-message/alice", 200, "message"},
		{bob, "/new-message", 200, "to"},
		{bob, "/activity", 200, "activity"},
		{bob, "/post/1", 200, "permalink"},
		{bob, "/messages/alice", 200, "conversation-thread"},
		{bob, "/messages", 200, "conversation"},
		{bob, "/logout", 200, ""},
		{bob, "/nowhere", 404, ""},
	} {
		t.Run(strings.TrimPrefix(tt.path, "/"), func(t *testing.T) {
			r := tt.who.get(t, tt.path).wantStatus(tt.status)
			if ct := r.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if tt.shows != "" {
				if _, ok := findID(r.Body, tt.shows); !ok && len(findClass(r.Body, tt.shows)) == 0 {
					t.Errorf("no #%s or .%s: the page is missing its content", tt.shows, tt.shows)
				}
			}
			if !strings.HasSuffix(tt.path, "/popup") {
				if !strings.HasPrefix(r.Body, "<!doctype html>") || !strings.Contains(r.Body, "</html>") {
					t.Error("not a whole HTML document")
				}
				if title := findTag(r.Body, "title"); len(title) != 1 || !strings.HasSuffix(title[0].Text(), "· natter") {
					t.Errorf("title %v", title)
				}
			}
			for h, want := range map[string]string{
				"Content-Security-Policy": "default-src 'self'",
				"X-Frame-Options":         "DENY",
				"X-Content-Type-Options":  "nosniff",
				"Cache-Control":           "no-store",
			} {
				if got := r.Header.Get(h); !strings.Contains(got, want) {
					t.Errorf("%s: %q, want %q", h, got, want)
				}
			}
			for _, ref := range references(r.Body) {
				if u, err := url.Parse(ref); err != nil || u.Scheme != "" || u.Host != "" || strings.HasPrefix(ref, "//") {
					t.Errorf("the page refers to %q: natter makes no request to another site", ref)
				}
			}
		})
	}
}

// references returns every URL a page makes the browser load or go to.
func references(doc string) []string {
	var refs []string
	for _, e := range elements(doc, func(string, map[string]string) bool { return true }) {
		for _, a := range []string{"href", "src", "action", "data-popup", "data-live-url", "data-poll-url", "data-worker-url", "srcset", "poster"} {
			if v, ok := e.Attr[a]; ok {
				refs = append(refs, v)
			}
		}
	}
	return refs
}

// Static files have content-hashed URLs, so browsers keep them for a year;
// text is compressed for clients that accept gzip.
func TestStatic(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	guest := s.browser()
	var assets []string
	for _, ref := range references(guest.page(t, "/login").Body) {
		if strings.HasPrefix(ref, "/static/") {
			assets = append(assets, ref)
		}
	}
	if len(assets) < 4 {
		t.Fatalf("the login page loads %q, want the stylesheets and scripts", assets)
	}
	fingerprinted := regexp.MustCompile(`\.[0-9a-f]{10}\.(css|js|svg|png)$`)
	types := map[string]string{"css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8", "svg": "image/svg+xml", "png": "image/png"}
	for _, path := range assets {
		t.Run(path, func(t *testing.T) {
			m := fingerprinted.FindStringSubmatch(path)
			if m == nil {
				t.Fatalf("%s has no content hash in its name", path)
			}
			plain := guest.page(t, path)
			if cc := plain.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") || !strings.Contains(cc, "immutable") {
				t.Errorf("Cache-Control %q, want a year, immutable", cc)
			}
			if ct := plain.Header.Get("Content-Type"); ct != types[m[1]] {
				t.Errorf("Content-Type %q, want %q", ct, types[m[1]])
			}
			if plain.Header.Get("Content-Encoding") != "" || len(plain.Body) == 0 {
				t.Errorf("without Accept-Encoding: Content-Encoding %q, %d bytes", plain.Header.Get("Content-Encoding"), len(plain.Body))
			}

			// Asking again with the ETag costs nothing.
			req := guest.newRequest(t, http.MethodGet, path, nil)
			req.Header.Set("If-None-Match", plain.Header.Get("ETag"))
			guest.do(t, req).wantStatus(http.StatusNotModified)

			if m[1] == "png" {
				return // compressed already: served as it is
			}
			req = guest.newRequest(t, http.MethodGet, path, nil)
			req.Header.Set("Accept-Encoding", "gzip")
			zipped := guest.do(t, req).wantStatus(http.StatusOK)
			if zipped.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(zipped.Header.Get("Vary"), "Accept-Encoding") {
				t.Fatalf("with Accept-Encoding: gzip: Content-Encoding %q, Vary %q", zipped.Header.Get("Content-Encoding"), zipped.Header.Get("Vary"))
			}
			zr, err := gzip.NewReader(strings.NewReader(zipped.Body))
			if err != nil {
				t.Fatal(err)
			}
			unzipped, err := io.ReadAll(zr)
			if err != nil || !bytes.Equal(unzipped, []byte(plain.Body)) {
				t.Errorf("the gzipped file is not the file (%v)", err)
			}
			if len(zipped.Body) >= len(plain.Body) {
				t.Errorf("gzip %d bytes, plain %d", len(zipped.Body), len(plain.Body))
			}
		})
	}

	// Under its plain name a file is still served, but must be revalidated.
	r := guest.page(t, "/static/natter.js")
	if cc := r.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("/static/natter.js: Cache-Control %q, want no-cache", cc)
	}
	for _, path := range []string{"/static/nope.js", "/static/natter.0000000000.js", "/static/vendor"} {
		if r := guest.get(t, path); r.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", path, r.StatusCode)
		}
	}
	// The stylesheet and the scripts load nothing from elsewhere either.
	for _, path := range assets {
		if body := guest.page(t, path).Body; regexp.MustCompile(`(?i)(url\(\s*["']?(https?:)?//|import\s+["'](https?:)?//|fetch\(\s*["'](https?:)?//)`).MatchString(body) {
			t.Errorf("%s loads something from another site", path)
		}
	}
}

// Avatars are drawn by natter: an SVG identicon per member, the same every
// time, cached for a year.
func TestAvatar(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	guest := s.browser()

	one := guest.page(t, "/avatar/1")
	if ct := one.Header.Get("Content-Type"); ct != "image/svg+xml" {
		t.Errorf("Content-Type %q", ct)
	}
	if cc := one.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") || !strings.Contains(cc, "immutable") {
		t.Errorf("Cache-Control %q, want a year, immutable", cc)
	}
	if !strings.HasPrefix(one.Body, "<svg ") || !strings.HasSuffix(one.Body, "</svg>") {
		t.Errorf("not an SVG image: %s", one.Body)
	}
	if again := guest.page(t, "/avatar/1"); again.Body != one.Body {
		t.Error("the same member's avatar changed")
	}
	if other := guest.page(t, "/avatar/2"); other.Body == one.Body {
		t.Error("two members have the same avatar")
	}
	for _, id := range []string{"abc", "-1", "1.5"} {
		guest.get(t, "/avatar/"+id).wantStatus(http.StatusNotFound)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice := s.register(t, "alice")

	t.Run("NotFound", func(t *testing.T) {
		for _, who := range []*member{alice, s.browser()} {
			r := who.get(t, "/no/such/page").wantStatus(http.StatusNotFound)
			r.wantText("Page not found", "Error 404")
			if who == alice {
				r.wantText("Back to the timeline")
			} else {
				r.wantText("Back to the front page")
			}
			if findTag(r.Body, "nav") == nil {
				t.Error("the 404 page has no layout")
			}
		}
	})

	t.Run("MethodNotAllowed", func(t *testing.T) {
		for _, tt := range []struct{ method, path, allow string }{
			{"PUT", "/login", "GET, HEAD, POST"},
			{"DELETE", "/index", "GET, HEAD, POST"},
			{"POST", "/messages", "GET, HEAD"},
			{"POST", "/notifications", "GET, HEAD"},
			{"POST", "/events", "GET"},
			{"HEAD", "/events", "GET"},
			{"GET", "/activity/read", "POST"},
			{"GET", "/user/alice/block", "POST"},
			{"POST", "/user/alice/popup", "GET, HEAD"},
			{"POST", "/healthz", "GET, HEAD"},
			{"POST", "/static/natter.js", "GET, HEAD"},
			{"PATCH", "/", "GET, HEAD, POST"},
		} {
			r := alice.do(t, alice.newRequest(t, tt.method, tt.path, nil))
			if r.StatusCode != http.StatusMethodNotAllowed || r.Header.Get("Allow") != tt.allow {
				t.Errorf("%s %s: %d, Allow %q; want 405, Allow %q", tt.method, tt.path, r.StatusCode, r.Header.Get("Allow"), tt.allow)
			}
		}
	})

	// Request bodies are bounded: natter's forms hold a few hundred
	// characters, and a client may not make it read more than 64 KiB.
	t.Run("BodyTooLarge", func(t *testing.T) {
		post := func(padding int) *response {
			body := "body=kept+short&padding=" + strings.Repeat("a", padding)
			req := alice.newRequest(t, http.MethodPost, "/index", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return alice.do(t, req)
		}
		post(60 << 10).wantRedirect("/") // under the bound: an ordinary post
		r := post(70 << 10)
		r.wantStatus(http.StatusRequestEntityTooLarge)
		if got := alice.page(t, "/").texts("post-body"); len(got) != 1 {
			t.Errorf("posts %q: the oversized post was written", got)
		}
		// Sent without a length, it is cut off all the same.
		req := alice.newRequest(t, http.MethodPost, "/index", io.MultiReader(strings.NewReader("body=chunked&padding="), strings.NewReader(strings.Repeat("a", 70<<10))))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.ContentLength = -1
		alice.do(t, req).wantStatus(http.StatusRequestEntityTooLarge)
		alice.page(t, "/").wantNoText("chunked")
	})

	t.Run("BadForm", func(t *testing.T) {
		req := alice.newRequest(t, http.MethodPost, "/index", strings.NewReader("body=%zz"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		alice.do(t, req).wantStatus(http.StatusBadRequest)
	})

	t.Run("Probes", func(t *testing.T) {
		guest := s.browser()
		for path, want := range map[string]string{"/healthz": "ok\n", "/readyz": `{"ready":true}` + "\n"} {
			if r := guest.page(t, path); r.Body != want {
				t.Errorf("%s: %q, want %q", path, r.Body, want)
			}
		}
	})
}

// pkgsite's HTML-injection test: whatever a member types is shown as text on
// every page that shows it, never as markup.
func TestHTMLInjection(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	mallory, bob := s.register(t, "mallory"), s.register(t, "bob")
	payloads := []string{
		`<script>alert(1)</script>`,
		`"><img src=x onerror=alert(1)>`,
		`'><svg onload=alert(1)>`,
		`javascript:alert(1)`,
	}
	text := strings.Join(payloads, " ")
	mallory.postForm(t, "/edit-profile", url.Values{"username": {"mallory"}, "about_me": {text}}).wantRedirect("/user/mallory")
	mallory.post(t, text+" @bob")
	mallory.send(t, bob, text)
	bob.send(t, mallory, text)

	check := func(t *testing.T, r *response) {
		t.Helper()
		for _, p := range payloads[:3] {
			if strings.Contains(r.Body, p) {
				t.Errorf("%s: the raw payload %s is in the page", r.Request.URL.Path, p)
			}
		}
		if regexp.MustCompile(`(?i)(href|src|action)\s*=\s*["']?\s*javascript:`).MatchString(r.Body) {
			t.Errorf("%s: a javascript: URL is in the page", r.Request.URL.Path)
		}
		// It is there, as text the member can read.
		r.wantText(text)
	}
	for _, tt := range []struct {
		who  *member
		path string
	}{
		{bob, "/"},
		{bob, "/index"},
		{bob, "/user/mallory"},
		{bob, "/user/mallory/popup"},
		{bob, "/activity"},
		{bob, "/post/1"},
		{bob, "/messages/mallory"},
		{bob, "/messages"},
		{mallory, "/edit-profile"},
		{mallory, "/messages/bob"},
	} {
		t.Run(tt.path, func(t *testing.T) { check(t, tt.who.page(t, tt.path)) })
	}

	// A name in the URL that is nobody's comes back in the 404 message.
	t.Run("URLs", func(t *testing.T) {
		for _, path := range []string{"/user/", "/user/%s/popup", "/send-message/", "/messages/"} {
			if !strings.Contains(path, "%s") {
				path += "%s"
			}
			r := bob.get(t, fmt.Sprintf(path, url.PathEscape(text))).wantStatus(http.StatusNotFound)
			for _, p := range payloads[:3] {
				if strings.Contains(r.Body, p) {
					t.Errorf("%s: the raw payload %s is in the page", r.Request.URL.Path, p)
				}
			}
		}
	})

	// Forms sent back with an error carry the text in their fields.
	t.Run("RefusedForms", func(t *testing.T) {
		long := text + strings.Repeat("!", 141)
		for _, r := range []*response{
			mallory.postForm(t, "/index", url.Values{"body": {long}}),
			mallory.postForm(t, "/send-message/bob", url.Values{"message": {long}}),
			mallory.postForm(t, "/messages/bob", url.Values{"message": {long}}),
			mallory.postForm(t, "/edit-profile", url.Values{"username": {text}, "about_me": {long}}),
			s.browser().postForm(t, "/register", url.Values{"username": {text}, "email": {text}}),
			s.browser().postForm(t, "/login", url.Values{"username": {text}}),
		} {
			r.wantStatus(http.StatusUnprocessableEntity)
			for _, p := range payloads[:3] {
				if strings.Contains(r.Body, p) {
					t.Errorf("%s: the raw payload %s is in the page", r.Request.URL.Path, p)
				}
			}
		}
		// The "New message" field, refused, holds the name as typed.
		r := mallory.get(t, "/new-message?to="+url.QueryEscape(text)).wantStatus(http.StatusNotFound)
		for _, p := range payloads[:3] {
			if strings.Contains(r.Body, p) {
				t.Errorf("/new-message: the raw payload %s is in the page", p)
			}
		}
		if got := r.fieldValue("to"); got != text {
			t.Errorf("the refused name reads %q", got)
		}
		if got := mallory.postForm(t, "/index", url.Values{"body": {long}}).fieldValue("body"); got != long {
			t.Errorf("the refused post reads %q", got)
		}
	})

	// Names can hold no markup at all: they are letters, digits and _.
	t.Run("Usernames", func(t *testing.T) {
		r := s.browser().postForm(t, "/register", url.Values{"username": {`<b>x</b>`}, "email": {"x@example.com"}, "password": {"long enough"}, "confirm_password": {"long enough"}})
		r.wantStatus(http.StatusUnprocessableEntity)
		if r.fieldError("username") == "" {
			t.Error("a username with markup was accepted")
		}
	})
}
