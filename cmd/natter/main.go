// Command natter runs the natter community site.
//
//	natter [flags]               serve (the default)
//	natter migrate [flags]       apply database migrations and exit
//	natter backup [flags] FILE   copy the live SQLite database into FILE
//	natter user list|set-password NAME|logout NAME [flags]
//	                             manage members (see docs/operations.md)
//	natter -h                    list the subcommands and flags
//
// Configuration comes from flags, each of which defaults to an environment
// variable; see docs/operations.md. This is the only place that reads the
// environment: everything below receives plain values.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	_ "time/tzdata" // members' quiet hours are in their time zone, whatever the host has

	"github.com/jackc/pgx/v5/pgconn"

	"natter/internal/app"
	"natter/internal/deliver"
	"natter/internal/live"
	"natter/internal/mail"
	"natter/internal/natter"
	"natter/internal/store"
	"natter/internal/web"
	"natter/internal/webpush"
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
	if errors.Is(err, flag.ErrHelp) {
		return // the usage is printed; asking for it is no failure
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "natter:", err)
		os.Exit(1)
	}
}

// usage introduces the flags in natter -h.
const usage = `Usage:
  natter [flags]               serve the site (the default)
  natter migrate [flags]       apply database migrations and exit
  natter backup [flags] FILE   copy the live SQLite database into FILE
  natter user list|set-password NAME|logout NAME [flags]
                               manage members

All take the same flags; each defaults to the environment variable named
in parentheses (see docs/operations.md).

Flags:
`

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
	requestTimeout time.Duration
	siteName       string
	siteDesc       string
	startTimeout   time.Duration
	listenerPing   time.Duration
	// args are what follows the flags: the backup's file.
	args []string

	publicURL         string
	push              bool
	pushDelay         time.Duration
	pushContact       string
	pushAllowInsecure []string

	// Email: off unless smtpURL is set (mail.ParseConfig).
	mail        mail.Config
	emailDelay  time.Duration
	emailPerDay int
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
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
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
	fs.DurationVar(&c.requestTimeout, "request-timeout", duration(env("NATTER_REQUEST_TIMEOUT", "10s")), "how long a request (event streams excepted) may take, database calls included, before it is answered 503 (NATTER_REQUEST_TIMEOUT)")
	fs.StringVar(&c.siteName, "site-name", env("NATTER_SITE_NAME", web.DefaultSiteName), "the site's name, in every page's title and navbar and in emails (NATTER_SITE_NAME)")
	fs.StringVar(&c.siteDesc, "site-description", env("NATTER_SITE_DESCRIPTION", web.DefaultSiteDescription), "what the site is, in a sentence or two, on the front page logged-out visitors see (NATTER_SITE_DESCRIPTION)")
	fs.DurationVar(&c.startTimeout, "start-timeout", duration(env("NATTER_START_TIMEOUT", "1m")), "how long to keep retrying a database that cannot be reached at start (NATTER_START_TIMEOUT)")
	fs.DurationVar(&c.listenerPing, "listener-ping", duration(env("NATTER_LISTENER_PING", "5s")), "PostgreSQL: how long the notification listener's connection may be silent before it is checked, and the check may take (NATTER_LISTENER_PING)")
	fs.StringVar(&c.publicURL, "public-url", env("NATTER_PUBLIC_URL", ""), "the site's address as members reach it, such as https://natter.example.org (NATTER_PUBLIC_URL)")
	pushOn, pushErr := strconv.ParseBool(strings.NewReplacer("on", "true", "off", "false").Replace(strings.ToLower(env("NATTER_PUSH", "on"))))
	fs.BoolVar(&c.push, "push", pushOn, "send Web Push notifications; NATTER_PUSH=off turns them off (NATTER_PUSH)")
	fs.DurationVar(&c.pushDelay, "push-delay", duration(env("NATTER_PUSH_DELAY", "5s")), "grace period before a push: a member who reads within it is not pushed (NATTER_PUSH_DELAY)")
	fs.StringVar(&c.pushContact, "push-contact", env("NATTER_PUSH_CONTACT", ""), "operator contact push services see, https: URL or mailto: address; default the public URL (NATTER_PUSH_CONTACT)")
	allow := fs.String("push-allow-insecure", env("NATTER_PUSH_ALLOW_INSECURE", ""), "comma-separated host:port push services reached over plain http and at private addresses, for tests and private services (NATTER_PUSH_ALLOW_INSECURE)")
	smtpURL := fs.String("smtp-url", env("NATTER_SMTP_URL", ""), "SMTP server email goes through: smtp://[user:pass@]host:port (STARTTLS), smtps://…, or smtp://host:port?tls=none for a local server; empty: email off (NATTER_SMTP_URL)")
	mailFrom := fs.String("mail-from", env("NATTER_MAIL_FROM", ""), "sender of every email, such as \"natter <natter@example.org>\"; default natter@ the public URL's host (NATTER_MAIL_FROM)")
	fs.DurationVar(&c.emailDelay, "email-delay", duration(env("NATTER_EMAIL_DELAY", "10m")), "how long a message or mention stays unread, with no page of the member's open, before it is emailed (NATTER_EMAIL_DELAY)")
	fs.IntVar(&c.emailPerDay, "email-daily-cap", atoi(env("NATTER_EMAIL_DAILY_CAP", "50")), "notification emails a member gets at most per day (NATTER_EMAIL_DAILY_CAP)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	c.args = fs.Args()
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
	if c.requestTimeout <= 0 || c.startTimeout < 0 || c.listenerPing <= 0 || c.shutdownWait < 0 {
		return c, errors.New("bad -request-timeout, -start-timeout, -listener-ping or -shutdown-timeout")
	}
	var err error
	if c.sendLimit, err = parseLimit(*send); err != nil {
		return c, fmt.Errorf("bad -send-limit: %w", err)
	}
	if c.trustedProxies, err = parsePrefixes(*proxies); err != nil {
		return c, fmt.Errorf("bad -trusted-proxies: %w", err)
	}
	if pushErr != nil {
		return c, fmt.Errorf("bad NATTER_PUSH %q: want on or off", getenv("NATTER_PUSH"))
	}
	if c.pushDelay < 0 {
		return c, errors.New("bad -push-delay / NATTER_PUSH_DELAY: want a duration such as 5s")
	}
	if c.publicURL != "" {
		u, err := url.Parse(c.publicURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return c, fmt.Errorf("bad -public-url %q: want an http or https URL", c.publicURL)
		}
	}
	if c.emailDelay < 0 || c.emailPerDay < 1 {
		return c, errors.New("bad -email-delay or -email-daily-cap: want a duration such as 10m and a number from 1")
	}
	if c.mail, err = mail.ParseConfig(*smtpURL, *mailFrom, c.publicURL); err != nil {
		return c, err
	}
	c.mail.SiteName = c.siteName
	if c.pushContact != "" {
		if err := webpush.CheckSubject(c.pushContact); err != nil {
			return c, fmt.Errorf("bad -push-contact: %w", err)
		}
	}
	for _, hp := range strings.Split(*allow, ",") {
		if hp = strings.TrimSpace(hp); hp != "" {
			if _, _, err := net.SplitHostPort(hp); err != nil {
				return c, fmt.Errorf("bad -push-allow-insecure entry %q: want host:port", hp)
			}
			c.pushAllowInsecure = append(c.pushAllowInsecure, hp)
		}
	}
	return c, nil
}

