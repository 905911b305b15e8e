package web_test

import (
	"bytes"
	"context"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"

	"natter/internal/app"
	"natter/internal/live"
	"natter/internal/store"
	"natter/internal/store/storetest"
	"natter/internal/web"
)

// Registering: username, email, password and confirm_password, each with its
// rule; a refused form comes back with the field's error and the rest of
// what was typed.
func TestRegister(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	s.register(t, "alice")

	t.Run("OK", func(t *testing.T) {
		b := s.browser()
		r := b.postForm(t, "/register", url.Values{
			"username": {"Bob_01"}, "email": {"bob@example.com"},
			"password": {"hunter2hunter2"}, "confirm_password": {"hunter2hunter2"},
		})
		r.wantRedirect("/")
		// Registering logs the new member in and welcomes them, once.
		home := b.follow(t, r).wantStatus(http.StatusOK)
		home.wantText("Congratulations, you are now a registered user!", "Hi, Bob_01!")
		b.page(t, "/").wantNoText("Congratulations")
		// The username is shown as typed, wherever it is looked up from.
		b.page(t, "/user/bob_01").wantText("Bob_01")
	})

	// Passwords: at least 8 characters, and long passphrases are welcome.
	for name, pass := range map[string]string{
		"OKShortestPassword": "k8#vQ2xz",
		"OKLongPassphrase":   strings.Repeat("correct horse battery staple ", 4)[:100],
	} {
		t.Run(name, func(t *testing.T) {
			b := s.browser()
			b.name, b.email, b.password = strings.ToLower(name), strings.ToLower(name)+"@example.com", pass
			b.postForm(t, "/register", url.Values{
				"username": {b.name}, "email": {b.email},
				"password": {pass}, "confirm_password": {pass},
			}).wantRedirect("/")
			b.login(t)
		})
	}

	valid := url.Values{
		"username": {"newbie"}, "email": {"newbie@example.com"},
		"password": {"long enough k9"}, "confirm_password": {"long enough k9"},
	}
	for _, tt := range []struct {
		name   string
		change url.Values
		field  string // the field whose error is shown
		want   string
	}{
		{"ErrBlankUsername", url.Values{"username": {""}}, "username", "Choose a username."},
		{"ErrShortUsername", url.Values{"username": {"ab"}}, "username", "Usernames are 3 to 32 letters, digits or underscores."},
		{"ErrLongUsername", url.Values{"username": {strings.Repeat("a", 33)}}, "username", "Usernames are 3 to 32"},
		{"ErrUsernameSpace", url.Values{"username": {"new bie"}}, "username", "Usernames are 3 to 32"},
		{"ErrUsernamePunctuation", url.Values{"username": {"new-bie"}}, "username", "Usernames are 3 to 32"},
		{"ErrUsernameNonASCII", url.Values{"username": {"nöbie"}}, "username", "Usernames are 3 to 32"},
		{"ErrTakenUsername", url.Values{"username": {"alice"}}, "username", "That username is taken."},
		{"ErrTakenUsernameOtherCase", url.Values{"username": {"ALICE"}}, "username", "That username is taken."},
		{"ErrBlankEmail", url.Values{"email": {""}}, "email", "Enter your email address."},
		{"ErrInvalidEmail", url.Values{"email": {"not-an-email"}}, "email", "Enter a valid email address"},
		{"ErrEmailWithoutDomain", url.Values{"email": {"newbie@localhost"}}, "email", "Enter a valid email address"},
		{"ErrEmailWithName", url.Values{"email": {"Newbie <newbie@example.com>"}}, "email", "Enter a valid email address"},
		{"ErrTakenEmail", url.Values{"email": {"alice@example.com"}}, "email", "That email address is already registered."},
		{"ErrTakenEmailOtherCase", url.Values{"email": {"Alice@Example.COM"}}, "email", "That email address is already registered."},
		{"ErrShortPassword", url.Values{"password": {"1234567"}, "confirm_password": {"1234567"}}, "password", "Use at least 8 characters."},
		{"ErrPasswordsDiffer", url.Values{"confirm_password": {"long enougH"}}, "confirm_password", "The passwords do not match."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{}
			for k, v := range valid {
				form[k] = v
			}
			for k, v := range tt.change {
				form[k] = v
			}
			r := s.browser().postForm(t, "/register", form)
			r.wantStatus(http.StatusUnprocessableEntity)
			if got := r.fieldError(tt.field); !strings.Contains(got, tt.want) {
				t.Errorf("error under %s = %q, want %q", tt.field, got, tt.want)
			}
			// What was typed is still there, except the passwords.
			for _, f := range []string{"username", "email"} {
				if got := r.fieldValue(f); got != form.Get(f) {
					t.Errorf("%s field holds %q, want %q as typed", f, got, form.Get(f))
				}
			}
			for _, f := range []string{"password", "confirm_password"} {
				if got := r.fieldValue(f); got != "" {
					t.Errorf("%s field is sent back filled in (%q)", f, got)
				}
			}
			// And nobody was registered: the refused account does not log in.
			if form.Get("username") != "alice" && form.Get("username") != "ALICE" {
				b := s.browser()
				b.postForm(t, "/login", url.Values{"username": {form.Get("username")}, "password": {form.Get("password")}}).
					wantStatus(http.StatusUnprocessableEntity)
			}
		})
	}

	// A duplicate is a field error, never a 500, and writes nothing: the
	// other half of the refused form (the new email, the new name) is still
	// free afterwards.
	t.Run("DuplicateWritesNothing", func(t *testing.T) {
		b := s.browser()
		b.postForm(t, "/register", url.Values{
			"username": {"ALICE"}, "email": {"carol@example.com"},
			"password": {"long enough k9"}, "confirm_password": {"long enough k9"},
		}).wantStatus(http.StatusUnprocessableEntity)
		b.postForm(t, "/register", url.Values{
			"username": {"carol"}, "email": {"ALICE@example.com"},
			"password": {"long enough k9"}, "confirm_password": {"long enough k9"},
		}).wantStatus(http.StatusUnprocessableEntity)
		b.postForm(t, "/register", url.Values{
			"username": {"carol"}, "email": {"carol@example.com"},
			"password": {"long enough k9"}, "confirm_password": {"long enough k9"},
		}).wantRedirect("/")
	})

	t.Run("ShowsForm", func(t *testing.T) {
		r := s.browser().page(t, "/register")
		for _, f := range []string{"username", "email", "password", "confirm_password"} {
			if e := r.byID(f); e.Attr["name"] != f {
				t.Errorf("#%s has name %q", f, e.Attr["name"])
			}
		}
	})

	t.Run("LoggedInGoesHome", func(t *testing.T) {
		m := s.register(t, "dave")
		m.get(t, "/register").wantRedirect("/")
		m.get(t, "/login").wantRedirect("/")
	})
}

