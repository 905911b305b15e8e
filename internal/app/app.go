// Package app holds natter's use cases — Register, Login, Post,
// SendMessage, ReadMessages and the rest — and the rules they enforce. Each
// use case validates its input, runs one transaction in the store, and only
// after the commit hands the notifications it wrote to the publisher. It
// knows nothing of HTTP or SQL.
package app

import (
	"context"
	"runtime"
	"strconv"
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
	// MailKey signs one-click unsubscribe links (email on).
	MailKey []byte
	// AddressVerifier, if set, confirms a changed email address before it
	// takes effect (email on); nil applies changes at once.
	AddressVerifier AddressVerifier
	SendPerMember   Limit // messages sent per member; default 60 per minute
	PostPerMember   Limit // posts per member; default 30 per minute
	// LookupPerMember limits the name suggestions of the "New message"
	// field (one lookup per pause in typing); default 120 per minute.
	LookupPerMember Limit

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
	setLimit(&c.LookupPerMember, Limit{120, time.Minute})
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
	lookupByMember                                     *limiter
	reauthByMember                                     *limiter
	// mailByMember bounds the account emails sent to one member (verify,
	// registration attempts, resets); resetByAddress the reset requests
	// from one client address.
	mailByMember, resetByAddress *limiter
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
		lookupByMember:       newLimiter(cfg.LookupPerMember),
		reauthByMember:       newLimiter(reauthLimit),
		mailByMember:         newLimiter(mailLimit),
		resetByAddress:       newLimiter(resetLimit),
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

// Page is one page of a list, newest first.
type Page[T any] struct {
	Items []T
	// Number is the page's number on lists paged by number (received
	// messages, the notification centre); 0 on lists paged by position.
	Number  int
	HasPrev bool // there are newer items
	HasNext bool // there are older items
	// On lists paged by position, Newer and Older are where the
	// neighbouring pages start: the items just newer than Newer (0 with
	// HasPrev: the newest page), and just older than Older.
	Newer, Older int64
}

// MaxPage caps the seed's page numbers. A page by number skips the pages
// before it, which costs more the deeper it is; the lists paged by position
// reach any depth through their links at the cost of the first page.
const MaxPage = 100

// Position is where a page of a list paged by position starts: the seed's
// page number, the items just older than Before, or the items just newer
// than After. The zero Position is the newest page.
type Position struct {
	Page          int
	Before, After int64
}

// ParsePosition reads a list's position from its query parameters: the
// seed's ?page=N, or ?before=ID or ?after=ID as the pager links. Anything
// else — a word, a page 0 or beyond MaxPage, two positions at once — is
// Malformed, the same on every list. Empty parameters are absent.
func ParsePosition(page, before, after string) (Position, error) {
	n, err := PageNumber(page)
	if err != nil {
		return Position{}, err
	}
	p := Position{Page: n}
	if p.Before, err = positionID(before); err != nil {
		return Position{}, err
	}
	if p.After, err = positionID(after); err != nil {
		return Position{}, err
	}
	set := 0
	for _, given := range []string{page, before, after} {
		if given != "" {
			set++
		}
	}
	if set > 1 {
		return Position{}, errNotAPage
	}
	return p, nil
}

// PageNumber reads the seed's ?page=N: empty is page 1; anything but a
// whole number from 1 to MaxPage is Malformed.
func PageNumber(s string) (int, error) {
	if s == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, errNotAPage
	}
	return n, checkPage(n)
}

// errNotAPage refuses whatever is not a position, the same on every list.
var errNotAPage = natter.Errorf(natter.Malformed,
	"That is not a page: pages are numbered from 1 to %d, and older ones are reached through the links under the list.", MaxPage)

func positionID(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 1 {
		return 0, errNotAPage
	}
	return id, nil
}

func checkPage(page int) error {
	if page < 1 || page > MaxPage {
		return errNotAPage
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

// pageAt reads the page of a list paged by position at pos, through read,
// which reads a window of the list; id is an item's position. Every window
// asks for one item more than a page, to learn whether the list goes on.
func pageAt[T any](pos Position, perPage int, read func(natter.Window) ([]T, error), id func(T) int64) (Page[T], error) {
	if pos.Page != 0 {
		if err := checkPage(pos.Page); err != nil {
			return Page[T]{}, err
		}
	}
	if pos.Before < 0 || pos.After < 0 || (pos.Before != 0 && pos.After != 0) {
		return Page[T]{}, errNotAPage
	}
	w := natter.Window{Before: pos.Before, After: pos.After, Limit: perPage + 1}
	var p Page[T]
	if pos.After != 0 {
		items, err := read(w)
		if err != nil {
			return Page[T]{}, err
		}
		if len(items) <= perPage {
			// Nothing newer beyond these: the newest page, which
			// shows them, full.
			return pageAt(Position{}, perPage, read, id)
		}
		// The extra item is the newest, read beyond the page.
		p.Items, p.HasPrev, p.HasNext = items[1:], true, true
	} else {
		if pos.Page > 1 {
			w.Skip = (pos.Page - 1) * perPage
		}
		items, err := read(w)
		if err != nil {
			return Page[T]{}, err
		}
		if len(items) > perPage {
			items, p.HasNext = items[:perPage], true
		}
		p.Items, p.HasPrev = items, pos.Before != 0 || pos.Page > 1
	}
	if p.HasPrev && len(p.Items) > 0 {
		p.Newer = id(p.Items[0])
	}
	if p.HasNext {
		p.Older = id(p.Items[len(p.Items)-1])
	}
	return p, nil
}
