// Command natter-load measures natter on this machine and writes the figures
// and plots into docs/benchmarks.md and docs/plots/ (issue 6):
//
//  1. live delivery: C concurrent /events streams, then a steady flow of
//     messages; latency from the commit's timestamp to the event's arrival;
//  2. capacity and cost: server memory per stream, CPU of idle streams,
//     against polling /notifications every 10 s;
//  3. pages: requests/s and latency of the main pages, next to a trivial Go
//     handler in the same run;
//  4. data growth: the same pages with 10 thousand and 10 million posts and
//     messages;
//  5. writes: messages per second through the app layer, on SQLite and on
//     PostgreSQL with two instances.
//
// natter runs as a child process on a fresh database, so that its memory and
// CPU are read from /proc. Only loopback addresses are used; every phase is
// bounded in time and count.
//
//	go run -C cmd/natter-load . -quick            # seconds: a smoke run
//	go run -C cmd/natter-load . -scenario all     # writes ../../docs/
//
// It is a module of its own (cmd/natter-load/go.mod, with natter replaced
// by this checkout), so that its plotting libraries stay out of natter's
// go.mod.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"natter/internal/store"
)

type options struct {
	scenarios      map[string]bool
	out            string
	quick          bool
	work           string
	keep           bool
	natterBin      string
	profileDir     string
	pgURL          string
	serverLogLevel string
	timeout        time.Duration
	fromJSON       string
	quietWait      time.Duration
	quietBelow     float64

	// live delivery and cost
	streams, h1Streams []int
	costStreams        int
	rate               int
	flow               time.Duration
	idle               time.Duration
	poll, pollEvery    time.Duration
	ips                int
	perConn            int
	senders            int
	openConcurrency    int

	// pages and data growth
	pageDur, pageWarm    time.Duration
	pageWorkers          int
	pageMembers          int
	smallRows, largeRows int
	skipLarge            bool

	// streams: one idle stream's cost against a trivial SSE server
	costH1Streams   int
	streamHeartbeat time.Duration
	streamIdle      time.Duration

	// soak
	soakDur      time.Duration
	soakStreams  int
	soakProto    string
	soakRate     int
	soakPageRate int

	// writes
	writeDur     time.Duration
	writeWorkers int
	writeMembers int
}

func main() {
	if err := mainErr(); err != nil {
		fmt.Fprintln(os.Stderr, "natter-load:", err)
		os.Exit(1)
	}
}