func TestLogin(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice := s.register(t, "alice")

	t.Run("OK", func(t *testing.T) {
		b := alice.login(t)
		b.page(t, "/").wantText("Hi, alice!")
	})

	t.Run("OKUsernameAnyCase", func(t *testing.T) {
		b := s.browser()
		b.postForm(t, "/login", url.Values{"username": {"ALICE"}, "password": {alice.password}}).wantRedirect("/")
		b.page(t, "/").wantText("Hi, alice!")
	})

	// One message for both mistakes, so that the form does not tell who
	// has an account.
	for _, tt := range []struct{ name, username, password string }{
		{"ErrWrongPassword", "alice", "wrong password"},
		{"ErrUnknownUser", "nobody", alice.password},
		{"ErrBlank", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b := s.browser()
			r := b.postForm(t, "/login", url.Values{"username": {tt.username}, "password": {tt.password}})
			r.wantStatus(http.StatusUnprocessableEntity).wantText("Invalid username or password.")
			if got := r.fieldValue("username"); got != tt.username {
				t.Errorf("username field holds %q, want %q", got, tt.username)
			}
			if got := r.fieldValue("password"); got != "" {
				t.Errorf("password sent back: %q", got)
			}
			b.get(t, "/index").wantRedirect("/login?next=%2Findex")
		})
	}

	// The session cookie is out of reach of scripts and of other sites'
	// requests; it outlives the browser only when asked to.
	t.Run("SessionCookie", func(t *testing.T) {
		r := s.browser().postForm(t, "/login", url.Values{"username": {"alice"}, "password": {alice.password}})
		c := sessionCookie(t, r)
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
			t.Errorf("cookie HttpOnly=%v SameSite=%v Path=%q, want HttpOnly, SameSite=Lax, Path=/", c.HttpOnly, c.SameSite, c.Path)
		}
		if !c.Expires.IsZero() || c.MaxAge != 0 {
			t.Errorf("without remember_me the cookie has Expires=%v Max-Age=%d, want a session cookie", c.Expires, c.MaxAge)
		}
	})
	t.Run("RememberMe", func(t *testing.T) {
		r := s.browser().postForm(t, "/login", url.Values{"username": {"alice"}, "password": {alice.password}, "remember_me": {"y"}})
		c := sessionCookie(t, r)
		if c.MaxAge < int((7*24*time.Hour).Seconds()) || time.Until(c.Expires) < 7*24*time.Hour {
			t.Errorf("with remember_me the cookie has Expires=%v Max-Age=%d, want it to last weeks", c.Expires, c.MaxAge)
		}
	})

	t.Run("Next", func(t *testing.T) {
		for _, tt := range []struct{ next, want string }{
			{"/messages?page=2", "/messages?page=2"},
			{"/user/alice", "/user/alice"},
			{"//evil.com", "/"},
			{"//evil.com/user/alice", "/"},
			{"http://evil.com", "/"},
			{"https://evil.com/", "/"},
			{`/\evil.com`, "/"},
			{"javascript:alert(1)", "/"},
			{"evil.com", "/"},
		} {
			b := s.browser()
			r := b.postForm(t, "/login?next="+url.QueryEscape(tt.next), url.Values{"username": {"alice"}, "password": {alice.password}})
			if got := r.Header.Get("Location"); r.StatusCode != http.StatusSeeOther || got != tt.want {
				t.Errorf("login with next=%q: %d to %q, want 303 to %q", tt.next, r.StatusCode, got, tt.want)
			}
		}
	})

	// A guest sent to the login page is brought back where they were
	// going: the form carries next along.
	t.Run("NextThroughTheForm", func(t *testing.T) {
		b := s.browser()
		r := b.get(t, "/messages?page=1")
		r.wantRedirect("/login?next=%2Fmessages%3Fpage%3D1")
		form := b.follow(t, r).wantStatus(http.StatusOK)
		action := findTag(form.Body, "form")[0].Attr["action"]
		b.postForm(t, action, url.Values{"username": {"alice"}, "password": {alice.password}}).wantRedirect("/messages?page=1")

		form = s.browser().page(t, "/login?next="+url.QueryEscape("//evil.com"))
		if strings.Contains(form.Body, "evil.com") {
			t.Errorf("the login form carries a foreign next along:\n%s", excerpt(form.Body))
		}
	})

	// A new session token at login: a session planted in the browser
	// before login (session fixation) is worth nothing afterwards. natter
	// never gives a guest a session, so the test writes one to the store,
	// as an attacker who could would.
	t.Run("RenewsSessionToken", func(t *testing.T) {
		const planted = "planted-by-an-attacker"
		data, err := scs.GobCodec{}.Encode(time.Now().Add(time.Hour), map[string]any{})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.store.Sessions().CommitCtx(context.Background(), planted, data, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		b := s.browser()
		u, _ := url.Parse(s.URL)
		b.client.Jar.SetCookies(u, []*http.Cookie{{Name: "natter_session", Value: planted}})
		r := b.postForm(t, "/login", url.Values{"username": {"alice"}, "password": {alice.password}})
		r.wantRedirect("/")
		if c := sessionCookie(t, r); c.Value == planted {
			t.Fatal("login kept the session token the browser came with")
		}
		b.page(t, "/")
		withCookie(s, planted).get(t, "/index").wantRedirect("/login?next=%2Findex")

		// Logging out and in again gives another token too.
		old := b.cookie(t)
		b.postForm(t, "/logout", nil).wantRedirect("/login")
		r = b.postForm(t, "/login", url.Values{"username": {"alice"}, "password": {alice.password}})
		if c := sessionCookie(t, r); c.Value == old {
			t.Error("logging in again reused the old session token")
		}
	})
}

