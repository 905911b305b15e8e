package deliver_test

// The fixtures of the delivery tests, push (deliver_test.go) and email
// (email_test.go) alike: one natter instance of real components, a real
// store (SQLite, and PostgreSQL when configured), the real app writing the
// outbox, and the channels a test asks for, each delivering to a fake that
// records what it is given: pushtest's push service, which checks VAPID and
// decrypts, behind the real webpush.Sender, and mailtest's SMTP server
// behind mail.Sender. The clock is the store's, moved by the test; the
// engine is stepped with Drain, which returns when every due job has been
// handled, so "nothing was delivered" is read right after it, never waited
// for.

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"natter/internal/app"
	"natter/internal/deliver"
	"natter/internal/live"
	"natter/internal/mail"
	"natter/internal/mail/mailtest"
	"natter/internal/natter"
	"natter/internal/store"
	"natter/internal/store/storetest"
	"natter/internal/webpush"
	"natter/internal/webpush/pushtest"
)

// The grace periods the app gives each channel before a job is due.
const (
	pushDelay  = 5 * time.Second
	emailDelay = 10 * time.Minute
)

var mailKey = []byte("0123456789abcdef0123456789abcdef")

// clock is the test's time, moved by hand.
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
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// channels says which delivery channels a fixture's instance has.
type channels struct {
	push  bool
	email bool
	// maxPerDay is the email channel's daily cap; 0 leaves the default.
	maxPerDay int
}

var (
	pushOnly  = channels{push: true}
	emailOnly = channels{email: true}
)

type fixture struct {
	t      *testing.T
	ch     channels
	clock  *clock
	dsn    string
	store  *store.Store
	hub    *live.Hub
	app    *app.App
	engine *deliver.Engine

	// The push service and the sender pushing to it, with ch.push.
	svc    *pushtest.Service
	key    *webpush.VAPIDKey
	sender *webpush.Sender
	// The SMTP server, with ch.email.
	srv *mailtest.Server
}

func newFixture(t *testing.T, d store.Dialect, ch channels) *fixture {
	t.Helper()
	f := &fixture{t: t, ch: ch, clock: &clock{now: time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)}}
	f.dsn = storetest.DSN(t, d)
	f.store = f.open()
	f.hub = live.NewHub(8)
	cfg := app.Config{Password: app.FastPasswordParams, RegisterPerAddr: app.NoLimit}
	if ch.push {
		f.svc = pushtest.NewService(t)
		var err error
		if f.key, err = webpush.GenerateVAPIDKey(); err != nil {
			t.Fatal(err)
		}
		f.sender, err = webpush.NewSender(webpush.Options{Key: f.key, Subject: "mailto:ops@example.org", AllowInsecure: []string{f.svc.HostPort()}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(f.sender.Close)
		cfg.PushKey, cfg.Endpoints = f.key.PublicKey(), f.sender
		cfg.Channels = append(cfg.Channels, app.Channel{Name: natter.ChannelPush, Delay: pushDelay})
	}
	if ch.email {
		f.srv = mailtest.Start(t)
		cfg.MailKey = mailKey
		cfg.Channels = append(cfg.Channels, app.Channel{Name: natter.ChannelEmail, Delay: emailDelay})
	}
	var err error
	if f.app, err = app.New(f.store, f.hub, cfg); err != nil {
		t.Fatal(err)
	}
	f.engine = f.newEngine(instance{})
	return f
}

// eachDialect runs fn per engine with a fresh fixture.
func eachDialect(t *testing.T, ch channels, fn func(t *testing.T, f *fixture)) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) { fn(t, newFixture(t, d, ch)) })
	}
}

// open opens another Store on the fixture's database, as another instance
// would.
func (f *fixture) open() *store.Store {
	f.t.Helper()
	s, err := store.Open(context.Background(), f.dsn, store.Options{Now: f.clock.Now})
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { s.Close() })
	return s
}

// instance says how an engine is put together; the zero value is the
// fixture's own.
type instance struct {
	store    *store.Store     // the channels'; nil: the fixture's
	jobs     deliver.Store    // the engine's; nil: store
	presence deliver.Presence // nil: a page open on the fixture's hub
}

