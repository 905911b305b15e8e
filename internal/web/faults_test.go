package web_test

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"

	"natter/internal/store"
)

// unwritableSessions is a session store whose writes fail while fail is set,
// as they do on a full disk, a lost lock or a dropped connection to the
// database.
type unwritableSessions struct {
	scs.CtxStore
	fail atomic.Bool
}

var errSessionWrite = errors.New("disk I/O error (simulated)")

func (f *unwritableSessions) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	if f.fail.Load() {
		return errSessionWrite
	}
	return f.CtxStore.CommitCtx(ctx, token, b, expiry)
}

func (f *unwritableSessions) DeleteCtx(ctx context.Context, token string) error {
	if f.fail.Load() {
		return errSessionWrite
	}
	return f.CtxStore.DeleteCtx(ctx, token)
}

func (f *unwritableSessions) Find(token string) ([]byte, bool, error) {
	return f.FindCtx(context.Background(), token)
}

func (f *unwritableSessions) Commit(token string, b []byte, expiry time.Time) error {
	return f.CommitCtx(context.Background(), token, b, expiry)
}

func (f *unwritableSessions) Delete(token string) error {
	return f.DeleteCtx(context.Background(), token)
}

// Once an action has committed, nothing after it may turn its answer into
// an error: with every session write failing, a sent message is reported
// as sent (and so is not sent again), and so are posts, profile edits and
// blocks; pages still show; a new account is acknowledged and its member
// asked to log in.
func TestActionsAcknowledgedWhileSessionWritesFail(t *testing.T) {
	t.Parallel()
	sessions := &unwritableSessions{}
	logs := &lockedBuffer{}
	s := newSite(t, siteOptions{Logs: logs, Sessions: func(st scs.Store) scs.Store {
		sessions.CtxStore = st.(scs.CtxStore)
		return sessions
	}})
	alice, bob := s.register(t, "alice"), s.register(t, "bob")
	sessions.fail.Store(true)

	t.Run("MessageSentOnce", func(t *testing.T) {
		r := alice.postForm(t, "/send-message/bob", url.Values{"message": {"Hi Bob!"}})
		r.wantRedirect("/messages/bob")
		alice.follow(t, r).wantStatus(http.StatusOK).wantText("Your message has been sent.")
		if n := bob.user(t).UnreadMessages; n != 1 {
			t.Errorf("bob has %d unread messages, want exactly the one sent", n)
		}
	})

	t.Run("PagesShow", func(t *testing.T) {
		for _, path := range []string{"/", "/user/bob", "/messages", "/new-message", "/edit-profile", "/activity"} {
			bob.page(t, path)
		}
	})

	t.Run("OtherActions", func(t *testing.T) {
		for _, tt := range []struct {
			path   string
			form   url.Values
			target string
			notice string
		}{
			{"/index", url.Values{"body": {"Still here"}}, "/", "Your post is now live!"},
			{"/edit-profile", url.Values{"username": {"alice"}, "about_me": {"Writing on a full disk"}}, "/user/alice", "Your changes have been saved."},
			{"/user/bob/block", nil, "/user/bob", "You have blocked bob."},
			{"/user/bob/unblock", nil, "/user/bob", "You have unblocked bob."},
		} {
			r := alice.postForm(t, tt.path, tt.form).wantRedirect(tt.target)
			alice.follow(t, r).wantStatus(http.StatusOK).wantText(tt.notice)
		}
	})

	t.Run("Register", func(t *testing.T) {
		carol := s.browser()
		r := carol.postForm(t, "/register", url.Values{
			"username": {"carol"}, "email": {"carol@example.com"},
			"password": {"quiet-harbour-lights"}, "confirm_password": {"quiet-harbour-lights"},
		})
		r.wantRedirect("/login")
		carol.follow(t, r).wantStatus(http.StatusOK).wantText("you are now a registered user", "Please log in, carol.")
		if !strings.Contains(logs.String(), "log in after registering") {
			t.Errorf("the failed session write was not logged:\n%s", logs)
		}

		// Logging in is a session write: while it fails the member is
		// told, and once it works again they are in.
		form := url.Values{"username": {"carol"}, "password": {"quiet-harbour-lights"}}
		carol.postForm(t, "/login", form).wantStatus(http.StatusInternalServerError)
		sessions.fail.Store(false)
		carol.postForm(t, "/login", form).wantRedirect("/")
		carol.page(t, "/").wantText("carol")
	})
}