// Behind HTTPS the operator says so, and the cookie is sent over HTTPS only.
func TestSecureCookies(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{SecureCookies: true})
	r := s.browser().postForm(t, "/register", url.Values{
		"username": {"alice"}, "email": {"alice@example.com"},
		"password": {"long enough k9"}, "confirm_password": {"long enough k9"},
	})
	r.wantRedirect("/")
	if c := sessionCookie(t, r); !c.Secure || !c.HttpOnly {
		t.Errorf("cookie Secure=%v HttpOnly=%v, want both", c.Secure, c.HttpOnly)
	}
	// Under TLS, browsers are told to use nothing else for a year.
	if got := r.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
		t.Errorf("Strict-Transport-Security = %q, want max-age=31536000", got)
	}
	login := s.browser().postForm(t, "/login", url.Values{"username": {"alice"}, "password": {"long enough k9"}})
	for _, c := range login.Cookies() {
		if c.Name == "natter_device" && (!c.Secure || !c.HttpOnly) {
			t.Errorf("device cookie Secure=%v HttpOnly=%v, want both", c.Secure, c.HttpOnly)
		}
	}
	// Without -secure-cookies natter may be on plain HTTP: no HSTS, which
	// would lock browsers out of it.
	plain := newSite(t)
	if got := plain.browser().get(t, "/login").Header.Get("Strict-Transport-Security"); got != "" {
		t.Errorf("Strict-Transport-Security = %q without -secure-cookies", got)
	}
}

