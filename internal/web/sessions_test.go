package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"natter/internal/app"
)

// The sessions page lists each of the member's sessions — browser and
// system, address, when it started and was last active — with this one
// marked; "log out" ends one, and the others' pages and open event streams
// end with it at once.
func TestSessionsPage(t *testing.T) {
	t.Parallel()
	s := newSite(t, proxied(app.Config{}))
	alice := s.register(t, "alice")
	alice.from = "198.51.100.1"
	phone := s.browser()
	phone.name, phone.password, phone.from = alice.name, alice.password, "203.0.113.7"
	phoneUA := "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
	req := phone.newRequest(t, http.MethodPost, "/login", strings.NewReader(url.Values{"username": {"alice"}, "password": {alice.password}, "remember_me": {"y"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", phoneUA)
	phone.do(t, req).wantRedirect("/")
	laptop := alice.login(t)
	laptop.from = "192.0.2.9"

	p := alice.page(t, "/settings/sessions")
	rows := findClass(p.Body, "session")
	if len(rows) != 3 {
		t.Fatalf("%d sessions listed, want 3\n%s", len(rows), excerpt(p.Body))
	}
	if !strings.Contains(rows[0].Text(), "this browser") {
		t.Errorf("the first session is not this browser's: %q", rows[0].Text())
	}
	p.wantText("Chrome on Android", "203.0.113.7", "Go program", "remembered", "just now")

	// Log the phone out: its next page is the login page, its stream ends.
	stream := phone.openStream(t, "")
	var phoneRow element
	for _, row := range rows {
		if strings.Contains(row.Text(), "Android") {
			phoneRow = row
		}
	}
	action := findTag(phoneRow.Inner, "form")[0].Attr["action"]
	alice.postForm(t, action, nil).wantRedirect("/settings/sessions")
	stream.wantEnd()
	phone.get(t, "/index").wantRedirect("/login?next=%2Findex")
	phone.get(t, "/events").wantStatus(http.StatusUnauthorized)
	alice.page(t, "/").wantText("That session has been logged out.")
	alice.postForm(t, action, nil).wantStatus(http.StatusNotFound)

	// "Log out everywhere else": the laptop's pages and stream end, this
	// browser carries on, and its own stream may reconnect.
	laptopStream := laptop.openStream(t, "")
	alice.postForm(t, "/settings/sessions/logout-others", nil).wantRedirect("/settings/sessions")
	laptopStream.wantEnd()
	laptop.get(t, "/index").wantRedirect("/login?next=%2Findex")
	laptop.get(t, "/events").wantStatus(http.StatusUnauthorized)
	after := alice.page(t, "/settings/sessions")
	after.wantText("You have been logged out of 1 other session.")
	if n := len(findClass(after.Body, "session")); n != 1 {
		t.Errorf("%d sessions left, want 1", n)
	}
	alice.openStream(t, "")

	// Other members' sessions are not alice's to end.
	bob := s.register(t, "bob")
	bobRow := findClass(bob.page(t, "/settings/sessions").Body, "session")[0]
	bobAction := findTag(bobRow.Inner, "form")[0].Attr["action"]
	alice.postForm(t, bobAction, nil).wantStatus(http.StatusNotFound)
	bob.page(t, "/")
}

// A session without "remember me" ends after a day unused; one with it
// after 30 days unused, and 90 days after login however busy. Use pushes
// the idle limit back.
func TestSessionIdleExpiry(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice := s.register(t, "alice") // registration does not remember
	remembered := s.browser()
	remembered.postForm(t, "/login", url.Values{"username": {"alice"}, "password": {alice.password}, "remember_me": {"y"}}).wantRedirect("/")

	s.clock.Advance(23 * time.Hour)
	alice.page(t, "/") // used: a new day starts
	s.clock.Advance(23 * time.Hour)
	alice.page(t, "/")
	s.clock.Advance(24*time.Hour + time.Minute)
	alice.get(t, "/index").wantRedirect("/login?next=%2Findex")
	remembered.page(t, "/")

	for range 3 {
		s.clock.Advance(29 * 24 * time.Hour)
		remembered.page(t, "/")
	}
	s.clock.Advance(4 * 24 * time.Hour) // 91 days after login
	remembered.get(t, "/index").wantRedirect("/login?next=%2Findex")

	// (A new site: the session store dates a session's 90 days by the
	// real time, which the clock above has left behind.)
	s = newSite(t)
	bob := s.register(t, "bob")
	remembered = s.browser()
	remembered.postForm(t, "/login", url.Values{"username": {"bob"}, "password": {bob.password}, "remember_me": {"y"}}).wantRedirect("/")
	s.clock.Advance(29 * 24 * time.Hour)
	remembered.page(t, "/")
	bob.get(t, "/index").wantRedirect("/login?next=%2Findex")
	s.clock.Advance(30*24*time.Hour + time.Minute)
	remembered.get(t, "/index").wantRedirect("/login?next=%2Findex")
}
