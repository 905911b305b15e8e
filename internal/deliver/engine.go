// Package deliver is natter's delivery engine (DESIGN.md §8): it reaches
// members beyond their open pages. The transaction that creates something
// notifying writes what is owed into the outbox (store.Tx.Owe); the Engine
// on every instance takes what is due, asks — in this order — whether the
// item is still unread, whether the member wants it on this channel and
// not now (quiet hours), and whether no page of theirs is open anywhere,
// and only then hands it to the channel. Channels are Web Push (Push) and
// email (Email).
//
// The engine holds no SQL and no HTTP handlers: storage is its Store
// (*store.Store), presence a Presence, and each channel does its own
// talking to the outside. It never blocks a request, a page or a stream:
// it runs on its own goroutines, and a channel that is down only makes
// its jobs wait, with back-off.
package deliver

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"natter/internal/natter"
)

// Store is what the engine needs of storage. *store.Store implements it.
type Store interface {
	// Now is storage's clock, which the engine goes by (tests set it).
	Now() time.Time
	// ClaimJobs takes up to limit due jobs for owner, leased for lease.
	ClaimJobs(ctx context.Context, owner string, limit int, lease time.Duration) ([]natter.Job, error)
	// NextDue is when the next job is due; false if none is owed.
	NextDue(ctx context.Context) (time.Time, bool, error)
	// FinishJob drops a job that is done or will never be. A job is known
	// by its ID and Due together (SQLite reuses the ID of a deleted row).
	FinishJob(ctx context.Context, job natter.Job) error
	// RetryJob makes a job due again at at; counted false gives back the
	// attempt (the job was held, not failed).
	RetryJob(ctx context.Context, job natter.Job, at time.Time, counted bool) error
	// Unread is the one test of whether the member has read an item.
	Unread(ctx context.Context, item natter.Item) (bool, error)
	Prefs(ctx context.Context, userID int64) (natter.Prefs, error)
	// ItemText is what a notification about the item shows.
	ItemText(ctx context.Context, item natter.Item) (natter.ItemText, error)
}

// Presence says whether a member has a page of natter's open on any
// instance: then the page has told them, and push stays silent.
type Presence interface {
	Present(ctx context.Context, userID int64) (bool, error)
}

// Channel sends jobs of one channel ("push", "email"). Its Send does the
// talking and reports what became of the job; the engine keeps the order
// of the checks (whether the member wants the job on the channel is
// natter.KindPrefs.Wants), the retries and the back-off.
type Channel interface {
	// Name is the channel's name in the outbox (natter.ChannelPush, ...).
	Name() string
	// Send delivers one job. It must return within a bounded time.
	Send(ctx context.Context, job natter.Job, n Notice) Outcome
}

// Result is what became of a job.
type Result int

const (
	// Sent: delivered; the job is done.
	Sent Result = iota + 1
	// Skipped: nothing to send any more (read meanwhile, device gone).
	Skipped
	// Retry: worth trying again later (the service is down or busy).
	Retry
	// Failed: will never work; the job is dropped.
	Failed
	// Deferred: not failed, but not now: the job is due again after
	// RetryAfter, with its attempt given back (an email waiting behind
	// another, or for the member's daily cap).
	Deferred
)

// Outcome is a channel's report on one job.
type Outcome struct {
	Result Result
	// RetryAfter is the wait the far side asked for (Retry); the engine
	// waits at least its own back-off.
	RetryAfter time.Duration
	// Err says what went wrong, for the log.
	Err error
}

// Notice is what a notification says, the same for every channel.
type Notice struct {
	Kind  string // natter.KindMessage, KindMention, KindRead, KindTest
	Title string
	Body  string
	URL   string // site-relative: where a click goes
	Tag   string // one per conversation or post
	// Tags are what a read notice closes.
	Tags []string
}

// Options configure an Engine.
type Options struct {
	Store    Store
	Presence Presence
	Channels []Channel
	Logger   *slog.Logger
	// Poll is how often the engine looks for due jobs when nothing woke
	// it (another instance may have owed them). Default 30 s.
	Poll time.Duration
	// Lease is how long a taken job is left to its taker before another
	// worker may take it. It must outlast a send. Default 2 minutes.
	Lease time.Duration
	// Parallel bounds the sends in flight. Default 8.
	Parallel int
}