// sessionCookie returns the session cookie a response sets.
func sessionCookie(t *testing.T, r *response) *http.Cookie {
	t.Helper()
	for _, c := range r.Cookies() {
		if c.Name == "natter_session" {
			return c
		}
	}
	t.Fatalf("%s %s sets no session cookie", r.Request.Method, r.Request.URL.Path)
	return nil
}

// withCookie is a browser that sends the given session token and keeps no
// cookies: a token replayed by hand.
func withCookie(s *site, token string) *member {
	m := s.browser()
	m.client.Jar = nil
	m.client.Transport = roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		req = req.Clone(req.Context())
		req.Header.Set("Cookie", "natter_session="+token)
		return http.DefaultTransport.RoundTrip(req)
	})
	return m
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Failed logins are limited per account, whatever the case of the name, so
// that nobody can guess a member's password; others are unaffected.
func TestLoginRateLimit(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{App: app.Config{LoginPerAccount: app.Limit{Events: 3, Per: time.Hour}}})
	alice, bob := s.register(t, "alice"), s.register(t, "bob")

	for _, name := range []string{"alice", "ALICE", "Alice"} {
		s.browser().postForm(t, "/login", url.Values{"username": {name}, "password": {"guess"}}).
			wantStatus(http.StatusUnprocessableEntity)
	}
	r := s.browser().postForm(t, "/login", url.Values{"username": {"alice"}, "password": {alice.password}})
	r.wantStatus(http.StatusTooManyRequests).wantText("Too many failed logins to this account from new browsers. Please try again in")
	wantRetryAfter(t, r)
	if r.fieldValue("username") != "alice" {
		t.Errorf("the refused form lost the username")
	}
	bob.login(t)
}