// pushSubject is the contact in VAPID tokens: the operator's, else the
// public URL if it is https (RFC 8292 wants https: or mailto:).
func (c config) pushSubject() (subject string, fallback bool) {
	switch {
	case c.pushContact != "":
		return c.pushContact, false
	case strings.HasPrefix(c.publicURL, "https://"):
		return c.publicURL, false
	}
	return "mailto:natter@localhost", true
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

// runHooks let the tests follow run from outside; main passes none.
type runHooks struct {
	// listening receives the address once natter accepts connections.
	listening chan<- string
	// handling, if set, is told of each request as it enters natter's
	// handler: past the point where the server could still drop it for a
	// shutdown (ConnState's StateActive fires before that).
	handling func(*http.Request)
}

// run is main without the process: the tests call it, with hooks.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer, hooks *runHooks) error {
	if hooks == nil {
		hooks = &runHooks{}
	}
	var command string
	if len(args) > 0 && (args[0] == "migrate" || args[0] == "backup") {
		command, args = args[0], args[1:]
	}
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	if want := map[string]int{"backup": 1}[command]; len(cfg.args) != want {
		if command == "backup" {
			return errors.New("usage: natter backup [flags] FILE")
		}
		return fmt.Errorf("unexpected arguments: %q", cfg.args)
	}
	var handler slog.Handler = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.logLevel})
	if cfg.logFormat == "json" {
		handler = slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.logLevel})
	}
	logger := slog.New(handler)

	if command == "backup" {
		return backup(ctx, cfg.databaseURL, cfg.args[0], stderr)
	}

	db, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer closeStore(db, logger)
	version, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	logger.Info("database ready", "dialect", db.Dialect(), "database", redact(cfg.databaseURL), "schema_version", version)
	if command == "migrate" {
		return nil
	}
	noticeKey, err := db.Secret(ctx, "notice-key", 32)
	if err != nil {
		return err
	}

	// The goroutines below use the database: they end, and are waited
	// for, before it closes (defers run last first).
	var background sync.WaitGroup
	bgCtx, stopBackground := context.WithCancel(context.Background())
	defer background.Wait()
	defer stopBackground()

	hub := live.NewHub(cfg.streamsPerUser)
	ready := db.Ready
	if db.Dialect() == store.Postgres {
		// Other instances announce their commits through PostgreSQL; this
		// instance hears them on one dedicated connection.
		listener := live.NewListener(cfg.databaseURL, hub, logger)
		listener.PingEvery = cfg.listenerPing
		background.Go(func() { listener.Run(bgCtx) })
		ready = func(ctx context.Context) error {
			return errors.Join(db.Ready(ctx), listener.Ready(ctx))
		}
	}
	appCfg := app.Config{PostsPerPage: cfg.postsPerPage, SendPerMember: cfg.sendLimit, Channels: []app.Channel{}}
	if cfg.mail.Enabled() {
		if appCfg.MailKey, err = db.Secret(ctx, "mail-key", 32); err != nil {
			return err
		}
		logger.Info("email on", "smtp", cfg.mail.Server.String(), "from", cfg.mail.From.String(),
			"public_url", cfg.mail.PublicURL.String(), "delay", cfg.emailDelay, "daily_cap", cfg.emailPerDay)
	} else {
		logger.Info("email off: no -smtp-url (NATTER_SMTP_URL); addresses are not checked and nothing is emailed")
	}
	if cfg.push || cfg.mail.Enabled() {
		engine, stopEngine, err := startDelivery(cfg, db, hub, appCfg.MailKey, logger)
		if err != nil {
			return err
		}
		// Deferred after db.Close: the engine stops, and its sends in
		// flight end, before the database closes.
		defer stopEngine()
		appCfg.Deliveries = engine.Engine
		if cfg.push {
			appCfg.Channels = append(appCfg.Channels, app.Channel{Name: natter.ChannelPush, Delay: cfg.pushDelay})
			appCfg.PushKey, appCfg.Endpoints = engine.key.PublicKey(), engine.sender
		}
		if cfg.mail.Enabled() {
			appCfg.Channels = append(appCfg.Channels, app.Channel{Name: natter.ChannelEmail, Delay: cfg.emailDelay})
		}
	}
	a, err := app.New(db, hub, appCfg)
	if err != nil {
		return err
	}
	metrics := newRegistry(db)
	srv, err := web.New(web.Config{
		App:             a,
		Hub:             hub,
		Sessions:        db.Sessions(),
		SessionCodec:    store.SessionCodec{},
		Logger:          logger,
		SecureCookies:   cfg.secureCookies,
		TrustedProxies:  cfg.trustedProxies,
		Heartbeat:       cfg.heartbeat,
		Ready:           ready,
		Metrics:         metrics,
		NoticeKey:       noticeKey,
		RequestTimeout:  cfg.requestTimeout,
		SiteName:        cfg.siteName,
		SiteDescription: cfg.siteDesc,
	})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return err
	}
	httpSrv := srv.HTTPServer(cfg.addr)
	// Every request's context descends from this one, so that what still
	// runs when the shutdown timeout is up can be cancelled.
	requests, cancelRequests := context.WithCancel(context.Background())
	defer cancelRequests()
	httpSrv.BaseContext = func(net.Listener) context.Context { return requests }
	if hooks.handling != nil {
		site := httpSrv.Handler
		httpSrv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hooks.handling(r)
			site.ServeHTTP(w, r)
		})
	}
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

	background.Go(func() { sweepSessions(bgCtx, db, logger) })

	logger.Info("natter listening", "url", "http://"+ln.Addr().String(), "database", redact(cfg.databaseURL))
	if hooks.listening != nil {
		hooks.listening <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- httpSrv.Serve(ln) }()

	var serveErr error
	select {
	case serveErr = <-errc: // the listener failed: shut down all the same
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.shutdownWait)
	defer cancel()
	if err := httpSrv.Shutdown(shutdownCtx); err != nil {
		// Requests still running (a write stuck on a lock, a database
		// that does not answer) are cancelled rather than waited for:
		// what they had not committed is not done, and their members
		// were not told it was.
		logger.Warn("shutdown timeout reached; cancelling the requests still running", "timeout", cfg.shutdownWait)
		cancelRequests()
		httpSrv.Close()
	}
	// Streams over HTTP/1 run off net/http's connections, which Shutdown
	// neither waits for nor closes; the hub has ended them.
	if err := srv.ShutdownStreams(shutdownCtx); err != nil {
		logger.Warn("shutdown timeout reached; closed the event streams still running", "timeout", cfg.shutdownWait)
	}
	if serveErr == nil {
		serveErr = <-errc
	}
	if !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	logger.Info("stopped")
	return nil
}