// Engine delivers what the outbox owes. Make it with New; run Run once.
type Engine struct {
	store    Store
	presence Presence
	channels map[string]Channel
	log      *slog.Logger
	poll     time.Duration
	lease    time.Duration
	parallel int
	owner    string
	wake     chan struct{}
	drain    sync.Mutex // one Drain at a time
}

// New returns an engine.
func New(opts Options) (*Engine, error) {
	if opts.Store == nil || opts.Presence == nil {
		return nil, errors.New("deliver: a Store and a Presence are required")
	}
	e := &Engine{
		store: opts.Store, presence: opts.Presence, channels: map[string]Channel{},
		log: opts.Logger, poll: opts.Poll, lease: opts.Lease, parallel: opts.Parallel,
		owner: rand.Text(), wake: make(chan struct{}, 1),
	}
	if e.log == nil {
		e.log = slog.Default()
	}
	if e.poll <= 0 {
		e.poll = 30 * time.Second
	}
	if e.lease <= 0 {
		e.lease = 2 * time.Minute
	}
	if e.parallel <= 0 {
		e.parallel = 8
	}
	for _, c := range opts.Channels {
		e.channels[c.Name()] = c
	}
	return e, nil
}

// Wake makes the engine look for due jobs now. It never blocks: the app
// calls it after committing something owed.
func (e *Engine) Wake() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends, then waits for the sends in flight (whose
// jobs, if cut short, become due again when their lease ends).
func (e *Engine) Run(ctx context.Context) {
	for {
		wait := e.poll
		if err := e.Drain(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			e.log.Warn("delivery: taking due jobs", "err", err)
		} else if next, ok, err := e.store.NextDue(ctx); err == nil && ok {
			wait = min(wait, max(next.Sub(e.store.Now()), 0))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-e.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// batch is how many jobs one claim takes.
const batch = 32

// Drain delivers every job due now, and returns when none is left (jobs
// that must wait are rescheduled). Tests call it to step the engine.
func (e *Engine) Drain(ctx context.Context) error {
	e.drain.Lock()
	defer e.drain.Unlock()
	for {
		// Claiming is a write; looking is a read, and usually finds
		// nothing due.
		next, ok, err := e.store.NextDue(ctx)
		if err != nil || !ok || next.After(e.store.Now()) {
			return err
		}
		jobs, err := e.store.ClaimJobs(ctx, e.owner, batch, e.lease)
		if err != nil {
			return err
		}
		sem := make(chan struct{}, e.parallel)
		var wg sync.WaitGroup
		for _, j := range jobs {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				e.deliver(ctx, j)
			}()
		}
		wg.Wait()
		if len(jobs) < batch || ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// deliver takes one job through the checks and, if it passes them all, to
// its channel.
func (e *Engine) deliver(ctx context.Context, job natter.Job) {
	log := e.log.With("job", job.ID, "channel", job.Channel, "kind", job.Item.Kind, "member", job.Item.UserID)
	// Bookkeeping after a send that was cut short by shutdown still runs.
	after := context.WithoutCancel(ctx)
	finish := func() {
		if err := e.store.FinishJob(after, job); err != nil {
			log.Warn("delivery: finishing job", "err", err)
		}
	}
	retry := func(at time.Time, counted bool) {
		if err := e.store.RetryJob(after, job, at, counted); err != nil {
			log.Warn("delivery: rescheduling job", "err", err)
		}
	}
	ch, ok := e.channels[job.Channel]
	if !ok {
		// A channel this instance does not run (email switched off): the
		// job is not this engine's to judge, and dropping it would lose it
		// for an instance that does run it.
		retry(e.store.Now().Add(time.Hour), false)
		return
	}
	n, hold, err := e.check(ctx, ch, job)
	switch {
	case err != nil:
		log.Warn("delivery: checking job", "err", err)
		retry(e.store.Now().Add(backoff(job.Attempts)), true)
		return
	case !hold.IsZero():
		retry(hold, false)
		return
	case n == nil:
		finish()
		return
	}
	out := ch.Send(ctx, job, *n)
	if out.Result == Retry && ctx.Err() != nil {
		// Cut short by shutdown, not failed: due again at once.
		retry(e.store.Now(), false)
		return
	}
	switch out.Result {
	case Sent:
		log.Debug("delivery: sent")
		finish()
	case Skipped:
		finish()
	case Deferred:
		retry(e.store.Now().Add(out.RetryAfter), false)
	case Retry:
		wait := max(backoff(job.Attempts), out.RetryAfter)
		log.Info("delivery: will retry", "in", wait, "err", out.Err)
		retry(e.store.Now().Add(wait), true)
	default:
		log.Warn("delivery: dropped", "err", out.Err)
		finish()
	}
}

// check asks, in order: still unread? wanted on this channel, and not in
// quiet hours? no page open (where the channel waits for that)? It returns
// the notice to send, or nil to drop the job, or a time to hold it until.
func (e *Engine) check(ctx context.Context, ch Channel, job natter.Job) (n *Notice, hold time.Time, err error) {
	kind := job.Item.Kind
	switch kind {
	case natter.KindRead:
		return &Notice{Kind: kind, Tag: job.Tag, Tags: job.Tags}, time.Time{}, nil
	case natter.KindTest:
		return &Notice{Kind: kind, Title: "natter", Body: "Notifications work in this browser.",
			URL: "/settings/notifications", Tag: "test"}, time.Time{}, nil
	}
	if natter.IsAccountMail(kind) {
		// The member asked for it: none of the checks below apply.
		return &Notice{Kind: kind}, time.Time{}, nil
	}
	unread, err := e.store.Unread(ctx, job.Item)
	if err != nil || !unread {
		return nil, time.Time{}, err
	}
	prefs, err := e.store.Prefs(ctx, job.Item.UserID)
	if err != nil {
		return nil, time.Time{}, err
	}
	// The rule the app applied when it owed the job: the member may have
	// changed their mind since.
	wanted, onlyAway := prefs.Kind(kind).Wants(ch.Name())
	if !wanted {
		return nil, time.Time{}, nil
	}
	if until, quiet := prefs.QuietUntil(e.store.Now()); quiet {
		return nil, until, nil
	}
	if onlyAway {
		present, err := e.presence.Present(ctx, job.Item.UserID)
		if err != nil || present {
			return nil, time.Time{}, err
		}
	}
	text, err := e.store.ItemText(ctx, job.Item)
	if errors.Is(err, natter.ErrNotFound) {
		return nil, time.Time{}, nil
	}
	if err != nil {
		return nil, time.Time{}, err
	}
	return compose(job, text, prefs.Previews), time.Time{}, nil
}

// maxPreview bounds a notification's text: a push payload is at most
// 4 KB, and a lock screen shows a line or two.
const maxPreview = 200

// compose writes the notice for an item.
func compose(job natter.Job, t natter.ItemText, previews bool) *Notice {
	n := &Notice{Kind: job.Item.Kind, Tag: job.Tag}
	body := []rune(t.Body)
	if len(body) > maxPreview {
		body = append(body[:maxPreview-1], '…')
	}
	switch job.Item.Kind {
	case natter.KindMessage:
		n.Title = t.Actor.Username
		n.Body = "Sent you a message."
		n.URL = "/messages/" + t.Actor.Username
	case natter.KindMention:
		n.Title = t.Actor.Username + " mentioned you"
		n.Body = "In a post."
		n.URL = "/activity"
	case natter.KindReply:
		n.Title = t.Actor.Username + " replied to your post"
		n.Body = "A reply."
		n.URL = "/post/" + strconv.FormatInt(t.PostID, 10)
	case natter.KindLike:
		n.Title = t.Actor.Username + " liked your post"
		n.Body = "Your post."
		n.URL = "/post/" + strconv.FormatInt(t.PostID, 10)
	}
	if previews {
		n.Body = string(body)
	}
	return n
}

// backoff is the wait before attempt n+1 after n failed attempts: 30 s
// doubling, at most an hour.
func backoff(attempts int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < attempts && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}
