// Package app holds natter's use cases — Register, Login, Post,
// SendMessage, ReadMessages and the rest — and the rules they enforce. Each
// use case validates its input, runs one transaction in the store, and only
// after the commit hands the notifications it wrote to the publisher. It
// knows nothing of HTTP or SQL.
package app

import (
	"context"
	"runtime"
	"time"

	"natter/internal/natter"
)

// Publisher delivers committed notifications to open event streams, and
// ends a member's streams (live.Hub).
type Publisher interface {
	Notify([]natter.Notification)
	Disconnect(userID int64)
}

// Config is what the operator may tune. Zero fields take the defaults.
type Config struct {
	PostsPerPage int            // default 10
	Password     PasswordParams // default DefaultPasswordParams
	// LastSeenEvery is how stale "last seen" may get before a request
	// writes it again. Default one minute.
	LastSeenEvery time.Duration

	// Failed logins. None of them can keep a member out of their account
	// from the browser they use (docs/operations.md, "Login limits").
	LoginPerAccountAddress Limit // per account and client address; default 10 per 15 minutes
	LoginPerAccount        Limit // per account, for browsers without a device cookie; default 30 per hour
	LoginPerAddress        Limit // per client address (IPv6: per /64), across accounts; default 50 per 15 minutes
	// Successful logins: each makes a session and costs a hash.
	LoginSuccessPerAccount Limit // default 20 per hour
	LoginSuccessPerAddress Limit // default 200 per hour
	// Password hashing: HashWorkers at once (default GOMAXPROCS), up to
	// HashQueue more waiting (default 32), at most HashPerClient of them
	// from one client address (default 4); beyond that, a 429.
	HashWorkers, HashQueue, HashPerClient int

	RegisterPerAddr Limit // registrations per client address; default 20 per hour
	// AddressVerifier, if set, confirms a changed email address before it
	// takes effect (email on); nil applies changes at once.
	AddressVerifier AddressVerifier
	SendPerMember   Limit // messages sent per member; default 60 per minute
	PostPerMember   Limit // posts per member; default 30 per minute

	// Channels are the delivery channels notifying things are owed to
	// (delivery.go); nil means push alone, after DefaultPushDelay. The
	// email channel is added here when the site sends email.
	Channels []Channel
	// Deliveries is woken after a commit that owed something; nil wakes
	// nobody (the engine still polls).
	Deliveries Waker
	// PushKey is the VAPID public key browsers subscribe with; Endpoints
	// judges their push endpoints (nil accepts any valid one).
	PushKey   string
	Endpoints EndpointChecker
}

func (c *Config) setDefaults() {
	if c.PostsPerPage <= 0 {
		c.PostsPerPage = 10
	}
	if c.Password == (PasswordParams{}) {
		c.Password = DefaultPasswordParams
	}
	if c.LastSeenEvery <= 0 {
		c.LastSeenEvery = time.Minute
	}
	setLimit(&c.LoginPerAccountAddress, Limit{10, 15 * time.Minute})
	setLimit(&c.LoginPerAccount, Limit{30, time.Hour})
	setLimit(&c.LoginPerAddress, Limit{50, 15 * time.Minute})
	setLimit(&c.LoginSuccessPerAccount, Limit{20, time.Hour})
	setLimit(&c.LoginSuccessPerAddress, Limit{200, time.Hour})
	if c.HashWorkers <= 0 {
		c.HashWorkers = runtime.GOMAXPROCS(0)
	}
	if c.HashQueue <= 0 {
		c.HashQueue = 32
	}
	if c.HashPerClient <= 0 {
		c.HashPerClient = 4
	}
	setLimit(&c.RegisterPerAddr, Limit{20, time.Hour})
	setLimit(&c.SendPerMember, Limit{60, time.Minute})
	setLimit(&c.PostPerMember, Limit{30, time.Minute})
	if c.Channels == nil {
		c.Channels = []Channel{{Name: natter.ChannelPush, Delay: DefaultPushDelay}}
	}
}

func setLimit(l *Limit, def Limit) {
	if *l == (Limit{}) {
		*l = def
	}
}

// NoLimit is a Limit that allows everything (for tests and benchmarks).
var NoLimit = Limit{Events: -1, Per: time.Second}

// App is natter's application layer.
type App struct {
	store natter.Store
	pub   Publisher
	cfg   Config

	failByAccountAddress, failByAccount, failByAddress *limiter
	loginByAccount, loginByAddress                     *limiter
	registerByAddress, sendByMember, postByMember      *limiter
	reauthByMember                                     *limiter
	// dummyHash is checked when a login names no member, so that a wrong
	// username costs as much time as a wrong password.
	dummyHash string
	// hashing admits password hashes, fairly (limit.go).
	hashing *hashQueue
	// devices signs and checks device cookies (device.go).
	devices *deviceKeys
}

// New returns an App over s that publishes committed notifications to pub.
func New(s natter.Store, pub Publisher, cfg Config) (*App, error) {
	cfg.setDefaults()
	dummy, err := hashPassword("natter-dummy-password", cfg.Password)
	if err != nil {
		return nil, err
	}
	return &App{
		store:                s,
		pub:                  pub,
		cfg:                  cfg,
		failByAccountAddress: newLimiter(cfg.LoginPerAccountAddress),
		failByAccount:        newLimiter(cfg.LoginPerAccount),
		failByAddress:        newLimiter(cfg.LoginPerAddress),
		loginByAccount:       newLimiter(cfg.LoginSuccessPerAccount),
		loginByAddress:       newLimiter(cfg.LoginSuccessPerAddress),
		registerByAddress:    newLimiter(cfg.RegisterPerAddr),
		sendByMember:         newLimiter(cfg.SendPerMember),
		postByMember:         newLimiter(cfg.PostPerMember),
		reauthByMember:       newLimiter(reauthLimit),
		dummyHash:            dummy,
		hashing:              newHashQueue(cfg.HashWorkers, cfg.HashQueue, cfg.HashPerClient),
		devices:              &deviceKeys{store: s},
	}, nil
}

// PostsPerPage is the page size of every list.
func (a *App) PostsPerPage() int { return a.cfg.PostsPerPage }

// Now is the app's clock, the store's: pages say "3 minutes ago" by it.
func (a *App) Now() time.Time { return a.store.Now() }

// update runs fn in one transaction and, once it has committed, publishes
// the notifications it wrote. A member is never told of a change that then
// rolled back.
func (a *App) update(ctx context.Context, fn func(natter.Tx) error) error {
	notes, err := a.store.Update(ctx, fn)
	if err != nil {
		return err
	}
	if len(notes) > 0 && a.pub != nil {
		a.pub.Notify(notes)
	}
	return nil
}

// Page is one page of a list.
type Page[T any] struct {
	Items   []T
	Number  int // 1-based
	HasPrev bool
	HasNext bool
}

// MaxPage bounds page numbers so that offsets cannot overflow.
const MaxPage = 1_000_000

func checkPage(page int) error {
	if page < 1 || page > MaxPage {
		return notFound("There is no page %d.", page)
	}
	return nil
}

func (a *App) pagination(page int) natter.Pagination {
	return natter.PageFor(page, a.cfg.PostsPerPage)
}

// newPage trims the extra row natter.PageFor asked for.
func newPage[T any](items []T, number, perPage int) Page[T] {
	p := Page[T]{Number: number, HasPrev: number > 1}
	if len(items) > perPage {
		items, p.HasNext = items[:perPage], true
	}
	p.Items = items
	return p
}
