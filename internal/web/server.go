// Package web is natter's HTTP interface: the route table (routes.go), one
// file per area of the site, middleware, and rendering of the embedded
// templates and static files.
package web

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/prometheus/client_golang/prometheus"

	"natter/internal/app"
	"natter/internal/live"
	"natter/internal/natter"
)

// Config is what the server needs. Everything is passed in by cmd/natter;
// this package reads no environment.
type Config struct {
	App      *app.App
	Hub      *live.Hub
	Sessions scs.Store // the database-backed session store
	// SessionCodec encodes session data for Sessions (the store's own
	// format); sessions it cannot read count as none.
	SessionCodec scs.Codec
	Logger       *slog.Logger

	// SecureCookies marks cookies Secure. Set it when natter is reached over
	// HTTPS (directly or through a TLS-terminating proxy).
	SecureCookies bool
	// TrustedProxies are the addresses whose X-Forwarded-For header is
	// believed when telling clients apart for rate limits.
	TrustedProxies []netip.Prefix
	// Heartbeat is how often an idle event stream sends a comment so that
	// proxies keep it open. Default 25 s.
	Heartbeat time.Duration
	// StreamWriteTimeout bounds each write to an event stream over
	// HTTP/1.1, and any write to an HTTP/2 connection: a client that stops
	// reading is dropped rather than holding a stream forever. Default 15 s.
	StreamWriteTimeout time.Duration
	// Ready reports whether the instance can serve (database, listener);
	// nil means always.
	Ready func(context.Context) error
	// Metrics is where the server registers its Prometheus metrics; nil
	// means a private registry nobody reads.
	Metrics prometheus.Registerer
	// NoticeKey signs the one-time notices pages show after an action
	// (notice.go). Instances behind one address need the same key; nil
	// means a random one, fine for a single instance.
	NoticeKey []byte
	// RequestTimeout bounds every request but the event stream, database
	// calls included: a request still waiting then is answered "try again"
	// rather than holding its member and a connection. Default 10 s.
	RequestTimeout time.Duration
	// SiteName is the site's name, in every page's title and navbar;
	// SiteDescription says, on the front page logged-out visitors see,
	// what the site is. Default "natter" and a line about natter.
	SiteName, SiteDescription string
}

// Defaults of Config.SiteName and SiteDescription.
const (
	DefaultSiteName        = "natter"
	DefaultSiteDescription = "A small community: short posts on a shared timeline, private messages, and word the moment something new is there for you."
)

// Server serves natter over HTTP.
type Server struct {
	app      *app.App
	hub      *live.Hub
	sessions *scs.SessionManager
	log      *slog.Logger
	pages    map[string]*pageTemplate
	frags    *keptPartials // the kept partials (fragments.go)
	assets   *assets
	metrics  *metrics
	notices  notices
	cfg      Config
	front    *frontDoor      // routes(): the middleware and the URL map
	detached detachedStreams // event streams off net/http (stream.detach)
}

// New returns a Server. It parses every template and fingerprints every
// static file, so a broken template stops the start, not a member's page.
func New(cfg Config) (*Server, error) {
	if cfg.App == nil || cfg.Hub == nil || cfg.Sessions == nil || cfg.SessionCodec == nil {
		return nil, errors.New("web: App, Hub, Sessions and SessionCodec are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = 25 * time.Second
	}
	if cfg.StreamWriteTimeout <= 0 {
		cfg.StreamWriteTimeout = 15 * time.Second
	}
	if cfg.Metrics == nil {
		cfg.Metrics = prometheus.NewRegistry()
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 10 * time.Second
	}
	if cfg.SiteName == "" {
		cfg.SiteName = DefaultSiteName
	}
	if cfg.SiteDescription == "" {
		cfg.SiteDescription = DefaultSiteDescription
	}
	if cfg.NoticeKey == nil {
		cfg.NoticeKey = make([]byte, 32)
		rand.Read(cfg.NoticeKey)
	}
	s := &Server{app: cfg.App, hub: cfg.Hub, log: cfg.Logger, cfg: cfg}
	s.notices = notices{key: cfg.NoticeKey, secure: cfg.SecureCookies, now: time.Now}
	s.metrics = newMetrics(cfg.Metrics, cfg.Hub.Streams)

	var err error
	if s.assets, err = loadAssets(cfg.SiteName, cfg.SiteDescription); err != nil {
		return nil, fmt.Errorf("web: static files: %w", err)
	}
	if s.pages, err = s.parseTemplates(); err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}

	sm := scs.New()
	sm.Store = cfg.Sessions
	// The longest any session lasts; idle sessions end sooner
	// (app.IdleWithoutRemember, app.IdleWithRemember).
	sm.Lifetime = app.MaxSessionAge
	sm.Codec = forgivingCodec{Codec: cfg.SessionCodec, lifetime: sm.Lifetime}
	sm.Cookie.Name = "natter_session"
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = cfg.SecureCookies
	// Without "remember me" the cookie ends with the browser session.
	sm.Cookie.Persist = false
	s.sessions = sm

	s.front = s.routes()
	return s, nil
}