// A notice is natter's only if natter signed it: a cookie planted with
// some other text shows nothing.
func TestNoticeForged(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice := s.register(t, "alice")
	u, _ := url.Parse(s.URL)
	alice.client.Jar.SetCookies(u, []*http.Cookie{{Name: "natter_notice", Value: "9999999999.WW91ciBhY2NvdW50IGlzIGxvY2tlZA.AAAA", Path: "/"}})
	alice.page(t, "/").wantNoText("Your account is locked")
}

// While another process holds SQLite's write lock (so that no write can
// happen), pages still show, /readyz says the database cannot write, a
// message is refused at its deadline with a clear "nothing was changed",
// and once the lock is gone natter is ready again by itself.
func TestDatabaseThatCannotWrite(t *testing.T) {
	t.Parallel()
	var st *store.Store
	s := newSite(t, siteOptions{
		RequestTimeout: 2 * time.Second,
		Ready:          func(ctx context.Context) error { return st.Ready(ctx) },
	})
	st = s.store
	alice, bob := s.register(t, "alice"), s.register(t, "bob")
	guest := s.browser()
	guest.get(t, "/readyz").wantStatus(http.StatusOK)

	other, err := sql.Open("sqlite", "file:"+s.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	holder, err := other.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := holder.ExecContext(t.Context(), `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}

	for _, path := range []string{"/", "/user/bob", "/send-message/bob", "/edit-profile"} {
		alice.page(t, path)
	}
	r := alice.postForm(t, "/send-message/bob", url.Values{"message": {"Hi Bob!"}})
	r.wantStatus(http.StatusServiceUnavailable).wantText("nothing was changed")
	if r.Header.Get("Retry-After") == "" {
		t.Errorf("a 503 without Retry-After")
	}
	waitReady(t, guest, http.StatusServiceUnavailable, "cannot write")

	if _, err := holder.ExecContext(t.Context(), `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	holder.Close()
	waitReady(t, guest, http.StatusOK, `"ready":true`)
	alice.send(t, bob, "Hi Bob!")
	if n := bob.user(t).UnreadMessages; n != 1 {
		t.Errorf("bob has %d unread messages, want 1", n)
	}
}

// waitReady polls /readyz until it answers status with want in its JSON.
// The probe's answer is kept a couple of seconds, so the change shows on a
// later poll; the bound guards against hanging.
func waitReady(t *testing.T, m *member, status int, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := m.get(t, "/readyz")
		if r.StatusCode == status && strings.Contains(r.Body, want) {
			if ct := r.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("/readyz Content-Type %q", ct)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz: %d %s, want %d with %q", r.StatusCode, r.Body, status, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// brokenPipe is a connection that fails every write of a body, as one
// whose client went away does.
type brokenPipe struct {
	http.ResponseWriter
	headers, writes int
}

func (b *brokenPipe) WriteHeader(code int) {
	b.headers++
	b.ResponseWriter.WriteHeader(code)
}

func (b *brokenPipe) Write([]byte) (int, error) {
	b.writes++
	return 0, errors.New("broken pipe (simulated)")
}

// A response that fails once it has begun is left alone: no error page is
// written over a page whose length was already declared (which made the
// connection's next request fail), and natter logs no internal error.
func TestNoErrorPageOverAStartedResponse(t *testing.T) {
	t.Parallel()
	seen := make(chan *brokenPipe, 1)
	s := newSite(t, siteOptions{Wrap: func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/user/bob" {
				h.ServeHTTP(w, r)
				return
			}
			bp := &brokenPipe{ResponseWriter: w}
			h.ServeHTTP(bp, r)
			seen <- bp
		})
	}})
	alice := s.register(t, "alice")
	s.register(t, "bob")
	resp, err := alice.client.Do(alice.newRequest(t, http.MethodGet, "/user/bob", nil))
	if err == nil {
		resp.Body.Close()
	}
	bp := <-seen
	if bp.headers != 1 || bp.writes != 1 {
		t.Errorf("%d status lines and %d body writes, want the page's one of each", bp.headers, bp.writes)
	}
}
