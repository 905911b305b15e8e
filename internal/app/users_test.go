package app_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"natter/internal/app"
	"natter/internal/natter"
	"natter/internal/store"
)

func TestRegister_Validation(t *testing.T) {
	valid := app.RegisterInput{Username: "alice", Email: "alice@example.com", Password: password, ConfirmPassword: password}
	pw := func(p string) func(*app.RegisterInput) {
		return func(in *app.RegisterInput) { in.Password, in.ConfirmPassword = p, p }
	}
	username := func(n string) func(*app.RegisterInput) { return func(in *app.RegisterInput) { in.Username = n } }
	email := func(m string) func(*app.RegisterInput) { return func(in *app.RegisterInput) { in.Email = m } }

	for _, tt := range []struct {
		name   string
		change func(*app.RegisterInput)
		fields []string // nil: registration succeeds
	}{
		{"OK", func(*app.RegisterInput) {}, nil},
		{"OKUsername3", username("abc"), nil},
		{"OKUsername32", username(strings.Repeat("a", 32)), nil},
		{"OKUsernameDigitsUnderscore", username("Al_1ce_2"), nil},
		{"OKUsernameTrimmed", username("  alice \t"), nil},
		{"ErrUsernameBlank", username(""), []string{"username"}},
		{"ErrUsernameSpaces", username("   "), []string{"username"}},
		{"ErrUsernameTooShort", username("ab"), []string{"username"}},
		{"ErrUsernameTooLong", username(strings.Repeat("a", 33)), []string{"username"}},
		{"ErrUsernameInnerSpace", username("al ice"), []string{"username"}},
		{"ErrUsernameHyphen", username("al-ice"), []string{"username"}},
		{"ErrUsernameAt", username("@alice"), []string{"username"}},
		{"ErrUsernameNonASCII", username("alicé"), []string{"username"}},
		{"ErrUsernameHTML", username("<b>al</b>"), []string{"username"}},
		{"OKEmailTrimmed", email(" alice@example.com "), nil},
		{"OKEmailSubdomainPlus", email("alice+natter@mail.example.co.uk"), nil},
		{"ErrEmailBlank", email(""), []string{"email"}},
		{"ErrEmailNoAt", email("alice.example.com"), []string{"email"}},
		{"ErrEmailNoDomainDot", email("alice@localhost"), []string{"email"}},
		{"ErrEmailTwoAts", email("alice@bob@example.com"), []string{"email"}},
		{"ErrEmailDisplayName", email("Alice <alice@example.com>"), []string{"email"}},
		{"ErrEmailInnerSpace", email("ali ce@example.com"), []string{"email"}},
		{"ErrEmailTooLong", email(strings.Repeat("a", 64) + "@" + strings.Repeat("b", 190) + ".com"), []string{"email"}},
		{"ErrPasswordTooShort", pw("1234567"), []string{"password"}},
		{"OKPassword8", pw("k8#vQ2xz"), nil},
		{"ErrPasswordCommon", pw("12345678"), []string{"password"}},
		{"ErrPasswordCommonAnyCase", pw("PassWord1"), []string{"password"}},
		{"ErrPasswordIsUsername", pw("alice_in_chains"), []string{"password"}},
		{"ErrPasswordContainsUsername", pw("my-ALICE-secret"), []string{"password"}},
		{"ErrPasswordContainsEmail", func(in *app.RegisterInput) {
			in.Email, in.Password, in.ConfirmPassword = "wonderland@example.com", "down the wonderland hole", "down the wonderland hole"
		}, []string{"password"}},
		{"OKPassword64", pw(strings.Repeat("x", 63) + "y"), nil},
		{"ErrPassword7Characters14Bytes", pw("ééééééé"), []string{"password"}},
		{"OKPassword8Characters", pw("éééééééé"), nil},
		{"OKLongPassphrase", pw(strings.Repeat("correct horse battery staple ", 8)), nil},
		{"ErrPasswordTooLong", pw(strings.Repeat("x", app.MaxPasswordLen+1)), []string{"password"}},
		{"ErrConfirmMismatch", func(in *app.RegisterInput) { in.ConfirmPassword = password + "!" }, []string{"confirm_password"}},
		{"ErrConfirmBlank", func(in *app.RegisterInput) { in.ConfirmPassword = "" }, []string{"confirm_password"}},
		{"ErrEverything", func(in *app.RegisterInput) { *in = app.RegisterInput{Username: "x", Email: "y", Password: "z"} },
			[]string{"username", "email", "password", "confirm_password"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, store.SQLite, app.Config{})
			in := valid
			tt.change(&in)
			u, err := e.Register(t.Context(), in, "192.0.2.1")
			if tt.fields != nil {
				wantFields(t, err, tt.fields...)
				if _, err := e.Member(t.Context(), strings.TrimSpace(in.Username)); err == nil {
					t.Error("a refused registration created the member")
				}
				return
			}
			if err != nil {
				t.Fatalf("Register: %v", err)
			}
			if u.ID == 0 || u.Username != strings.TrimSpace(in.Username) || u.Email != strings.TrimSpace(in.Email) {
				t.Errorf("registered %+v from %+v", u, in)
			}
			if c, err := e.store.Credentials(t.Context(), u.Username); err != nil || c.PasswordHash == in.Password || !strings.HasPrefix(c.PasswordHash, "$argon2id$") {
				t.Errorf("password stored as %q (%v)", c.PasswordHash, err)
			}
			if _, err := e.Authenticate(t.Context(), app.LoginInput{Username: in.Username, Password: in.Password, Addr: "192.0.2.1"}); err != nil {
				t.Errorf("cannot log in after registering: %v", err)
			}
		})
	}
}

