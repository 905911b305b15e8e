// Command natter runs the natter community site.
//
//	natter [flags]            serve (the default)
//	natter migrate [flags]    apply database migrations and exit
//	natter user list|set-password NAME|logout NAME [flags]
//	                          manage members (see docs/operations.md)
//
// Configuration comes from flags, each of which defaults to an environment
// variable; see docs/operations.md. This is the only place that reads the
// environment: everything below receives plain values.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"natter/internal/app"
	"natter/internal/live"
	"natter/internal/store"
	"natter/internal/web"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if len(os.Args) > 1 && os.Args[1] == "user" {
		err = runUser(ctx, os.Args[2:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	} else {
		err = run(ctx, os.Args[1:], os.Getenv, os.Stderr, nil)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "natter:", err)
		os.Exit(1)
	}
}

// config is natter's configuration.
type config struct {
	addr           string
	databaseURL    string
	postsPerPage   int
	maxConns       int
	logFormat      string
	logLevel       slog.Level
	secureCookies  bool
	trustedProxies []netip.Prefix
	heartbeat      time.Duration
	streamsPerUser int
	sendLimit      app.Limit
	shutdownWait   time.Duration
	debugAddr      string
}

// parseConfig reads flags, whose defaults come from the environment.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	env := func(key, def string) string {
		if v := getenv(key); v != "" {
			return v
		}
		return def
	}
	var c config
	fs := flag.NewFlagSet("natter", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", env("NATTER_ADDR", "localhost:8080"), "listen address (NATTER_ADDR)")
	fs.StringVar(&c.databaseURL, "database-url", env("DATABASE_URL", "natter.db"), "SQLite file path, or a postgres:// URL (DATABASE_URL)")
	fs.IntVar(&c.postsPerPage, "posts-per-page", atoi(env("POSTS_PER_PAGE", "10")), "page size of every list (POSTS_PER_PAGE)")
	fs.IntVar(&c.maxConns, "max-db-conns", atoi(env("NATTER_MAX_DB_CONNS", "0")), "database pool size; 0 picks a default (NATTER_MAX_DB_CONNS)")
	fs.StringVar(&c.logFormat, "log-format", env("NATTER_LOG_FORMAT", "text"), "log format: text or json (NATTER_LOG_FORMAT)")
	level := fs.String("log-level", env("NATTER_LOG_LEVEL", "info"), "log level: debug, info, warn, error (NATTER_LOG_LEVEL)")
	fs.BoolVar(&c.secureCookies, "secure-cookies", env("NATTER_SECURE_COOKIES", "") == "1" || env("NATTER_SECURE_COOKIES", "") == "true", "mark cookies Secure; set when served over HTTPS (NATTER_SECURE_COOKIES=1)")
	proxies := fs.String("trusted-proxies", env("NATTER_TRUSTED_PROXIES", ""), "comma-separated addresses or CIDRs whose X-Forwarded-For is believed (NATTER_TRUSTED_PROXIES)")
	fs.DurationVar(&c.heartbeat, "heartbeat", duration(env("NATTER_HEARTBEAT", "25s")), "interval of keep-alive comments on idle event streams (NATTER_HEARTBEAT)")
	fs.IntVar(&c.streamsPerUser, "streams-per-member", atoi(env("NATTER_STREAMS_PER_MEMBER", "8")), "open event streams allowed per member; a new one closes the oldest (NATTER_STREAMS_PER_MEMBER)")
	send := fs.String("send-limit", env("NATTER_SEND_LIMIT", "60/1m"), "private messages a member may send, as N/duration (NATTER_SEND_LIMIT)")
	fs.DurationVar(&c.shutdownWait, "shutdown-timeout", duration(env("NATTER_SHUTDOWN_TIMEOUT", "10s")), "how long to wait for requests to finish on shutdown (NATTER_SHUTDOWN_TIMEOUT)")
	fs.StringVar(&c.debugAddr, "debug-addr", env("NATTER_DEBUG_ADDR", ""), "serve Prometheus metrics at http://ADDR/metrics and Go profiles at /debug/pprof/; keep it private; empty serves none (NATTER_DEBUG_ADDR)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if err := c.logLevel.UnmarshalText([]byte(*level)); err != nil {
		return c, fmt.Errorf("bad -log-level %q", *level)
	}
	if c.logFormat != "text" && c.logFormat != "json" {
		return c, fmt.Errorf("bad -log-format %q: want text or json", c.logFormat)
	}
	if c.postsPerPage < 1 || c.postsPerPage > 100 {
		return c, fmt.Errorf("bad -posts-per-page / POSTS_PER_PAGE: want 1 to 100")
	}
	if c.heartbeat <= 0 || c.streamsPerUser < 1 {
		return c, errors.New("bad -heartbeat or -streams-per-member")
	}
	var err error
	if c.sendLimit, err = parseLimit(*send); err != nil {
		return c, fmt.Errorf("bad -send-limit: %w", err)
	}
	if c.trustedProxies, err = parsePrefixes(*proxies); err != nil {
		return c, fmt.Errorf("bad -trusted-proxies: %w", err)
	}
	return c, nil
}

