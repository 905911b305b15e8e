package live

import (
	"context"
	"errors"
	"fmt"
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
	// heard is when PostgreSQL last said anything on the connection (a
	// notification, an answered ping), in Unix nanoseconds.
	heard atomic.Int64

	// MaxBackoff caps the wait between reconnection attempts.
	MaxBackoff time.Duration
	// PingEvery is how long the connection may stay silent before it is
	// checked, and how long the check may take: a connection that died
	// without a word (a failover, a NAT that forgot it) is replaced within
	// about twice this, and Ready reports it meanwhile.
	PingEvery time.Duration
}

// ListenerApplicationName is the application_name of the listening
// connection.
const ListenerApplicationName = "natter-listener"

// NewListener returns a Listener for the PostgreSQL database at dsn.
func NewListener(dsn string, hub *Hub, log *slog.Logger) *Listener {
	return &Listener{dsn: dsn, hub: hub, log: log, MaxBackoff: 2 * time.Second, PingEvery: 5 * time.Second}
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
	// The store's limits: a connect timeout and TCP keepalives; and no
	// statement of the listener's (LISTEN, a ping) may take longer than a
	// ping is given.
	cfg, err := store.PostgresConfig(l.dsn, l.PingEvery)
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
	defer func() {
		// Closing says goodbye to the server, which on a silent
		// connection would wait as long as it is silent.
		closeCtx, cancel := context.WithTimeout(context.Background(), l.PingEvery)
		defer cancel()
		conn.Close(closeCtx)
	}()
	listenCtx, cancel := context.WithTimeout(ctx, l.PingEvery)
	_, err = conn.Exec(listenCtx, "LISTEN "+pgx.Identifier{store.NotifyChannel}.Sanitize())
	cancel()
	if err != nil {
		return err
	}
	l.heardNow()
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
			l.heardNow()
			l.relay(n.Payload)
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, context.DeadlineExceeded):
			// Silent for PingEvery: is anyone there? A ping that is
			// not answered in time ends this connection.
			ping, cancel := context.WithTimeout(ctx, l.PingEvery)
			err := conn.Ping(ping)
			cancel()
			if err != nil {
				return fmt.Errorf("ping: %w", err)
			}
			l.heardNow()
		default:
			return err
		}
	}
}

func (l *Listener) heardNow() { l.heard.Store(time.Now().UnixNano()) }

func (l *Listener) relay(payload string) {
	anns, err := store.ParseAnnouncements(payload)
	if err != nil {
		l.log.Warn("ignoring malformed announcement", "payload", payload, "err", err)
		return
	}
	for _, a := range anns {
		if a[0] == store.TimelineMember {
			if a[1] < 0 { // a post deleted
				l.hub.Unposted(-a[1])
			} else {
				l.hub.Posted(a[1])
			}
			continue
		}
		if a[1] == store.EndStreams {
			l.hub.Disconnect(a[0])
			continue
		}
		l.hub.Publish(Event{UserID: a[0], Seq: a[1]})
	}
}

// Ready reports an error while the listener is not connected, or has not
// heard from PostgreSQL for longer than a silent connection's check takes:
// the instance would then deliver other instances' events late.
func (l *Listener) Ready(context.Context) error {
	if !l.connected.Load() {
		return errors.New("notification listener not connected to PostgreSQL")
	}
	if silent := time.Since(time.Unix(0, l.heard.Load())); silent > 2*l.PingEvery {
		return fmt.Errorf("notification listener has not heard from PostgreSQL for %s", silent.Round(time.Second))
	}
	return nil
}
