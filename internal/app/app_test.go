package app_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"natter/internal/app"
	"natter/internal/natter"
	"natter/internal/store"
	"natter/internal/store/storetest"
)

// clock is a time source the test moves by hand; the App reads it through
// the store (store.Options.Now), for rate limits and "last seen".
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// publisher records what the App publishes. The App must hand it only
// notifications that have committed.
type publisher struct {
	mu    sync.Mutex
	notes []natter.Notification
	// check, when set, is called with each batch before it is recorded.
	check func([]natter.Notification)
	// ended are the members whose streams were ended.
	ended []int64
}

func (p *publisher) Notify(notes []natter.Notification) {
	p.mu.Lock()
	check := p.check
	p.mu.Unlock()
	if check != nil {
		check(notes)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.notes = append(p.notes, notes...)
}

// Disconnect records that the member's streams were ended, as "end:user".
func (p *publisher) Disconnect(userID int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ended = append(p.ended, userID)
}

func (p *publisher) setCheck(fn func([]natter.Notification)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.check = fn
}

// take returns what was published since the last take, as "user:name=data".
func (p *publisher) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, n := range p.notes {
		out = append(out, fmt.Sprintf("%d:%s=%s", n.UserID, n.Name, n.Data))
	}
	p.notes = nil
	return out
}

// env is an App over a real store, with its clock and publisher.
type env struct {
	*app.App
	store *store.Store
	clock *clock
	pub   *publisher
	dsn   string
	// updates counts the write transactions the App opened.
	updates *countingUpdates
}

// countingUpdates is the real store, counting the App's write
// transactions: on SQLite each takes the one writer connection, so a read
// that needs none must open none.
type countingUpdates struct {
	natter.Store
	n atomic.Int64
}

func (c *countingUpdates) Update(ctx context.Context, fn func(natter.Tx) error) ([]natter.Notification, error) {
	c.n.Add(1)
	return c.Store.Update(ctx, fn)
}

// take returns how many write transactions were opened since the last take.
func (c *countingUpdates) take() int64 { return c.n.Swap(0) }

// newEnv opens an empty store of dialect d and an App over it. Config
// fields left zero get cheap password hashing and no rate limits; tests of
// a limit set it.
func newEnv(t *testing.T, d store.Dialect, cfg app.Config) *env {
	t.Helper()
	e := &env{
		clock: &clock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)},
		pub:   &publisher{},
		dsn:   storetest.DSN(t, d),
	}
	s, err := store.Open(t.Context(), e.dsn, store.Options{Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	e.store = s
	if cfg.Password == (app.PasswordParams{}) {
		cfg.Password = app.FastPasswordParams
	}
	for _, l := range []*app.Limit{&cfg.LoginPerAccountAddress, &cfg.LoginPerAccount, &cfg.LoginPerAddress, &cfg.LoginSuccessPerAccount, &cfg.LoginSuccessPerAddress, &cfg.RegisterPerAddr, &cfg.SendPerMember, &cfg.PostPerMember} {
		if *l == (app.Limit{}) {
			*l = app.NoLimit
		}
	}
	e.updates = &countingUpdates{Store: s}
	e.App, err = app.New(e.updates, e.pub, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// forEachDialect runs fn against a fresh env per dialect, as
// storetest.ForEach does for the store.
func forEachDialect(t *testing.T, cfg app.Config, fn func(t *testing.T, e *env)) {
	t.Helper()
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) { fn(t, newEnv(t, d, cfg)) })
	}
}

const password = "correct horse battery"

// register makes a member called name with the password above.
func (e *env) register(t *testing.T, name string) natter.Account {
	t.Helper()
	u, err := e.Register(t.Context(), app.RegisterInput{
		Username: name, Email: name + "@example.com", Password: password, ConfirmPassword: password,
	}, "192.0.2.1")
	if err != nil {
		t.Fatalf("Register(%q): %v", name, err)
	}
	return u
}

// reload reads u again, for its counters.
func (e *env) reload(t *testing.T, u natter.Account) natter.Account {
	t.Helper()
	got, err := e.Account(t.Context(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// wantKind fails unless err is a *natter.Error of kind k.
func wantKind(t *testing.T, err error, k natter.Kind) *natter.Error {
	t.Helper()
	var e *natter.Error
	if !errors.As(err, &e) || e.Kind != k {
		t.Fatalf("err = %v (%#v), want a natter.Error of kind %v", err, err, k)
	}
	return e
}

// wantFields fails unless err is Invalid naming exactly these fields.
func wantFields(t *testing.T, err error, fields ...string) {
	t.Helper()
	e := wantKind(t, err, natter.Invalid)
	var got []string
	for f, msg := range e.Fields {
		got = append(got, f)
		if msg == "" {
			t.Errorf("field %s has an empty message", f)
		}
	}
	slices.Sort(got)
	slices.Sort(fields)
	if !slices.Equal(got, fields) {
		t.Errorf("invalid fields = %v (%v), want %v", got, e.Fields, fields)
	}
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

func wantPublished(t *testing.T, e *env, want ...string) {
	t.Helper()
	if got := e.pub.take(); !slices.Equal(got, want) {
		t.Errorf("published %q, want %q", got, want)
	}
}
