package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"strings"
	"testing"
)

// The service worker is served at the root, where its scope is the whole
// site, at a URL that never changes (a new URL would be a second worker),
// and revalidated on every check so a new version reaches browsers at once.
func TestServiceWorkerScript(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	guest := s.browser()

	sw := guest.page(t, "/sw.js")
	if ct := sw.Header.Get("Content-Type"); ct != "text/javascript; charset=utf-8" {
		t.Errorf("Content-Type %q, want JavaScript", ct)
	}
	if cc := sw.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("Cache-Control %q, want no-cache", cc)
	}
	if sw.Header.Get("Content-Security-Policy") == "" {
		t.Error("no Content-Security-Policy: a worker's policy comes from its own response")
	}
	if c := sw.Header.Values("Set-Cookie"); len(c) > 0 {
		t.Errorf("the worker's script sets cookies %q, want none (no session is needed)", c)
	}
	if plain := guest.page(t, "/static/sw.js"); plain.Body != sw.Body {
		t.Error("/sw.js is not static/sw.js")
	}
	// The worker must not cache pages: it has no fetch handler at all.
	for _, forbidden := range []string{"addEventListener('fetch'", `addEventListener("fetch"`, "caches."} {
		if strings.Contains(sw.Body, forbidden) {
			t.Errorf("sw.js contains %q: it must not intercept or cache pages", forbidden)
		}
	}

	req := guest.newRequest(t, http.MethodGet, "/sw.js", nil)
	req.Header.Set("If-None-Match", sw.Header.Get("ETag"))
	guest.do(t, req).wantStatus(http.StatusNotModified)

	req = guest.newRequest(t, http.MethodGet, "/sw.js", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	if r := guest.do(t, req).wantStatus(http.StatusOK); r.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("with Accept-Encoding: gzip: Content-Encoding %q", r.Header.Get("Content-Encoding"))
	}

	r := guest.do(t, guest.newRequest(t, http.MethodPost, "/sw.js", nil))
	if r.StatusCode != http.StatusMethodNotAllowed || r.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /sw.js: %d, Allow %q; want 405, GET, HEAD", r.StatusCode, r.Header.Get("Allow"))
	}
}

// The web app manifest makes natter installable (iOS offers Web Push only
// to an installed site): a name, a start URL, standalone display, and PNG
// icons of 192 and 512 pixels, one of them maskable. Every page links it.
func TestManifest(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	guest := s.browser()

	r := guest.page(t, "/manifest.webmanifest")
	if ct := r.Header.Get("Content-Type"); ct != "application/manifest+json" {
		t.Errorf("Content-Type %q, want application/manifest+json", ct)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("Cache-Control %q, want no-cache", cc)
	}
	var m struct {
		Name            string `json:"name"`
		ShortName       string `json:"short_name"`
		StartURL        string `json:"start_url"`
		Scope           string `json:"scope"`
		Display         string `json:"display"`
		ThemeColor      string `json:"theme_color"`
		BackgroundColor string `json:"background_color"`
		Icons           []struct{ Src, Sizes, Type, Purpose string }
	}
	if err := json.Unmarshal([]byte(r.Body), &m); err != nil {
		t.Fatalf("the manifest is not JSON: %v\n%s", err, r.Body)
	}
	if m.Name != "natter" || m.ShortName != "natter" || m.StartURL != "/" || m.Scope != "/" || m.Display != "standalone" {
		t.Errorf("manifest %+v: want name and short_name natter, start_url and scope /, display standalone", m)
	}
	if !strings.HasPrefix(m.ThemeColor, "#") || !strings.HasPrefix(m.BackgroundColor, "#") {
		t.Errorf("theme colour %q, background colour %q", m.ThemeColor, m.BackgroundColor)
	}

	have := map[string]bool{} // "512x512 maskable"
	for _, ic := range m.Icons {
		img := guest.page(t, ic.Src)
		if cc := img.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("%s: Cache-Control %q, want a fingerprinted file", ic.Src, cc)
		}
		cfg, err := png.DecodeConfig(bytes.NewReader([]byte(img.Body)))
		if err != nil {
			t.Errorf("%s: not a PNG: %v", ic.Src, err)
			continue
		}
		if got := fmt.Sprintf("%dx%d", cfg.Width, cfg.Height); got != ic.Sizes || ic.Type != "image/png" {
			t.Errorf("%s: a %s %s, the manifest says %s %s", ic.Src, got, img.Header.Get("Content-Type"), ic.Sizes, ic.Type)
		}
		have[ic.Sizes+" "+ic.Purpose] = true
	}
	for _, want := range []string{"192x192 any", "512x512 any", "512x512 maskable"} {
		if !have[want] {
			t.Errorf("no %s icon in %+v", want, m.Icons)
		}
	}

	// Every page, logged in or not, links the manifest and an icon for
	// iOS's home screen (iOS ignores the manifest's icons).
	alice := s.register(t, "alice")
	for _, page := range []*response{guest.page(t, "/login"), alice.page(t, "/index")} {
		links := elements(page.Body, func(tag string, a map[string]string) bool { return tag == "link" })
		var manifest, touch string
		for _, l := range links {
			switch l.Attr["rel"] {
			case "manifest":
				manifest = l.Attr["href"]
			case "apple-touch-icon":
				touch = l.Attr["href"]
			}
		}
		if manifest != "/manifest.webmanifest" {
			t.Errorf("%s: manifest link %q", page.Request.URL.Path, manifest)
		}
		if touch == "" {
			t.Errorf("%s: no apple-touch-icon", page.Request.URL.Path)
			continue
		}
		cfg, err := png.DecodeConfig(bytes.NewReader([]byte(guest.page(t, touch).Body)))
		if err != nil || cfg.Width != 180 || cfg.Height != 180 {
			t.Errorf("%s: apple-touch-icon %s: %dx%d, %v; want a 180x180 PNG", page.Request.URL.Path, touch, cfg.Width, cfg.Height, err)
		}
	}
}

// Members' pages load push.js and carry the suggestion to turn push on,
// hidden until the script finds the browser able and not yet asked;
// logged-out pages have neither.
func TestPushScriptAndSuggestion(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice := s.register(t, "alice")
	loadsPush := func(r *response) bool {
		for _, src := range findTag(r.Body, "script") {
			if strings.HasPrefix(src.Attr["src"], "/static/push.") && src.Has("defer") {
				return true
			}
		}
		return false
	}

	in := alice.page(t, "/index")
	if !loadsPush(in) {
		t.Error("a member's page does not load push.js (deferred)")
	}
	box := in.byID("push-suggestion")
	if !box.Has("hidden") {
		t.Error("the push suggestion is not hidden in the HTML: only push.js knows whether the browser can take push")
	}
	if !strings.Contains(box.Inner, `href="/settings/notifications"`) || !strings.Contains(box.Inner, "data-push-dismiss") {
		t.Errorf("the suggestion has no link to the settings or no dismiss button:\n%s", box.Inner)
	}

	out := s.browser().page(t, "/login")
	if loadsPush(out) {
		t.Error("the login page loads push.js")
	}
	if _, ok := findID(out.Body, "push-suggestion"); ok {
		t.Error("the login page suggests turning notifications on")
	}
}
