package deliver

import (
	"context"
	"log/slog"
	"time"
)

// Streams is what an instance knows of its own open pages (live.Hub).
type Streams interface {
	HasStreams(userID int64) bool
	Members() []int64
}

// LocalPresence is presence on a single instance (SQLite): a member has a
// page open if they have an event stream open here.
type LocalPresence struct{ Streams Streams }

// Present implements Presence.
func (p LocalPresence) Present(_ context.Context, userID int64) (bool, error) {
	return p.Streams.HasStreams(userID), nil
}

// PresenceStore keeps instances' presence records (*store.Store).
type PresenceStore interface {
	Now() time.Time
	SetPresence(ctx context.Context, instance string, members []int64, expires time.Time) error
	Present(ctx context.Context, userID int64) (bool, error)
}

// SharedPresence is presence across instances (PostgreSQL): this
// instance's own streams, and the records every instance refreshes in the
// database. A record expires unless refreshed, so a dead instance's
// members count as away within TTL.
type SharedPresence struct {
	Streams  Streams
	Store    PresenceStore
	Instance string
	// Every is how often the record is refreshed; a page opened on another
	// instance is seen here within it. Default 5 s.
	Every time.Duration
	// TTL is how long a record lasts unrefreshed. Default 4 × Every.
	TTL    time.Duration
	Logger *slog.Logger
}

// Present implements Presence.
func (p *SharedPresence) Present(ctx context.Context, userID int64) (bool, error) {
	if p.Streams.HasStreams(userID) {
		return true, nil
	}
	return p.Store.Present(ctx, userID)
}

// Refresh writes this instance's record now.
func (p *SharedPresence) Refresh(ctx context.Context) error {
	return p.Store.SetPresence(ctx, p.Instance, p.Streams.Members(), p.Store.Now().Add(p.ttl()))
}

func (p *SharedPresence) every() time.Duration {
	if p.Every <= 0 {
		return 5 * time.Second
	}
	return p.Every
}

func (p *SharedPresence) ttl() time.Duration {
	if p.TTL <= 0 {
		return 4 * p.every()
	}
	return p.TTL
}

// Run refreshes the record until ctx ends, then withdraws it.
func (p *SharedPresence) Run(ctx context.Context) {
	t := time.NewTicker(p.every())
	defer t.Stop()
	for {
		if err := p.Refresh(ctx); err != nil && ctx.Err() == nil && p.Logger != nil {
			p.Logger.Warn("delivery: refreshing presence", "err", err)
		}
		select {
		case <-ctx.Done():
			clear, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			_ = p.Store.SetPresence(clear, p.Instance, nil, p.Store.Now())
			cancel()
			return
		case <-t.C:
		}
	}
}