func TestRegister_Taken(t *testing.T) {
	forEachDialect(t, app.Config{}, func(t *testing.T, e *env) {
		ctx := t.Context()
		e.register(t, "Alice")
		in := func(name, email string) app.RegisterInput {
			return app.RegisterInput{Username: name, Email: email, Password: password, ConfirmPassword: password}
		}

		t.Run("ErrUsernameTakenAnyCase", func(t *testing.T) {
			for _, name := range []string{"Alice", "alice", "ALICE"} {
				_, err := e.Register(ctx, in(name, "other@example.com"), "192.0.2.1")
				wantFields(t, err, "username")
			}
		})
		t.Run("ErrEmailTakenAnyCase", func(t *testing.T) {
			for _, email := range []string{"Alice@example.com", "ALICE@EXAMPLE.COM"} {
				_, err := e.Register(ctx, in("bob", email), "192.0.2.1")
				wantFields(t, err, "email")
			}
			if _, err := e.Member(ctx, "bob"); err == nil {
				t.Error("bob was created with a taken email")
			}
		})
	})
}

func TestRegister_RateLimited(t *testing.T) {
	e := newEnv(t, store.SQLite, app.Config{RegisterPerAddr: app.Limit{Events: 2, Per: time.Hour}})
	ctx := t.Context()
	reg := func(name, addr string) error {
		_, err := e.Register(ctx, app.RegisterInput{Username: name, Email: name + "@example.com",
			Password: password, ConfirmPassword: password}, addr)
		return err
	}
	// Refused forms cost nothing.
	for range 5 {
		if _, err := e.Register(ctx, app.RegisterInput{Username: "x"}, "192.0.2.1"); natter.ErrorKind(err) != natter.Invalid {
			t.Fatalf("invalid form: %v", err)
		}
	}
	if err := reg("alice", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if err := reg("bob", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	err := reg("carol", "192.0.2.1")
	if le := wantKind(t, err, natter.RateLimited); le.RetryAfter <= 0 {
		t.Errorf("RetryAfter = %v, want > 0", le.RetryAfter)
	}
	if _, err := e.Member(ctx, "carol"); err == nil {
		t.Error("a rate-limited registration created the member")
	}
	if err := reg("dave", "198.51.100.7"); err != nil {
		t.Errorf("another address was limited too: %v", err)
	}
	e.clock.Advance(30 * time.Minute) // two an hour: one more after half an hour
	if err := reg("carol", "192.0.2.1"); err != nil {
		t.Errorf("still limited after the wait: %v", err)
	}
}

func TestAuthenticate(t *testing.T) {
	e := newEnv(t, store.SQLite, app.Config{})
	ctx := t.Context()
	alice := e.register(t, "Alice")

	t.Run("OK", func(t *testing.T) {
		for _, name := range []string{"Alice", "alice", " ALICE "} {
			u, err := e.Authenticate(ctx, app.LoginInput{Username: name, Password: password, Addr: "192.0.2.1"})
			if err != nil || u.ID != alice.ID {
				t.Errorf("Authenticate(%q) = %+v, %v", name, u, err)
			}
		}
	})

	t.Run("ErrBadCredentialsAlike", func(t *testing.T) {
		for _, tt := range []struct{ name, user, pass string }{
			{"WrongPassword", "alice", password + "x"},
			{"PasswordCase", "alice", strings.ToUpper(password)},
			{"EmptyPassword", "alice", ""},
			{"UnknownUser", "mallory", password},
			{"EmptyUser", "", password},
			{"HugePassword", "alice", strings.Repeat("p", 10*app.MaxPasswordLen)},
		} {
			u, err := e.Authenticate(ctx, app.LoginInput{Username: tt.user, Password: tt.pass, Addr: "192.0.2.1"})
			if err != app.ErrBadCredentials || u.ID != 0 {
				t.Errorf("%s: Authenticate = %+v, %v; want exactly ErrBadCredentials", tt.name, u, err)
			}
		}
		if natter.ErrorKind(app.ErrBadCredentials) != natter.Invalid {
			t.Error("ErrBadCredentials is not Invalid")
		}
	})

	t.Run("ErrMalformedHashIsNoLogin", func(t *testing.T) {
		_, err := e.store.Update(ctx, func(tx natter.Tx) error {
			_, err := tx.CreateUser(ctx, "broken", "broken@example.com", "not-a-hash")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if u, err := e.Authenticate(ctx, app.LoginInput{Username: "broken", Password: "not-a-hash", Addr: "192.0.2.1"}); err == nil || u.ID != 0 {
			t.Errorf("Authenticate with a malformed stored hash = %+v, %v; want an error", u, err)
		}
	})
}

func TestAuthenticate_RateLimited(t *testing.T) {
	ctx := t.Context()
	limit := app.Limit{Events: 3, Per: 15 * time.Minute}

	t.Run("PerAccount", func(t *testing.T) {
		e := newEnv(t, store.SQLite, app.Config{LoginPerAccount: limit})
		e.register(t, "alice")
		e.register(t, "bob")
		// Three failures from three addresses use up alice's allowance.
		for i := range 3 {
			if _, err := e.Authenticate(ctx, app.LoginInput{Username: "alice", Password: "wrong", Addr: fmt.Sprintf("192.0.2.%d", i+1)}); err != app.ErrBadCredentials {
				t.Fatalf("failure %d: %v", i+1, err)
			}
		}
		// Now even the right password waits, from any address.
		_, err := e.Authenticate(ctx, app.LoginInput{Username: "ALICE", Password: password, Addr: "203.0.113.9"})
		le := wantKind(t, err, natter.RateLimited)
		if le.RetryAfter <= 0 || le.RetryAfter > limit.Per {
			t.Errorf("RetryAfter = %v", le.RetryAfter)
		}
		if _, err := e.Authenticate(ctx, app.LoginInput{Username: "bob", Password: password, Addr: "192.0.2.1"}); err != nil {
			t.Errorf("bob limited by alice's failures: %v", err)
		}
		e.clock.Advance(le.RetryAfter)
		if _, err := e.Authenticate(ctx, app.LoginInput{Username: "alice", Password: password, Addr: "203.0.113.9"}); err != nil {
			t.Errorf("after RetryAfter: %v", err)
		}
	})

	t.Run("PerAddress", func(t *testing.T) {
		e := newEnv(t, store.SQLite, app.Config{LoginPerAddress: limit})
		e.register(t, "alice")
		for _, name := range []string{"mallory", "trent", "alice"} {
			if _, err := e.Authenticate(ctx, app.LoginInput{Username: name, Password: "guess", Addr: "192.0.2.66"}); err != app.ErrBadCredentials {
				t.Fatalf("%s: %v", name, err)
			}
		}
		_, err := e.Authenticate(ctx, app.LoginInput{Username: "alice", Password: password, Addr: "192.0.2.66"})
		if le := wantKind(t, err, natter.RateLimited); le.RetryAfter <= 0 {
			t.Errorf("RetryAfter = %v", le.RetryAfter)
		}
		if _, err := e.Authenticate(ctx, app.LoginInput{Username: "alice", Password: password, Addr: "192.0.2.1"}); err != nil {
			t.Errorf("another address limited: %v", err)
		}
	})

	t.Run("SuccessDoesNotSpendBudget", func(t *testing.T) {
		e := newEnv(t, store.SQLite, app.Config{LoginPerAccount: app.Limit{Events: 2, Per: time.Hour}, LoginPerAddress: app.Limit{Events: 2, Per: time.Hour}})
		e.register(t, "alice")
		login := func(pass string) error {
			_, err := e.Authenticate(ctx, app.LoginInput{Username: "alice", Password: pass, Addr: "192.0.2.1"})
			return err
		}
		if err := login("wrong"); err != app.ErrBadCredentials {
			t.Fatal(err)
		}
		for i := range 10 {
			if err := login(password); err != nil {
				t.Fatalf("login %d: %v", i+1, err)
			}
		}
		if err := login("wrong"); err != app.ErrBadCredentials {
			t.Fatalf("second failure: %v, want ErrBadCredentials (successes spent the budget)", err)
		}
		wantKind(t, login(password), natter.RateLimited)
	})
}

// Guesses sent all at once are counted as they arrive: no more of them
// get a password checked than the limit allows, however many run in
// parallel.
func TestAuthenticate_ParallelGuesses(t *testing.T) {
	ctx := t.Context()
	// A hash slow enough (a few milliseconds) for the guesses to overlap.
	e := newEnv(t, store.SQLite, app.Config{
		LoginPerAccount: app.Limit{Events: 3, Per: time.Hour},
		Password:        app.PasswordParams{Memory: 4 * 1024, Time: 1, Threads: 1},
	})
	e.register(t, "alice")
	const guesses = 24
	var wg sync.WaitGroup
	results := make(chan error, guesses)
	for range guesses {
		wg.Go(func() {
			_, err := e.Authenticate(ctx, app.LoginInput{Username: "alice", Password: "guess", Addr: "192.0.2.7"})
			results <- err
		})
	}
	wg.Wait()
	close(results)
	checked := 0
	for err := range results {
		switch natter.ErrorKind(err) {
		case natter.Invalid:
			checked++
		case natter.RateLimited:
		default:
			t.Errorf("a guess got %v", err)
		}
	}
	if checked > 3 {
		t.Errorf("%d of %d parallel guesses were checked, want at most the limit, 3", checked, guesses)
	}
}

// The hash records its own cost parameters, so raising them keeps old
// passwords working, and lowering them keeps new ones working.
func TestPasswordParamsChange(t *testing.T) {
	e := newEnv(t, store.SQLite, app.Config{})
	ctx := t.Context()
	stronger, err := app.New(e.store, e.pub, app.Config{Password: app.PasswordParams{Memory: 256, Time: 2, Threads: 2}})
	if err != nil {
		t.Fatal(err)
	}
	e.register(t, "alice") // FastPasswordParams
	if _, err := stronger.Register(ctx, app.RegisterInput{Username: "bob", Email: "bob@example.com",
		Password: password, ConfirmPassword: password}, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, params string
	}{{"alice", "m=64,t=1,p=1"}, {"bob", "m=256,t=2,p=2"}} {
		c, _ := e.store.Credentials(ctx, tt.name)
		if !strings.Contains(c.PasswordHash, "$"+tt.params+"$") {
			t.Errorf("%s's hash %q lacks %s", tt.name, c.PasswordHash, tt.params)
		}
		for i, a := range []*app.App{e.App, stronger} {
			if _, err := a.Authenticate(ctx, app.LoginInput{Username: tt.name, Password: password, Addr: "192.0.2.1"}); err != nil {
				t.Errorf("app %d cannot check %s's password: %v", i, tt.name, err)
			}
			if _, err := a.Authenticate(ctx, app.LoginInput{Username: tt.name, Password: "wrong password", Addr: "192.0.2.1"}); err != app.ErrBadCredentials {
				t.Errorf("app %d accepted a wrong password for %s: %v", i, tt.name, err)
			}
		}
	}
}

func TestUpdateProfile(t *testing.T) {
	forEachDialect(t, app.Config{}, func(t *testing.T, e *env) {
		ctx := t.Context()
		alice, _ := e.register(t, "alice"), e.register(t, "bob")

		t.Run("OK", func(t *testing.T) {
			u, err := e.UpdateProfile(ctx, alice, " Alicia ", "  Tea.\r\nCake.  ")
			if err != nil {
				t.Fatal(err)
			}
			if u.Username != "Alicia" || u.AboutMe != "Tea.\nCake." {
				t.Errorf("UpdateProfile = %q, %q", u.Username, u.AboutMe)
			}
			if got := e.reload(t, alice); got.Username != "Alicia" || got.AboutMe != "Tea.\nCake." {
				t.Errorf("stored %q, %q", got.Username, got.AboutMe)
			}
			alice = u
		})
		t.Run("ErrUsernameTaken", func(t *testing.T) {
			_, err := e.UpdateProfile(ctx, alice, "BOB", "")
			wantFields(t, err, "username")
		})
		t.Run("ErrInvalid", func(t *testing.T) {
			_, err := e.UpdateProfile(ctx, alice, "a b", strings.Repeat("é", app.MaxAboutMeLen+1))
			wantFields(t, err, "username", "about_me")
			if got := e.reload(t, alice); got.Username != "Alicia" {
				t.Errorf("refused update renamed alice to %q", got.Username)
			}
		})
		t.Run("OKAboutMe140AndEmpty", func(t *testing.T) {
			if _, err := e.UpdateProfile(ctx, alice, "Alicia", strings.Repeat("é", app.MaxAboutMeLen)); err != nil {
				t.Error(err)
			}
			if _, err := e.UpdateProfile(ctx, alice, "Alicia", ""); err != nil {
				t.Error(err)
			}
		})
	})
}

// EditProfile saves the name, the text and the last-seen setting together:
// a refused name leaves the setting as it was.
func TestEditProfile(t *testing.T) {
	forEachDialect(t, app.Config{}, func(t *testing.T, e *env) {
		ctx := t.Context()
		alice, _ := e.register(t, "alice"), e.register(t, "bob")
		u, err := e.EditProfile(ctx, alice, "alice", "hi", true)
		if err != nil {
			t.Fatal(err)
		}
		if !u.HideLastSeen || !e.reload(t, alice).HideLastSeen {
			t.Errorf("EditProfile(hide) = %v, stored %v", u.HideLastSeen, e.reload(t, alice).HideLastSeen)
		}
		if _, err := e.EditProfile(ctx, u, "bob", "hi", false); err == nil {
			t.Fatal("a taken name was accepted")
		}
		if !e.reload(t, alice).HideLastSeen {
			t.Error("a refused edit changed the last-seen setting")
		}
		// A rename elsewhere (UpdateProfile) keeps the setting.
		if _, err := e.UpdateProfile(ctx, u, "alicia", "hi"); err != nil {
			t.Fatal(err)
		}
		if !e.reload(t, alice).HideLastSeen {
			t.Error("UpdateProfile dropped the last-seen setting")
		}
	})
}

func TestSeen(t *testing.T) {
	e := newEnv(t, store.SQLite, app.Config{LastSeenEvery: time.Minute})
	ctx := t.Context()
	alice := e.register(t, "alice")
	joined := alice.LastSeen
	seen := func(u natter.Account) time.Time {
		t.Helper()
		if err := e.Seen(ctx, u); err != nil {
			t.Fatal(err)
		}
		return e.reload(t, alice).LastSeen
	}

	e.clock.Advance(30 * time.Second)
	if got := seen(alice); !got.Equal(joined) {
		t.Errorf("30s after joining LastSeen = %v, want %v", got, joined)
	}
	e.clock.Advance(31 * time.Second)
	written := e.clock.Now()
	if got := seen(alice); !got.Equal(written) {
		t.Errorf("61s after joining LastSeen = %v, want %v", got, written)
	}
	// A request holding the member as loaded before that write (other
	// tabs, other instances) does not write again within the minute.
	e.clock.Advance(30 * time.Second)
	if got := seen(alice); !got.Equal(written) {
		t.Errorf("30s after the last write LastSeen = %v, want %v", got, written)
	}
	e.clock.Advance(31 * time.Second)
	if got := seen(e.reload(t, alice)); !got.Equal(e.clock.Now()) {
		t.Errorf("61s after the last write LastSeen = %v, want %v", got, e.clock.Now())
	}
	wantPublished(t, e)
}

func TestProfile(t *testing.T) {
	e := newEnv(t, store.SQLite, app.Config{PostsPerPage: 2})
	ctx := t.Context()
	alice, bob := e.register(t, "alice"), e.register(t, "bob")
	for _, body := range []string{"one", "two", "three"} {
		if _, err := e.CreatePost(ctx, alice, body); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.Block(ctx, bob, "alice"); err != nil {
		t.Fatal(err)
	}

	p, err := e.Profile(ctx, bob, "ALICE", app.Position{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Member.ID != alice.ID || len(p.Posts.Items) != 2 || p.Posts.Items[0].Body != "three" || !p.Posts.HasNext || p.Posts.HasPrev || !p.Blocked {
		t.Errorf("page 1 = %+v", p)
	}
	if p.Posts.Older != p.Posts.Items[1].ID {
		t.Errorf("page 1 goes on before %d, want %d (two)", p.Posts.Older, p.Posts.Items[1].ID)
	}
	p, err = e.Profile(ctx, alice, "alice", app.Position{Before: p.Posts.Older})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Posts.Items) != 1 || p.Posts.Items[0].Body != "one" || p.Posts.HasNext || !p.Posts.HasPrev || p.Blocked {
		t.Errorf("own older page = %+v", p)
	}
	p, err = e.Profile(ctx, alice, "alice", app.Position{Page: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Posts.Items) != 1 || p.Posts.Items[0].Body != "one" || p.Posts.HasNext || !p.Posts.HasPrev {
		t.Errorf("own page 2 = %+v", p)
	}
	// Bob's posts are not alice's.
	if _, err := e.CreatePost(ctx, bob, "bob's"); err != nil {
		t.Fatal(err)
	}
	p, err = e.Profile(ctx, alice, "bob", app.Position{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Posts.Items) != 1 || p.Posts.Items[0].Body != "bob's" || p.Posts.HasNext || p.Posts.HasPrev {
		t.Errorf("bob's profile = %+v", p)
	}
	_, err = e.Profile(ctx, bob, "nobody", app.Position{})
	wantKind(t, err, natter.NotFound)
	_, err = e.Profile(ctx, bob, "alice", app.Position{Page: 0, Before: -1})
	wantKind(t, err, natter.Malformed)
}