// newEngine makes an engine with the fixture's channels, as in.
func (f *fixture) newEngine(in instance) *deliver.Engine {
	f.t.Helper()
	if in.store == nil {
		in.store = f.store
	}
	if in.jobs == nil {
		in.jobs = in.store
	}
	if in.presence == nil {
		in.presence = deliver.LocalPresence{Streams: f.hub}
	}
	var chans []deliver.Channel
	if f.ch.push {
		chans = append(chans, &deliver.Push{Store: in.store, Sender: f.sender})
	}
	if f.ch.email {
		cfg, err := mail.ParseConfig(f.srv.URL(), "", "https://natter.example")
		if err != nil {
			f.t.Fatal(err)
		}
		sender, err := mail.NewSender(cfg)
		if err != nil {
			f.t.Fatal(err)
		}
		composer, err := mail.NewComposer(cfg)
		if err != nil {
			f.t.Fatal(err)
		}
		chans = append(chans, &deliver.Email{Store: in.store, Presence: in.presence, Sender: sender, Composer: composer, MaxPerDay: f.ch.maxPerDay,
			Unsubscribe: func(id int64, list string) string { return app.UnsubscribePath(mailKey, id, list) }})
	}
	e, err := deliver.New(deliver.Options{Store: in.jobs, Presence: in.presence, Channels: chans,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		f.t.Fatal(err)
	}
	return e
}

// member makes a member whose address is verified.
func (f *fixture) member(name string) natter.Account {
	f.t.Helper()
	return f.user(name, true)
}

// user makes a member with the address name@example.com, verified or not.
func (f *fixture) user(name string, verified bool) natter.Account {
	f.t.Helper()
	var a natter.Account
	_, err := f.store.Update(context.Background(), func(tx natter.Tx) error {
		var err error
		if a, err = tx.CreateUser(context.Background(), name, name+"@example.com", "not a hash"); err != nil || !verified {
			return err
		}
		return tx.VerifyEmail(context.Background(), a.ID, a.Email)
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return f.account(a)
}

// account re-reads a member, as a request would.
func (f *fixture) account(a natter.Account) natter.Account {
	f.t.Helper()
	acc, err := f.store.Account(context.Background(), a.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return acc
}

// setPrefs saves a's notification preferences: the defaults, as edit
// changes them.
func (f *fixture) setPrefs(a natter.Account, edit func(p *natter.Prefs)) {
	f.t.Helper()
	p := natter.DefaultPrefs()
	edit(&p)
	if err := f.app.SaveNotificationPrefs(context.Background(), a, p); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) send(from natter.Account, to, body string) natter.Message {
	f.t.Helper()
	m, err := f.app.SendMessage(context.Background(), from, to, body)
	if err != nil {
		f.t.Fatal(err)
	}
	return m
}

// drain runs the fixture's engine until no job is due.
func (f *fixture) drain() {
	f.t.Helper()
	if err := f.engine.Drain(context.Background()); err != nil {
		f.t.Fatal(err)
	}
}

// drainAfter moves the clock on by d, then drains.
func (f *fixture) drainAfter(d time.Duration) {
	f.t.Helper()
	f.clock.Advance(d)
	f.drain()
}

// drainTogether drains the engines at once, as instances sharing a
// database would, and returns when all are done.
func (f *fixture) drainTogether(engines ...*deliver.Engine) {
	var wg sync.WaitGroup
	for _, e := range engines {
		wg.Go(func() {
			if err := e.Drain(context.Background()); err != nil {
				f.t.Error(err)
			}
		})
	}
	wg.Wait()
}

// device turns push on for a in a new browser.
func (f *fixture) device(a natter.Account) *pushtest.Subscription {
	f.t.Helper()
	sub := f.svc.Subscribe(f.key.PublicKey())
	if _, err := f.app.SubscribePush(context.Background(), a, sub.JSON(), "Mozilla/5.0 (Android 14) Firefox/130.0"); err != nil {
		f.t.Fatal(err)
	}
	return sub
}

// next returns the next push, decrypted.
func (f *fixture) next() (pushtest.Delivery, deliver.PushPayload) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := f.svc.Next(ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	var p deliver.PushPayload
	if err := json.Unmarshal(d.Payload, &p); err != nil {
		f.t.Fatalf("payload %q: %v", d.Payload, err)
	}
	return d, p
}

// expectPushRequests fails unless the push service has had exactly n
// requests, answered or refused.
func (f *fixture) expectPushRequests(n int) {
	f.t.Helper()
	if got := f.svc.Requests(); got != n {
		f.t.Fatalf("the push service has had %d requests, want %d", got, n)
	}
}

// expectMails fails unless the server has received exactly n emails.
func (f *fixture) expectMails(n int) []*mailtest.Message {
	f.t.Helper()
	got := f.srv.Received()
	if len(got) != n {
		subjects := []string{}
		for _, m := range got {
			subjects = append(subjects, m.Header.Get("Subject"))
		}
		f.t.Fatalf("the SMTP server received %d emails %q, want %d", len(got), subjects, n)
	}
	return got
}

var linkRE = regexp.MustCompile(`https://natter\.example(/[^\s"<>]+)`)

// link finds the path of the email's link that starts with prefix.
func link(t *testing.T, m *mailtest.Message, prefix string) string {
	t.Helper()
	for _, l := range linkRE.FindAllStringSubmatch(m.Text, -1) {
		if strings.HasPrefix(l[1], prefix) {
			return l[1]
		}
	}
	t.Fatalf("no %s link in:\n%s", prefix, m.Text)
	return ""
}