// Failed logins are limited per client address too, across accounts, so
// that nobody can try one password on every member. X-Forwarded-For is
// believed only from a configured proxy, so it cannot dodge the limit.
func TestLoginRateLimitPerAddress(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{App: app.Config{LoginPerAddress: app.Limit{Events: 3, Per: time.Hour}}})
	alice := s.register(t, "alice")
	for i, name := range []string{"alice", "bob", "carol"} {
		req := alice.newRequest(t, http.MethodPost, "/login", strings.NewReader(url.Values{"username": {name}, "password": {"guess"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i))
		s.browser().do(t, req).wantStatus(http.StatusUnprocessableEntity)
	}
	s.browser().postForm(t, "/login", url.Values{"username": {"alice"}, "password": {alice.password}}).
		wantStatus(http.StatusTooManyRequests).wantText("Too many failed logins from your address.")
}

// Registrations are limited per client address.
func TestRegisterRateLimit(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{App: app.Config{RegisterPerAddr: app.Limit{Events: 2, Per: time.Hour}}})
	s.register(t, "alice")
	s.register(t, "bob")
	r := s.browser().postForm(t, "/register", url.Values{
		"username": {"carol"}, "email": {"carol@example.com"},
		"password": {"long enough k9"}, "confirm_password": {"long enough k9"},
	})
	r.wantStatus(http.StatusTooManyRequests).wantText("Too many registrations from your address. Please try again in")
	if r.fieldValue("username") != "carol" {
		t.Error("the refused form lost the username")
	}
	s.browser().postForm(t, "/login", url.Values{"username": {"carol"}, "password": {"long enough k9"}}).
		wantStatus(http.StatusUnprocessableEntity)
}

func TestLogout(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice := s.register(t, "alice")

	// Every page offers the way out, as a form: a GET changes nothing.
	home := alice.page(t, "/")
	if f := findTag(home.Body, "form"); len(f) == 0 || f[0].Attr["action"] != "/logout" || f[0].Attr["method"] != "post" {
		t.Errorf("the navbar has no POST /logout form")
	}
	confirm := alice.page(t, "/logout")
	forms := findTag(confirm.Body, "form")
	if len(forms) < 2 || forms[1].Attr["action"] != "/logout" || forms[1].Attr["method"] != "post" {
		t.Errorf("GET /logout does not offer a POST /logout form")
	}
	alice.page(t, "/")

	other := alice.login(t) // another browser
	token := alice.cookie(t)
	alice.postForm(t, "/logout", nil).wantRedirect("/login")
	alice.get(t, "/index").wantRedirect("/login?next=%2Findex")
	s.browser().get(t, "/logout").wantRedirect("/login")

	// The old cookie is dead on the server: replayed by hand it is nobody.
	withCookie(s, token).get(t, "/index").wantRedirect("/login?next=%2Findex")
	withCookie(s, token).get(t, "/notifications").wantStatus(http.StatusUnauthorized)
	// The other browser's session is its own.
	other.page(t, "/")
}