func mainErr() error {
	var o options
	fs := flag.NewFlagSet("natter-load", flag.ContinueOnError)
	scenario := fs.String("scenario", "all", "what to run: all (live, pages, writes, streams), or a comma list of live (1, 2), pages (3, 4), writes (5), streams (one idle stream's cost, natter against a trivial SSE server), soak (everything at once for -soak-duration)")
	fs.StringVar(&o.out, "out", "", "directory of benchmarks.md and plots/ (default: docs/ of the natter checkout)")
	fs.BoolVar(&o.quick, "quick", false, "small sizes and short phases (a smoke run of seconds); explicit flags still win")
	fs.StringVar(&o.work, "work", "", "working directory for databases and logs (default: a new temporary one)")
	fs.BoolVar(&o.keep, "keep", false, "keep the working directory")
	fs.StringVar(&o.natterBin, "natter-bin", "", "natter binary to run (default: go build ./cmd/natter)")
	fs.StringVar(&o.profileDir, "profile-dir", "", "save natter's CPU and heap profiles here (from its -debug-addr)")
	fs.StringVar(&o.pgURL, "postgres", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "PostgreSQL server for the writes scenario (a fresh database is created on it and dropped); empty skips it")
	fs.StringVar(&o.serverLogLevel, "server-log-level", "info", "natter's NATTER_LOG_LEVEL (info logs every request, as natter does by default)")
	fs.DurationVar(&o.timeout, "timeout", 45*time.Minute, "stop everything after this long")
	fs.DurationVar(&o.quietWait, "quiet-wait", time.Minute, "before each measured phase, wait up to this long for the rest of the machine to go quiet")
	fs.Float64Var(&o.quietBelow, "quiet-below", 25, "quiet means other processes use less than this % of one core")
	fs.StringVar(&o.fromJSON, "from-json", "", "only write the report and plots from a results.json of an earlier run")

	streams := fs.String("streams", "1000,10000,100000", "live delivery: stream counts over HTTP/2 (h2c)")
	h1Streams := fs.String("h1-streams", "1000,10000", "live delivery: stream counts over HTTP/1.1, one connection each")
	fs.IntVar(&o.costStreams, "cost-streams", 10000, "capacity and cost: idle streams whose CPU is measured, and members who poll instead")
	fs.IntVar(&o.rate, "rate", 100, "live delivery: messages per second")
	fs.DurationVar(&o.flow, "flow", 30*time.Second, "live delivery: how long messages flow")
	fs.DurationVar(&o.idle, "idle", time.Minute, "capacity and cost: how long idle streams' CPU is measured")
	fs.DurationVar(&o.poll, "poll", time.Minute, "capacity and cost: how long polling's CPU is measured")
	fs.DurationVar(&o.pollEvery, "poll-every", 10*time.Second, "capacity and cost: each member's polling interval (the seed's)")
	fs.IntVar(&o.ips, "source-ips", 10, "client source addresses 127.0.0.2 and up")
	fs.IntVar(&o.perConn, "streams-per-conn", 50, "HTTP/2 streams per client connection (natter allows 50)")
	fs.IntVar(&o.senders, "senders", 20, "live delivery: members who send (they do not stream)")
	fs.IntVar(&o.openConcurrency, "open-concurrency", 256, "streams being opened at once")

	fs.DurationVar(&o.pageDur, "page-duration", 10*time.Second, "pages: measured time per page")
	fs.DurationVar(&o.pageWarm, "page-warmup", 2*time.Second, "pages: unmeasured warm-up per page")
	fs.IntVar(&o.pageWorkers, "page-workers", 32, "pages: concurrent closed-loop clients, each its own member")
	fs.IntVar(&o.pageMembers, "page-members", 1000, "pages: members in the database (few enough that every page is full at the smaller size)")
	fs.IntVar(&o.smallRows, "small-rows", 10_000, "data growth: posts and messages (each) of the small database")
	fs.IntVar(&o.largeRows, "large-rows", 10_000_000, "data growth: posts and messages (each) of the large database")
	fs.BoolVar(&o.skipLarge, "skip-large", false, "pages: measure the small database only")

	fs.DurationVar(&o.writeDur, "write-duration", 10*time.Second, "writes: measured time per engine")
	fs.IntVar(&o.writeWorkers, "write-workers", 16, "writes: goroutines calling SendMessage")
	fs.IntVar(&o.writeMembers, "write-members", 1000, "writes: members who write to each other")

	fs.IntVar(&o.costH1Streams, "stream-cost-streams", 1000, "streams: idle streams per server and protocol")
	fs.DurationVar(&o.streamHeartbeat, "stream-heartbeat", time.Second, "streams: heartbeat interval of both servers (natter's default is 25s; shorter makes a heartbeat's cost measurable)")
	fs.DurationVar(&o.streamIdle, "stream-idle", 30*time.Second, "streams: how long the idle streams' CPU is measured")

	fs.DurationVar(&o.soakDur, "soak-duration", 10*time.Minute, "soak: how long it runs")
	fs.IntVar(&o.soakStreams, "soak-streams", 1000, "soak: open event streams")
	fs.StringVar(&o.soakProto, "soak-proto", protoH1, "soak: the streams' protocol, http/1.1 (one connection each) or h2c")
	fs.IntVar(&o.soakRate, "soak-rate", 50, "soak: messages sent per second")
	fs.IntVar(&o.soakPageRate, "soak-page-rate", 50, "soak: pages read per second")

	// Hidden modes: natter-load starts itself as these children.
	trivial := fs.Bool("trivial", false, "(internal) serve the trivial handler on -addr")
	trivialSSE := fs.Bool("trivial-sse", false, "(internal) serve the trivial SSE server on -addr, heartbeats every -heartbeat")
	heartbeat := fs.Duration("heartbeat", time.Second, "(internal) heartbeat interval of -trivial-sse")
	addr := fs.String("addr", "127.0.0.1:0", "(internal) listen address of -trivial and -trivial-sse")

	if err := fs.Parse(os.Args[1:]); err != nil {
		return err
	}
	if *trivial {
		return serveTrivial(*addr)
	}
	if *trivialSSE {
		return serveTrivialSSE(*addr, *heartbeat)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.quick {
		quick := map[string]string{
			"streams": "200,2000", "h1-streams": "200,2000", "cost-streams": "2000", "flow": "3s", "idle": "5s",
			"poll": "5s", "poll-every": "2s", "page-duration": "2s", "page-warmup": "500ms", "page-members": "200",
			"small-rows": "2000", "quiet-wait": "0s", "large-rows": "200000", "write-duration": "2s", "write-members": "200",
			"stream-cost-streams": "200", "stream-idle": "5s", "soak-duration": "1m", "soak-streams": "200",
		}
		for k, v := range quick {
			if !set[k] {
				fs.Set(k, v)
			}
		}
	}
	var err error
	if o.streams, err = parseCounts(*streams); err != nil {
		return err
	}
	if o.h1Streams, err = parseCounts(*h1Streams); err != nil {
		return err
	}
	o.scenarios = map[string]bool{}
	for _, s := range strings.Split(*scenario, ",") {
		switch s = strings.TrimSpace(s); s {
		case "all":
			o.scenarios["live"], o.scenarios["pages"], o.scenarios["writes"], o.scenarios["streams"] = true, true, true, true
		case "live", "pages", "writes", "streams", "soak":
			o.scenarios[s] = true
		default:
			return fmt.Errorf("unknown scenario %q", s)
		}
	}
	if o.profileDir != "" {
		if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
			return err
		}
	}
	if o.ips < 1 || o.ips > 250 || o.perConn < 1 || o.rate < 1 {
		return fmt.Errorf("bad -source-ips, -streams-per-conn or -rate")
	}
	if o.soakProto != protoH1 && o.soakProto != protoH2 {
		return fmt.Errorf("bad -soak-proto %q: want %s or %s", o.soakProto, protoH1, protoH2)
	}
	if o.costH1Streams < 1 || o.costH1Streams > 18000 || o.streamHeartbeat <= 0 || o.soakStreams < 1 || o.soakStreams > 18000 || o.soakRate < 1 || o.soakPageRate < 0 {
		return fmt.Errorf("bad -stream-cost-streams, -stream-heartbeat, -soak-streams, -soak-rate or -soak-page-rate (streams: 1 to 18,000, under one process's open files)")
	}

	root, err := repoRoot()
	if err != nil {
		return err
	}
	if o.out == "" {
		o.out = filepath.Join(root, "docs")
	}
	if o.fromJSON != "" {
		b, err := os.ReadFile(o.fromJSON)
		if err != nil {
			return err
		}
		var res Results
		if err := json.Unmarshal(b, &res); err != nil {
			return err
		}
		return writeReport(o.out, &res)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()

	r := &runner{opt: o, root: root}
	return r.run(ctx)
}

type runner struct {
	opt       options
	root      string
	work      string
	natterBin string
	res       *Results
}

func (r *runner) run(ctx context.Context) error {
	var err error
	if r.opt.work == "" {
		if r.work, err = os.MkdirTemp("", "natter-load-"); err != nil {
			return err
		}
		if !r.opt.keep {
			defer os.RemoveAll(r.work)
		}
	} else {
		r.work = r.opt.work
		if err := os.MkdirAll(r.work, 0o755); err != nil {
			return err
		}
	}
	logf("working directory %s", r.work)
	r.natterBin = r.opt.natterBin
	if r.natterBin == "" {
		logf("building natter")
		if r.natterBin, err = buildNatter(ctx, r.root, r.work); err != nil {
			return err
		}
	}
	r.res = &Results{
		Machine: machineInfo(r.root),
		Command: commandLine(),
		Started: time.Now(),
		Quick:   r.opt.quick,
	}
	start := time.Now()
	var errs []string
	step := func(name string, fn func(context.Context) error) {
		if ctx.Err() != nil {
			return
		}
		logf("== %s", name)
		if err := fn(ctx); err != nil {
			logf("%s failed: %v", name, err)
			errs = append(errs, fmt.Sprintf("%s: %v", name, err))
		}
	}
	if r.opt.scenarios["live"] {
		step("live delivery, capacity and cost", r.runLive)
	}
	if r.opt.scenarios["pages"] {
		step("pages and data growth", r.runPages)
	}
	if r.opt.scenarios["writes"] {
		step("writes", r.runWrites)
	}
	if r.opt.scenarios["streams"] {
		step("one stream's cost, natter against a trivial SSE server", r.runStreams)
	}
	if r.opt.scenarios["soak"] {
		step("soak", r.runSoak)
	}
	r.res.Duration = time.Since(start).Round(time.Second).String()
	r.res.Errors = errs
	b, _ := json.MarshalIndent(r.res, "", "  ")
	resPath := filepath.Join(r.work, "results.json")
	if r.opt.keep || r.opt.work != "" {
		logf("results in %s", resPath)
	}
	os.WriteFile(resPath, b, 0o644)
	if err := writeReport(r.opt.out, r.res); err != nil {
		return err
	}
	logf("done in %s; report in %s", r.res.Duration, filepath.Join(r.opt.out, "benchmarks.md"))
	if len(errs) > 0 {
		return fmt.Errorf("%d scenario(s) failed: %s", len(errs), strings.Join(errs, "; "))
	}
	return ctx.Err()
}

// member is a benchmark member with a logged-in session.
type member struct {
	ID    int64
	Name  string
	Token string
}

// seedMembers creates n members named prefix... with a session each.
func seedMembers(ctx context.Context, l *store.BulkLoader, prefix string, n int) ([]member, error) {
	users, err := l.CreateUsers(ctx, prefix, n, "bench-no-password")
	if err != nil {
		return nil, err
	}
	ms := make([]member, n)
	sess := make([]store.BulkSession, n)
	for i, u := range users {
		b := make([]byte, 32)
		rand.Read(b)
		ms[i] = member{ID: u.ID, Name: u.Username, Token: base64.RawURLEncoding.EncodeToString(b)}
		sess[i] = store.BulkSession{Token: ms[i].Token, UserID: u.ID}
	}
	if err := l.Sessions(ctx, sess, time.Now().Add(7*24*time.Hour)); err != nil {
		return nil, err
	}
	return ms, nil
}

// waitQuiet waits for the rest of the machine to go quiet (see -quiet-wait).
func (r *runner) waitQuiet() {
	if r.opt.quietWait > 0 {
		waitQuiet(r.opt.quietWait, r.opt.quietBelow)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func commandLine() string {
	args := []string{"go run -C cmd/natter-load ."}
	for _, a := range os.Args[1:] {
		if strings.ContainsAny(a, " \t'\"$") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		args = append(args, a)
	}
	return strings.Join(args, " ")
}