// closeStoreWait bounds closing the database at exit: a statement that
// does not end when its request is cancelled must not keep the process.
const closeStoreWait = time.Second

// closeStore closes db, waiting at most closeStoreWait.
func closeStore(db *store.Store, logger *slog.Logger) {
	done := make(chan error, 1)
	go func() { done <- db.Close() }()
	select {
	case err := <-done:
		if err != nil {
			logger.Warn("close database", "err", err)
		}
	case <-time.After(closeStoreWait):
		logger.Warn("database still busy at exit; leaving it to the operating system", "waited", closeStoreWait)
	}
}

// openStore opens the database, and while it cannot be reached (a
// PostgreSQL server still starting, a network not yet up) tries again with
// growing pauses for up to cfg.startTimeout, logging each attempt, so that
// natter and its database may start in either order.
func openStore(ctx context.Context, cfg config, logger *slog.Logger) (*store.Store, error) {
	opts := store.Options{MaxConns: cfg.maxConns, StatementTimeout: cfg.requestTimeout}
	giveUp := time.Now().Add(cfg.startTimeout)
	pause := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		db, err := store.Open(ctx, cfg.databaseURL, opts)
		if err == nil {
			return db, nil
		}
		var parseErr *pgconn.ParseConfigError
		if errors.As(err, &parseErr) || ctx.Err() != nil || time.Now().Add(pause).After(giveUp) {
			return nil, err
		}
		logger.Warn("database not reachable; trying again", "attempt", attempt, "in", pause, "database", redact(cfg.databaseURL), "err", err)
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(pause):
		}
		pause = min(2*pause, 5*time.Second)
	}
}