// cookie is the session token in the member's browser.
func (m *member) cookie(t testing.TB) string {
	t.Helper()
	u, _ := url.Parse(m.site.URL)
	for _, c := range m.client.Jar.Cookies(u) {
		if c.Name == "natter_session" {
			return c.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}

// A form on another site cannot make a member's browser post to natter.
func TestCrossOriginRefused(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice, bob := s.register(t, "alice"), s.register(t, "bob")

	for _, tt := range []struct{ path, field, value string }{
		{"/index", "body", "posted from evil.example"},
		{"/send-message/bob", "message", "sent from evil.example"},
		{"/edit-profile", "username", "evil"},
		{"/logout", "", ""},
	} {
		req := alice.newRequest(t, http.MethodPost, tt.path, strings.NewReader(url.Values{tt.field: {tt.value}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "http://evil.example")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		alice.do(t, req).wantStatus(http.StatusForbidden)
	}
	alice.page(t, "/").wantText("Hi, alice!").wantNoText("posted from evil.example")
	if m, _ := bob.badges(t); m != 0 {
		t.Errorf("bob has %d unread messages after a cross-site send", m)
	}

	// The same request from natter's own page goes through.
	req := alice.newRequest(t, http.MethodPost, "/index", strings.NewReader("body=from+natter"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", s.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	alice.do(t, req).wantRedirect("/")
}

// Every member page sends a guest to log in, and back afterwards; the
// JSON endpoints answer 401 with a JSON error instead.
func TestLoginRequired(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	s.register(t, "alice")
	guest := s.browser()

	// "/" is the front page for visitors (TestFrontPage); "/index" is the
	// seed's timeline, members only.
	for _, path := range []string{
		"/index", "/index?page=2", "/user/alice", "/user/alice/popup", "/edit-profile",
		"/send-message/alice", "/messages", "/new-message", "/messages/alice", "/activity",
	} {
		guest.get(t, path).wantRedirect("/login?next=" + url.QueryEscape(path))
	}
	for _, path := range []string{
		"/", "/index", "/user/alice/block", "/user/alice/unblock", "/edit-profile",
		"/send-message/alice", "/messages/alice", "/activity/read",
	} {
		guest.postForm(t, path, url.Values{"body": {"x"}, "message": {"x"}}).wantRedirect("/login")
	}
	for _, path := range []string{"/notifications", "/notifications?since=0", "/events"} {
		r := guest.get(t, path).wantStatus(http.StatusUnauthorized)
		var body map[string]string
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: Content-Type %q", path, ct)
		}
		if err := json.Unmarshal([]byte(r.Body), &body); err != nil || body["error"] == "" {
			t.Errorf("%s: body %q, want a JSON error", path, r.Body)
		}
	}
	// The login and registration pages are for guests.
	guest.page(t, "/login")
	guest.page(t, "/register")
}

// A session row that cannot be read — damaged, or written in scs's default
// gob before natter had its own codec — is no session: its member is asked
// to log in, not shown an error on every page.
func TestUnreadableSession(t *testing.T) {
	t.Parallel()
	var gobbed bytes.Buffer
	if err := gob.NewEncoder(&gobbed).Encode(struct {
		Deadline time.Time
		Values   map[string]any
	}{time.Now().Add(time.Hour), map[string]any{"user_id": int64(1)}}); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"Damaged": []byte("\x00\x09not a session"), "Gob": gobbed.Bytes()} {
		t.Run(name, func(t *testing.T) {
			s := newSite(t)
			alice := s.register(t, "alice")
			token := alice.cookie(t)
			if err := s.store.Sessions().CommitCtx(t.Context(), token, data, time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			alice.get(t, "/index").wantRedirect("/login?next=%2Findex")
			alice.get(t, "/events").wantStatus(http.StatusUnauthorized)
			alice.login(t).page(t, "/")
		})
	}
}

// When the session store fails, the member gets the error page (a 500),
// and natter logs the error; it does not panic on the way.
func TestSessionStoreDown(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t, store.SQLite, store.Options{})
	hub := live.NewHub(8)
	a, err := app.New(st, hub, app.Config{Password: app.FastPasswordParams})
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	srv, err := web.New(web.Config{App: a, Hub: hub, Sessions: failingSessions{}, SessionCodec: store.SessionCodec{}, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/login", nil)
	req.AddCookie(&http.Cookie{Name: "natter_session", Value: "some-token"})
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, req)
	if w.Code != http.StatusInternalServerError || !strings.Contains(w.Body.String(), "Internal error") {
		t.Errorf("got %d %q, want the 500 error page", w.Code, excerpt(w.Body.String()))
	}
	if l := logs.String(); strings.Contains(l, "panic") || !strings.Contains(l, "session store down") {
		t.Errorf("natter logged:\n%s\nwant the session error and no panic", l)
	}
}

// failingSessions is a session store whose database is gone.
type failingSessions struct{}

func (failingSessions) Find(string) ([]byte, bool, error) {
	return nil, false, errors.New("session store down")
}
func (failingSessions) Commit(string, []byte, time.Time) error {
	return errors.New("session store down")
}
func (failingSessions) Delete(string) error { return errors.New("session store down") }