// atoi and duration turn a malformed environment value into an invalid one
// that the checks above reject, rather than silently into a default.
func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

func duration(s string) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		return -1
	}
	return d
}

// parseLimit reads "N/duration", such as "60/1m".
func parseLimit(s string) (app.Limit, error) {
	n, per, ok := strings.Cut(s, "/")
	events, err1 := strconv.Atoi(n)
	d, err2 := time.ParseDuration(per)
	if !ok || err1 != nil || err2 != nil || events < 1 || d <= 0 {
		return app.Limit{}, fmt.Errorf("%q is not N/duration, such as 60/1m", s)
	}
	return app.Limit{Events: events, Per: d}, nil
}

func parsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, err
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// run is main without the process: the tests call it. If ready is not
// nil, it receives the listening address once natter accepts connections.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer, listening chan<- string) error {
	migrateOnly := len(args) > 0 && args[0] == "migrate"
	if migrateOnly {
		args = args[1:]
	}
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	var handler slog.Handler = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.logLevel})
	if cfg.logFormat == "json" {
		handler = slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.logLevel})
	}
	logger := slog.New(handler)

	db, err := store.Open(ctx, cfg.databaseURL, store.Options{MaxConns: cfg.maxConns})
	if err != nil {
		return err
	}
	defer db.Close()
	version, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	logger.Info("database ready", "dialect", db.Dialect(), "database", redact(cfg.databaseURL), "schema_version", version)
	if migrateOnly {
		return nil
	}

	hub := live.NewHub(cfg.streamsPerUser)
	ready := db.Ping
	if db.Dialect() == store.Postgres {
		// Other instances announce their commits through PostgreSQL; this
		// instance hears them on one dedicated connection.
		listener := live.NewListener(cfg.databaseURL, hub, logger)
		listenCtx, stopListening := context.WithCancel(context.Background())
		defer stopListening()
		go listener.Run(listenCtx)
		ready = func(ctx context.Context) error {
			return errors.Join(db.Ping(ctx), listener.Ready(ctx))
		}
	}
	a, err := app.New(db, hub, app.Config{PostsPerPage: cfg.postsPerPage, SendPerMember: cfg.sendLimit})
	if err != nil {
		return err
	}
	metrics := newRegistry(db)
	srv, err := web.New(web.Config{
		App:            a,
		Hub:            hub,
		Sessions:       db.Sessions(),
		SessionCodec:   store.SessionCodec{},
		Logger:         logger,
		SecureCookies:  cfg.secureCookies,
		TrustedProxies: cfg.trustedProxies,
		Heartbeat:      cfg.heartbeat,
		Ready:          ready,
		Metrics:        metrics,
	})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	httpSrv := srv.HTTPServer(cfg.addr)
	// Event streams never end by themselves: end them when shutdown
	// begins, so that Shutdown waits only for the requests in flight (and
	// browsers reconnect elsewhere, resuming from Last-Event-ID).
	httpSrv.RegisterOnShutdown(hub.CloseAll)

	if cfg.debugAddr != "" {
		dln, err := net.Listen("tcp", cfg.debugAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("debug listener: %w", err)
		}
		dsrv := serveDebug(dln, metrics, logger)
		defer dsrv.Close()
		logger.Info("debug listening", "metrics", "http://"+dln.Addr().String()+"/metrics", "pprof", "http://"+dln.Addr().String()+"/debug/pprof/")
	}

	go sweepSessions(ctx, db, logger)

	logger.Info("natter listening", "url", "http://"+ln.Addr().String(), "database", redact(cfg.databaseURL))
	if listening != nil {
		listening <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- httpSrv.Serve(ln) }()

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.shutdownWait)
	defer cancel()
	if err := httpSrv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}

// sweepSessions deletes expired sessions every hour.
func sweepSessions(ctx context.Context, db *store.Store, logger *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := db.Sessions().DeleteExpired(ctx); err != nil {
				logger.Warn("delete expired sessions", "err", err)
			} else if n > 0 {
				logger.Info("deleted expired sessions", "count", n)
			}
		}
	}
}

// redact hides a password in a database URL before it is logged.
func redact(dsn string) string {
	if !store.IsPostgresURL(dsn) {
		return dsn
	}
	if i, j := strings.Index(dsn, "://"), strings.LastIndex(dsn, "@"); i >= 0 && j > i {
		if k := strings.Index(dsn[i+3:j], ":"); k >= 0 {
			return dsn[:i+3+k+1] + "xxxxx" + dsn[j:]
		}
	}
	return dsn
}
