package web_test

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"testing"
	"time"

	"natter/internal/app"
)

// Tests of the login limits (docs/operations.md, "Login limits"): each
// shows a limit that slows a guesser and cannot be turned against the
// member whose account is guessed at.

// proxied is a site behind a trusted proxy, so that each browser can come
// from an address of its own.
func proxied(cfg app.Config) siteOptions {
	return siteOptions{App: cfg, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}}
}

func (m *member) tryLogin(t testing.TB, name, password string) *response {
	t.Helper()
	return m.postForm(t, "/login", url.Values{"username": {name}, "password": {password}})
}

// An attacker's failures put alice's account over its limits, from the
// attacker's address and from everywhere new; alice still logs in from the
// browser she has logged in with before (its device cookie), and from her
// own address the per-address limits do not touch her either.
func TestLoginOwnerNotLockedOut(t *testing.T) {
	t.Parallel()
	s := newSite(t, proxied(app.Config{
		LoginPerAccountAddress: app.Limit{Events: 3, Per: time.Hour},
		LoginPerAccount:        app.Limit{Events: 5, Per: time.Hour},
	}))
	alice := s.register(t, "alice")
	home := s.browser()
	home.from = "198.51.100.7"
	home.tryLogin(t, "alice", alice.password).wantRedirect("/")
	home.postForm(t, "/logout", nil).wantRedirect("/login")

	// The attacker, from one address, then from many.
	mallory := s.browser()
	mallory.from = "203.0.113.66"
	for range 3 {
		mallory.tryLogin(t, "alice", "guess").wantStatus(http.StatusUnprocessableEntity)
	}
	mallory.tryLogin(t, "alice", alice.password).wantStatus(http.StatusTooManyRequests)
	for i := range 2 {
		mallory.from = fmt.Sprintf("203.0.113.%d", i+1)
		mallory.tryLogin(t, "alice", "guess").wantStatus(http.StatusUnprocessableEntity)
	}
	mallory.from = "203.0.113.99"
	r := mallory.tryLogin(t, "alice", alice.password)
	r.wantStatus(http.StatusTooManyRequests).wantText("Too many failed logins to this account from new browsers.")
	wantRetryAfter(t, r)

	// Alice, in her own browser, from anywhere but the attacker's
	// address: let in.
	home.from = "192.0.2.50"
	home.tryLogin(t, "alice", alice.password).wantRedirect("/")
	// A browser that has never logged in to alice's account waits.
	s.browser().tryLogin(t, "alice", alice.password).wantStatus(http.StatusTooManyRequests)
	// A device cookie vouches only for its own member, and only if natter
	// signed it.
	bob := s.register(t, "bob")
	bobs := bob.login(t)
	bobs.postForm(t, "/logout", nil)
	bobs.tryLogin(t, "alice", alice.password).wantStatus(http.StatusTooManyRequests)
	forged := s.browser()
	u, _ := url.Parse(s.URL + "/login")
	forged.client.Jar.SetCookies(u, []*http.Cookie{{Name: "natter_device", Value: "AAAAAAAAAAEAAAAAZ2dnZw.AAAA", Path: "/login"}})
	forged.tryLogin(t, "alice", alice.password).wantStatus(http.StatusTooManyRequests)
}

// Fifty failures from one address (an office, a school, an attacker) stop
// that address, not members elsewhere; and IPv6 addresses count per /64,
// so a guesser cannot take a fresh address for each guess.
func TestLoginAddressLimit(t *testing.T) {
	t.Parallel()
	s := newSite(t, proxied(app.Config{LoginPerAddress: app.Limit{Events: 50, Per: 15 * time.Minute}}))
	alice := s.register(t, "alice")
	bad := s.browser()
	for i := range 50 {
		bad.from = "203.0.113.5"
		bad.tryLogin(t, fmt.Sprintf("nobody%d", i), "guess").wantStatus(http.StatusUnprocessableEntity)
	}
	bad.tryLogin(t, "alice", alice.password).wantStatus(http.StatusTooManyRequests).wantText("Too many failed logins from your address.")
	elsewhere := s.browser()
	elsewhere.from = "198.51.100.1"
	elsewhere.tryLogin(t, "alice", alice.password).wantRedirect("/")

	v6 := s.browser()
	for i := range 50 {
		v6.from = fmt.Sprintf("2001:db8:1:2::%x", i+1)
		v6.tryLogin(t, "nobody", "guess").wantStatus(http.StatusUnprocessableEntity)
	}
	v6.from = "2001:db8:1:2:ffff::1"
	v6.tryLogin(t, "alice", alice.password).wantStatus(http.StatusTooManyRequests)
	v6.from = "2001:db8:1:3::1" // another /64
	v6.tryLogin(t, "alice", alice.password).wantRedirect("/")
}

// Successful logins make sessions and cost a hash each: a hundred in a row
// with the right password are cut off with a 429, per account and per
// address.
func TestLoginSuccessLimit(t *testing.T) {
	t.Parallel()
	s := newSite(t, proxied(app.Config{
		LoginSuccessPerAccount: app.Limit{Events: 20, Per: time.Hour},
		LoginSuccessPerAddress: app.Limit{Events: 30, Per: time.Hour},
	}))
	alice := s.register(t, "alice")
	refused := 0
	for i := range 100 {
		b := s.browser()
		b.from = fmt.Sprintf("198.51.100.%d", i+1)
		r := b.tryLogin(t, "alice", alice.password)
		switch r.StatusCode {
		case http.StatusSeeOther:
		case http.StatusTooManyRequests:
			wantRetryAfter(t, r)
			r.wantText("Too many logins to this account.")
			refused++
		default:
			t.Fatalf("login %d: status %d", i+1, r.StatusCode)
		}
	}
	if refused != 80 {
		t.Errorf("%d of 100 logins refused, want 80 (the limit lets 20 an hour through)", refused)
	}

	// Per address: 30 logins to 30 accounts from one address, then a 429.
	from := "192.0.2.200"
	for i := range 31 {
		m := s.register(t, fmt.Sprintf("member%d", i))
		b := s.browser()
		b.from = from
		r := b.tryLogin(t, m.name, m.password)
		if i < 30 {
			r.wantRedirect("/")
		} else {
			r.wantStatus(http.StatusTooManyRequests).wantText("Too many logins from your address.")
		}
	}
}