// backup copies the live SQLite database into file and says how big it is
// and how long it took.
func backup(ctx context.Context, dsn, file string, out io.Writer) error {
	res, err := store.Backup(ctx, dsn, file)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "natter: backed up %s to %s: %.1f MB in %s\n", dsn, file, float64(res.Size)/1e6, res.Duration.Round(time.Millisecond))
	return nil
}

// delivery is the running delivery engine and what the app needs of it.
type delivery struct {
	*deliver.Engine
	key    *webpush.VAPIDKey
	sender *webpush.Sender
}

// startDelivery starts the delivery engine with the channels that are on
// (and, on PostgreSQL, this instance's presence record). stop ends both and
// waits for them.
func startDelivery(cfg config, db *store.Store, hub *live.Hub, mailKey []byte, logger *slog.Logger) (delivery, func(), error) {
	ctx, cancel := context.WithCancel(context.Background())
	var d delivery
	var channels []deliver.Channel
	var presence deliver.Presence = deliver.LocalPresence{Streams: hub}
	presenceDone := make(chan struct{})
	if db.Dialect() == store.Postgres {
		shared := &deliver.SharedPresence{Streams: hub, Store: db, Instance: rand.Text(), Logger: logger}
		presence = shared
		go func() { shared.Run(ctx); close(presenceDone) }()
	} else {
		close(presenceDone)
		// One process per SQLite file: jobs a dead process had taken are
		// free now, rather than when their lease ends.
		if err := db.ReleaseLeases(ctx); err != nil {
			cancel()
			return delivery{}, nil, err
		}
	}
	fail := func(err error) (delivery, func(), error) {
		cancel()
		<-presenceDone
		return delivery{}, nil, err
	}
	if cfg.push {
		push, err := startPush(ctx, cfg, db, logger)
		if err != nil {
			return fail(err)
		}
		d.key, d.sender = push.key, push.sender
		channels = append(channels, &deliver.Push{Store: db, Sender: push.sender})
	}
	if cfg.mail.Enabled() {
		sender, err := mail.NewSender(cfg.mail)
		if err != nil {
			return fail(err)
		}
		composer, err := mail.NewComposer(cfg.mail)
		if err != nil {
			return fail(err)
		}
		channels = append(channels, &deliver.Email{
			Store: db, Presence: presence, Sender: sender, Composer: composer, MaxPerDay: cfg.emailPerDay, Logger: logger,
			Unsubscribe: func(userID int64, list string) string { return app.UnsubscribePath(mailKey, userID, list) },
		})
	}
	engine, err := deliver.New(deliver.Options{Store: db, Presence: presence, Logger: logger, Channels: channels})
	if err != nil {
		return fail(err)
	}
	d.Engine = engine
	engineDone := make(chan struct{})
	go func() { engine.Run(ctx); close(engineDone) }()
	digestsDone := make(chan struct{})
	if cfg.mail.Enabled() {
		go func() { deliver.RunDigests(ctx, db, engine, time.Hour, logger); close(digestsDone) }()
	} else {
		close(digestsDone)
	}
	stop := func() {
		cancel()
		<-engineDone
		<-digestsDone
		<-presenceDone
		if d.sender != nil {
			d.sender.Close()
		}
	}
	return d, stop, nil
}

// startPush makes the push channel's key (on first start) and sender.
func startPush(ctx context.Context, cfg config, db *store.Store, logger *slog.Logger) (delivery, error) {
	raw, err := db.SiteKey(ctx, "vapid", func() ([]byte, error) {
		k, err := webpush.GenerateVAPIDKey()
		if err != nil {
			return nil, err
		}
		return k.MarshalBinary()
	})
	if err != nil {
		return delivery{}, err
	}
	key, err := webpush.ParseVAPIDKey(raw)
	if err != nil {
		return delivery{}, err
	}
	subject, fallback := cfg.pushSubject()
	if fallback {
		logger.Warn("push: no -push-contact and no https -public-url; push services such as Apple's may refuse pushes", "contact", subject)
	}
	sender, err := webpush.NewSender(webpush.Options{Key: key, Subject: subject, AllowInsecure: cfg.pushAllowInsecure})
	if err != nil {
		return delivery{}, err
	}
	logger.Info("push on", "delay", cfg.pushDelay, "contact", subject)
	return delivery{key: key, sender: sender}, nil
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