// forgivingCodec is the configured codec, except that a session it cannot
// read (damaged, or written by some other version) reads as an empty one:
// its member logs in again, rather than getting an error on every page
// until the cookie goes.
type forgivingCodec struct {
	scs.Codec
	lifetime time.Duration
}

func (c forgivingCodec) Decode(data []byte) (time.Time, map[string]any, error) {
	deadline, values, err := c.Codec.Decode(data)
	if err != nil {
		return time.Now().Add(c.lifetime), map[string]any{}, nil
	}
	return deadline, values, nil
}

// ServeHTTP makes Server an http.Handler: it serves r through the
// middleware (frontDoor), then the event stream r became, if it did: on
// this goroutine, or, when the stream has taken its HTTP/1 connection from
// net/http (stream.detach), on one of its own.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x := s.front.serve(w, r)
	if x == nil {
		return
	}
	if x.stream.start(&x.rec, &s.detached) {
		go s.runDetached(x)
		return
	}
	defer s.logRequest(x)
	defer s.recovered(&x.rec, x.r)
	x.stream.serve()
}

// runDetached serves a detached stream with the middleware's log line
// around it, and closes its connection last, so that a client that sees
// the stream end finds it logged and counted. Nothing below it takes a
// panic, so it recovers them all (recoveredOff).
func (s *Server) runDetached(x *exchange) {
	defer s.detached.hangUp(x.stream.conn)
	defer s.logRequest(x)
	defer s.recoveredOff(x.r)
	x.stream.serve()
}

// ShutdownStreams does for the event streams that run off net/http's
// connections (stream.detach) what http.Server.Shutdown does for the
// connections it serves, which do not include these: from now on no
// stream detaches, and it waits for the detached ones to end (ending
// their subscriptions ends them: live.Hub.CloseAll, which cmd/natter has
// Shutdown call). If ctx ends first, it closes their connections and
// returns ctx's error.
func (s *Server) ShutdownStreams(ctx context.Context) error {
	return s.detached.shutdown(ctx)
}

// detachedStreams keeps the connections of detached event streams, so that
// shutdown can wait for them or close them, as http.Server does for its own.
type detachedStreams struct {
	wg      sync.WaitGroup
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	closing bool // by shutdown: no more streams detach
}

// take hijacks a stream's connection and keeps it, unless shutdown has
// begun or the connection cannot be taken.
func (d *detachedStreams) take(hijack func() (net.Conn, *bufio.ReadWriter, error)) (net.Conn, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closing {
		return nil, false
	}
	conn, _, err := hijack()
	if err != nil {
		return nil, false
	}
	// The read and write buffers Hijack returns are left to the collector:
	// the write buffer is empty (the header was flushed), and a client
	// waiting on its stream has sent nothing since its request.
	if d.conns == nil {
		d.conns = make(map[net.Conn]struct{})
	}
	d.conns[conn] = struct{}{}
	d.wg.Add(1) // under mu: shutdown's Wait comes after, or sees closing
	return conn, true
}

// hangUp closes a detached stream's connection and forgets it.
func (d *detachedStreams) hangUp(conn net.Conn) {
	conn.Close()
	d.mu.Lock()
	delete(d.conns, conn)
	d.mu.Unlock()
	d.wg.Done()
}

func (d *detachedStreams) shutdown(ctx context.Context) error {
	d.mu.Lock()
	d.closing = true
	d.mu.Unlock()
	done := make(chan struct{})
	go func() {
		d.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	d.mu.Lock()
	for conn := range d.conns {
		conn.Close() // its stream's next write fails, and it ends
	}
	d.mu.Unlock()
	return ctx.Err()
}

// HTTPServer returns an http.Server for s with timeouts against slow
// clients. There is no server-wide WriteTimeout, which would cut every event
// stream: pages get a write deadline per response instead (see middleware).
//
// Besides HTTP/1.1 it speaks HTTP/2 without TLS (h2c, prior knowledge), so
// that a proxy or load balancer that supports it can carry many members'
// event streams over a few connections instead of one each.
func (s *Server) HTTPServer(addr string) *http.Server {
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	return &http.Server{
		Protocols: &protocols,
		HTTP2: &http.HTTP2Config{
			// Go's HTTP/2 write scheduler visits every stream of a
			// connection for each frame it writes, so a connection
			// carrying a thousand idle event streams spends more on
			// each heartbeat than on the write itself; 50 keeps it
			// cheap (a proxy opens more connections instead).
			MaxConcurrentStreams: 50,
			// A connection that takes no bytes for this long is closed:
			// HTTP/2 event streams have no per-write deadline.
			WriteByteTimeout: s.cfg.StreamWriteTimeout,
		},
		Addr:              addr,
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// ctxKey keys request context values of this package.
type ctxKey int

const (
	userKey  ctxKey = iota
	loginKey        // the natter.Login of the request's session
	sinceKey
	exchangeKey // the request's *exchange (frontDoor)
)

// me returns the logged-in member, if any.
func me(r *http.Request) (natter.Account, bool) {
	u, ok := r.Context().Value(userKey).(natter.Account)
	return u, ok
}
