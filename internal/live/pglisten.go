package live

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"

	"natter/internal/store"
)

// Listener relays the announcements that every instance's transactions make
// with pg_notify (see store.Tx) to this instance's hub. It holds one
// dedicated connection that LISTENs; if that connection drops it reconnects
// within seconds and has every stream catch up from the notifications
// table, so an announcement lost in between costs nothing.
type Listener struct {
	dsn       string
	hub       *Hub
	log       *slog.Logger
	connected atomic.Bool

	// MaxBackoff caps the wait between reconnection attempts.
	MaxBackoff time.Duration
	// PingEvery is how long the connection may stay silent before it is
	// checked, so that a connection that died without a word is noticed.
	PingEvery time.Duration
}

// ListenerApplicationName is the application_name of the listening
// connection.
const ListenerApplicationName = "natter-listener"

// NewListener returns a Listener for the PostgreSQL database at dsn.
func NewListener(dsn string, hub *Hub, log *slog.Logger) *Listener {
	return &Listener{dsn: dsn, hub: hub, log: log, MaxBackoff: 2 * time.Second, PingEvery: 15 * time.Second}
}

// Run listens until ctx ends.
func (l *Listener) Run(ctx context.Context) {
	backoff := 50 * time.Millisecond
	for {
		err := l.listen(ctx, func() { backoff = 50 * time.Millisecond })
		l.connected.Store(false)
		if ctx.Err() != nil {
			return
		}
		l.log.Warn("notification listener disconnected; reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, l.MaxBackoff)
	}
}

func (l *Listener) listen(ctx context.Context, connected func()) error {
	cfg, err := pgx.ParseConfig(l.dsn)
	if err != nil {
		return err
	}
	// Waking up every PingEvery to check the connection should interrupt
	// the read with a deadline, not send PostgreSQL a cancel request.
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.DeadlineContextWatcherHandler{Conn: c.Conn()}
	}
	// Named, so that an operator can tell it apart in pg_stat_activity.
	cfg.RuntimeParams["application_name"] = ListenerApplicationName
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{store.NotifyChannel}.Sanitize()); err != nil {
		return err
	}
	l.connected.Store(true)
	connected()
	l.log.Info("notification listener connected", "channel", store.NotifyChannel)
	// Whatever was announced while no one listened is in the table.
	l.hub.Resync()

	for {
		wait, cancel := context.WithTimeout(ctx, l.PingEvery)
		n, err := conn.WaitForNotification(wait)
		cancel()
		switch {
		case err == nil:
			l.relay(n.Payload)
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, context.DeadlineExceeded):
			if err := conn.Ping(ctx); err != nil {
				return err
			}
		default:
			return err
		}
	}
}

func (l *Listener) relay(payload string) {
	anns, err := store.ParseAnnouncements(payload)
	if err != nil {
		l.log.Warn("ignoring malformed announcement", "payload", payload, "err", err)
		return
	}
	for _, a := range anns {
		if a[1] == store.EndStreams {
			l.hub.Disconnect(a[0])
			continue
		}
		l.hub.Publish(Event{UserID: a[0], Seq: a[1]})
	}
}

// Ready reports an error while the listener is not connected: the instance
// would then deliver other instances' events late.
func (l *Listener) Ready(context.Context) error {
	if !l.connected.Load() {
		return errors.New("notification listener not connected")
	}
	return nil
}
