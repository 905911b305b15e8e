package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"natter/internal/store"
)

const (
	protoH2 = "h2c"
	protoH1 = "http/1.1"
)

// runLive is scenarios 1 and 2: for each protocol and stream count, a fresh
// natter on one SQLite database whose members all have sessions.
func (r *runner) runLive(ctx context.Context) error {
	o := r.opt
	var plans []livePlan
	sizes := slices.Concat(o.streams, o.h1Streams)
	if o.costStreams > 0 {
		sizes = append(sizes, o.costStreams)
	}
	slices.Sort(sizes)
	sizes = slices.Compact(sizes)
	need := 0
	for _, c := range sizes {
		cost := c == o.costStreams
		if slices.Contains(o.streams, c) || cost {
			plans = append(plans, livePlan{proto: protoH2, c: c, idle: cost, flow: true, poll: cost})
		}
		if slices.Contains(o.h1Streams, c) {
			if c > 18000 {
				return fmt.Errorf("%d HTTP/1.1 streams cannot fit under the 20,000 open files of one process", c)
			}
			plans = append(plans, livePlan{proto: protoH1, c: c, idle: cost, flow: true})
		}
		need = max(need, c)
	}

	dbPath := filepath.Join(r.work, "live.db")
	os.Remove(dbPath)
	logf("seeding %d members with sessions", need+r.opt.senders)
	t0 := time.Now()
	st, err := store.Open(ctx, dbPath, store.Options{})
	if err != nil {
		return err
	}
	members, err := seedMembers(ctx, st.BulkLoader(), "l", need+r.opt.senders)
	st.Close()
	if err != nil {
		return err
	}
	logf("seeded in %s", time.Since(t0).Round(time.Millisecond))
	streamers, senders := members[:need], members[need:]

	for _, p := range plans {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		run, poll, err := r.liveRun(ctx, dbPath, p, streamers[:p.c], senders)
		if err != nil {
			return fmt.Errorf("%s %d streams: %w", p.proto, p.c, err)
		}
		r.res.Live = append(r.res.Live, run)
		if poll != nil {
			r.res.Poll = poll
		}
	}
	return nil
}

// livePlan is one server run of the live scenarios.
type livePlan struct {
	proto string
	c     int
	idle  bool // measure idle CPU
	flow  bool // measure delivery
	poll  bool // then measure polling instead
}

func (r *runner) liveRun(ctx context.Context, dbPath string, plan livePlan, streamers, senders []member) (LiveRun, *PollRun, error) {
	c, proto := len(streamers), plan.proto
	run := LiveRun{Proto: proto, Streams: c}
	if proto == protoH2 {
		run.StreamsPerConn = r.opt.perConn
	}
	label := fmt.Sprintf("live-%s-%d", map[string]string{protoH2: "h2c", protoH1: "h1"}[proto], c)
	srv, err := r.startNatter(ctx, label, dbPath)
	if err != nil {
		return run, nil, err
	}
	defer srv.stop()

	// Warm up: the first requests create pools, caches and the runtime's
	// first spans; then the baseline.
	warm := noRedirect(h1Transport(sourceIP(0, 1), 4), 10*time.Second)
	for i := 0; i < 20; i++ {
		get(ctx, warm, srv.base+"/notifications?since=0", senders[i%len(senders)].Token)
	}
	time.Sleep(time.Second)
	p0 := srv.proc()
	run.RSSBefore = p0.RSS

	ss := newStreamSet(srv.base, proto, c, r.opt.ips, r.opt.perConn)
	defer ss.close()
	logf("%s: opening %d streams over %s (%d client transports)", label, c, proto, len(ss.transports))
	openStart := time.Now()
	sampleDone := make(chan struct{})
	var ramp []RampPoint
	var rampMu sync.Mutex
	go func() {
		defer close(sampleDone)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			n := int(ss.opened.Load())
			p, err := readProc(srv.pid)
			if err == nil {
				rampMu.Lock()
				ramp = append(ramp, RampPoint{Streams: n, RSS: p.RSS})
				rampMu.Unlock()
			}
			if n+int(ss.failed.Load()) >= c || ctx.Err() != nil {
				return
			}
			<-t.C
		}
	}()
	err = ss.open(ctx, streamers, r.opt.openConcurrency, 5*time.Minute)
	<-sampleDone
	run.OpenSeconds = time.Since(openStart).Seconds()
	run.Opened, run.OpenFailed = int(ss.opened.Load()), int(ss.failed.Load())
	logf("%s: %d open, %d failed in %.1fs", label, run.Opened, run.OpenFailed, run.OpenSeconds)
	if err != nil {
		return run, nil, err
	}
	time.Sleep(3 * time.Second) // let the last handshakes and GC settle
	p1 := srv.proc()
	run.RSSAfter, run.ServerFDs, run.ServerThreads = p1.RSS, p1.FDs, p1.Threads
	if run.Opened > 0 {
		run.BytesPerStream = float64(run.RSSAfter-run.RSSBefore) / float64(run.Opened)
	}
	run.Ramp = append(ramp, RampPoint{Streams: run.Opened, RSS: p1.RSS})
	logf("%s: server RSS %.1f → %.1f MiB (%.1f KiB per stream), %d fds, %d threads", label,
		mib(run.RSSBefore), mib(run.RSSAfter), run.BytesPerStream/1024, run.ServerFDs, run.ServerThreads)
	r.saveProfile(ctx, srv, label+"-heap.pb.gz", "/debug/pprof/heap")
	r.saveProfile(ctx, srv, label+"-metrics.txt", "/metrics")
	r.saveProfile(ctx, srv, label+"-goroutines.txt", "/debug/pprof/goroutine?debug=1")

	if plan.idle {
		r.waitQuiet()
		logf("%s: %s of idle streams (heartbeats only)", label, r.opt.idle)
		prof := r.profileAsync(ctx, srv, label+"-idle-cpu.pb.gz", r.opt.idle)
		hb0, rc0 := ss.heartbeats.Load(), ss.reconnects.Load()
		m := startMeter(srv.pid)
		sleepCtx(ctx, r.opt.idle)
		wall, server, client, other := m.stop()
		prof()
		run.IdleSeconds = wall.Seconds()
		run.IdleServerCPU, run.IdleClientCPU, run.IdleOtherCPU = server, client, other
		run.IdleHeartbeats = ss.heartbeats.Load() - hb0
		run.IdleReconnects = ss.reconnects.Load() - rc0
		logf("%s: idle server CPU %.2f%% of one core, %d heartbeats, %d reconnections (others on the machine: %.0f%%)",
			label, run.IdleServerCPU, run.IdleHeartbeats, run.IdleReconnects, other)
	}

	if plan.flow {
		r.waitQuiet()
		run.Rate = r.opt.rate
		rc0 := ss.reconnects.Load()
		prof := r.profileAsync(ctx, srv, label+"-flow-cpu.pb.gz", r.opt.flow)
		if err := r.flow(ctx, srv, ss, streamers, senders, &run); err != nil {
			return run, nil, err
		}
		prof()
		run.FlowReconnects = ss.reconnects.Load() - rc0
		logf("%s: %d sent, %d delivered; commit→arrival p50 %.2f ms p99 %.2f ms max %.2f ms; %d reconnections", label,
			run.Sent, run.Delivered, run.Commit.P50, run.Commit.P99, run.Commit.Max, run.FlowReconnects)
	}
	if plan.idle || plan.flow {
		// Memory again after the streams have lived a while: the garbage
		// of opening them collected, stacks shrunk by later GCs.
		run.RSSEnd = srv.proc().RSS
		r.saveProfile(ctx, srv, label+"-metrics-end.txt", "/metrics")
		if run.Opened > 0 {
			run.BytesPerStreamEnd = float64(run.RSSEnd-run.RSSBefore) / float64(run.Opened)
		}
		logf("%s: server RSS at the end %.1f MiB (%.1f KiB per stream)", label, mib(run.RSSEnd), run.BytesPerStreamEnd/1024)
	}
	if n := ss.reconnects.Load(); n > 0 {
		ss.mu.Lock()
		run.StreamEnd = fmt.Sprint(ss.endErr)
		ss.mu.Unlock()
		logf("%s: streams were ended by the server and reconnected %d times; first: %s", label, n, run.StreamEnd)
	}
	ss.close()

	var poll *PollRun
	if plan.poll {
		time.Sleep(2 * time.Second)
		r.waitQuiet()
		p, err := r.pollRun(ctx, srv, streamers)
		if err != nil {
			return run, nil, err
		}
		poll = &p
		logf("%s: polling: %.0f req/s, server CPU %.1f%% of one core, p99 %.2f ms", label, p.RPS, p.ServerCPU, p.Latency.P99)
	}
	return run, poll, nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// selfCPU is natter-load's own CPU time: the load client's cost.
func selfCPU() time.Duration {
	p, _ := readProc(os.Getpid())
	return p.CPU
}

// get fetches url with member's session and discards the body.
func get(ctx context.Context, c *http.Client, url, token string) (int, int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, 0, err
	}
	if token != "" {
		req.Header.Set("Cookie", sessionCookie(token))
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, 0, err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, n, err
}

// arrival is one event as a stream client read it.
type arrival struct {
	member int
	name   string
	ts     float64 // the server's timestamp: the transaction's time
	at     time.Time
}

// streamSet is C event streams of distinct members.
type streamSet struct {
	base       string
	proto      string
	transports []*http.Transport
	clients    []*http.Client
	ctx        context.Context
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	opened     atomic.Int64
	failed     atomic.Int64
	heartbeats atomic.Int64
	dataLines  atomic.Int64
	reconnects atomic.Int64
	recording  atomic.Bool
	mu         sync.Mutex
	arrivals   []arrival
	firstErr   error
	endErr     error
	closeOnce  sync.Once
	// pace, if set, is how far apart streams start opening, rather than
	// as fast as -open-concurrency allows (see runStreams).
	pace time.Duration
}

func newStreamSet(base, proto string, c, ips, perConn int) *streamSet {
	ss := &streamSet{base: base, proto: proto}
	ss.ctx, ss.cancel = context.WithCancel(context.Background())
	n := ips
	if proto == protoH2 {
		n = (c + perConn - 1) / perConn
	}
	for i := 0; i < n; i++ {
		var tr *http.Transport
		if proto == protoH2 {
			tr = h2cTransport(sourceIP(i, ips))
		} else {
			tr = h1Transport(sourceIP(i, ips), c/ips+1)
		}
		ss.transports = append(ss.transports, tr)
		ss.clients = append(ss.clients, &http.Client{Transport: tr})
	}
	return ss
}

// open starts one stream per member, at most conc being set up at once,
// and returns when every one is open or has failed.
func (ss *streamSet) open(ctx context.Context, members []member, conc int, limit time.Duration) error {
	// One request per HTTP/2 connection first, so that it exists and has
	// the server's SETTINGS before a thousand streams queue on it.
	if ss.proto == protoH2 {
		for _, c := range ss.clients {
			if _, _, err := get(ctx, c, ss.base+"/healthz", ""); err != nil {
				return fmt.Errorf("h2c connection: %w", err)
			}
		}
	}
	sem := make(chan struct{}, conc)
	deadline := time.After(limit)
	var tick <-chan time.Time
	if ss.pace > 0 {
		t := time.NewTicker(ss.pace)
		defer t.Stop()
		tick = t.C
	}
	for j := range members {
		if tick != nil && j > 0 {
			<-tick
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return errors.New("streams not open in time")
		}
		ss.wg.Add(1)
		go ss.stream(j, members[j].Token, ss.clients[j%len(ss.clients)], sem)
	}
	for {
		if int(ss.opened.Load()+ss.failed.Load()) >= len(members) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return fmt.Errorf("only %d of %d streams open in %s", ss.opened.Load(), len(members), limit)
		case <-time.After(20 * time.Millisecond):
		}
	}
	if f := ss.failed.Load(); f > 0 {
		ss.mu.Lock()
		defer ss.mu.Unlock()
		return fmt.Errorf("%d streams failed to open; first error: %v", f, ss.firstErr)
	}
	return nil
}

func (ss *streamSet) fail(err error) {
	ss.failed.Add(1)
	ss.mu.Lock()
	if ss.firstErr == nil {
		ss.firstErr = err
	}
	ss.mu.Unlock()
}

// stream holds one member's event stream open, reading events until the
// set is closed. sem is released once the stream is first established.
// Like a browser's EventSource, it reconnects when the server ends the
// stream, after the server's retry delay, sending Last-Event-ID.
func (ss *streamSet) stream(idx int, token string, client *http.Client, sem chan struct{}) {
	defer ss.wg.Done()
	established := false
	defer func() {
		if !established {
			<-sem
		}
	}()
	var lastID string
	retry := 2 * time.Second
	for {
		err := ss.connect(idx, token, client, &lastID, &retry, func() {
			if !established {
				established = true
				ss.opened.Add(1)
				<-sem
			}
		})
		if ss.ctx.Err() != nil {
			return
		}
		if !established {
			ss.fail(err)
			return
		}
		ss.reconnects.Add(1)
		ss.mu.Lock()
		if ss.endErr == nil {
			ss.endErr = err
		}
		ss.mu.Unlock()
		select {
		case <-ss.ctx.Done():
			return
		case <-time.After(retry):
		}
	}
}

// connect runs one connection of a stream until it ends.
func (ss *streamSet) connect(idx int, token string, client *http.Client, lastID *string, retry *time.Duration, onOpen func()) error {
	req, _ := http.NewRequestWithContext(ss.ctx, http.MethodGet, ss.base+"/events", nil)
	req.Header.Set("Cookie", sessionCookie(token))
	req.Header.Set("Accept", "text/event-stream")
	if *lastID != "" {
		req.Header.Set("Last-Event-ID", *lastID)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /events: %s", resp.Status)
	}
	br := bufio.NewReaderSize(resp.Body, 512)
	var name string
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return fmt.Errorf("stream ended: %w", err)
		}
		at := time.Now()
		switch {
		case len(line) == 1: // end of an event, or of the opening "retry:" block
			onOpen()
			name = ""
		case line[0] == ':':
			ss.heartbeats.Add(1)
		case bytes.HasPrefix(line, []byte("id: ")):
			*lastID = string(bytes.TrimSpace(line[4:]))
		case bytes.HasPrefix(line, []byte("retry: ")):
			if ms, err := strconv.Atoi(string(bytes.TrimSpace(line[7:]))); err == nil {
				*retry = time.Duration(ms) * time.Millisecond
			}
		case bytes.HasPrefix(line, []byte("event: ")):
			name = string(bytes.TrimSpace(line[7:]))
		case bytes.HasPrefix(line, []byte("data: ")):
			ss.dataLines.Add(1)
			if !ss.recording.Load() {
				continue
			}
			ev, err := parseSSEData(line[6:])
			if err != nil {
				continue
			}
			if name == "" {
				name = ev.Name
			}
			ss.mu.Lock()
			ss.arrivals = append(ss.arrivals, arrival{member: idx, name: name, ts: ev.Timestamp, at: at})
			ss.mu.Unlock()
		}
	}
}

func (ss *streamSet) takeArrivals() []arrival {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	a := ss.arrivals
	ss.arrivals = nil
	return a
}

func (ss *streamSet) countArrivals(name string, since float64) int {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	n := 0
	for _, a := range ss.arrivals {
		if a.name == name && a.ts >= since {
			n++
		}
	}
	return n
}

// close ends every stream and waits for their goroutines (10 s at most).
func (ss *streamSet) close() {
	ss.closeOnce.Do(func() {
		ss.cancel()
		done := make(chan struct{})
		go func() { ss.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			logf("some streams did not close within 10 s")
		}
		for _, tr := range ss.transports {
			tr.CloseIdleConnections()
		}
	})
}

// flow sends rate messages per second for the flow duration, each from a
// sender to a streaming member (a permutation, so that one member's
// messages are C/rate seconds apart), and measures their delivery.
func (r *runner) flow(ctx context.Context, srv *child, ss *streamSet, streamers, senders []member, run *LiveRun) error {
	const eventName = "unread_message_count"
	client := noRedirect(h1Transport(sourceIP(0, 1), 128), 30*time.Second)
	defer client.Transport.(*http.Transport).CloseIdleConnections()
	total := int(float64(r.opt.rate) * r.opt.flow.Seconds())
	perm := rand.Perm(len(streamers))
	var (
		mu        sync.Mutex
		sendTimes = map[int][]time.Time{}
		sendLat   []float64
		sent      atomic.Int64
		sendErrs  atomic.Int64
		firstErr  error
		wg        sync.WaitGroup
	)
	ss.takeArrivals()
	ss.recording.Store(true)
	defer ss.recording.Store(false)
	start := time.Now()
	startStamp := float64(start.UnixMicro())/1e6 - 0.001
	meter := startMeter(srv.pid)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for i := 0; i < total; {
		due := int(time.Since(start).Seconds() * float64(r.opt.rate))
		for ; i < total && i <= due; i++ {
			rec, snd := perm[i%len(perm)], senders[i%len(senders)]
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				form := url.Values{"message": {"benchmark message " + strconv.Itoa(i)}}
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost,
					srv.base+"/send-message/"+streamers[rec].Name, bytes.NewBufferString(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Cookie", sessionCookie(snd.Token))
				t := time.Now()
				mu.Lock()
				sendTimes[rec] = append(sendTimes[rec], t)
				mu.Unlock()
				resp, err := client.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusSeeOther {
						err = fmt.Errorf("POST /send-message: %s", resp.Status)
					}
				}
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					sendErrs.Add(1)
					if firstErr == nil {
						firstErr = err
					}
					return
				}
				sent.Add(1)
				sendLat = append(sendLat, durMS(time.Since(t)))
			}(i)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	wg.Wait()
	// Wait for the last deliveries (10 s at most).
	waitUntil := time.Now().Add(10 * time.Second)
	for ss.countArrivals(eventName, startStamp) < int(sent.Load()) && time.Now().Before(waitUntil) {
		time.Sleep(20 * time.Millisecond)
	}
	_, run.FlowServerCPU, run.FlowClientCPU, run.FlowOtherCPU = meter.stop()
	ss.recording.Store(false)
	arrivals := ss.takeArrivals()

	run.FlowSeconds = r.opt.flow.Seconds()
	run.Sent, run.SendErrors = int(sent.Load()), int(sendErrs.Load())
	if firstErr != nil {
		logf("send errors: %d, first: %v", run.SendErrors, firstErr)
	}
	slices.SortFunc(arrivals, func(a, b arrival) int { return a.at.Compare(b.at) })
	var commit, e2e []float64
	seen := map[int]int{}
	for _, a := range arrivals {
		if a.ts < startStamp {
			continue
		}
		run.Events++
		if a.name != eventName {
			continue
		}
		run.Delivered++
		commit = append(commit, durMS(sinceStamp(a.ts, a.at)))
		k := seen[a.member]
		seen[a.member]++
		if ts := sendTimes[a.member]; k < len(ts) {
			e2e = append(e2e, durMS(a.at.Sub(ts[k])))
		}
	}
	run.Commit = summarize(commit)
	run.EndToEnd = summarize(e2e)
	run.Send = summarize(sendLat)
	run.LatencyMS = commit
	return nil
}

// pollRun has the members poll /notifications?since= every pollEvery, as
// the seed's page does, spread evenly, for the poll duration.
func (r *runner) pollRun(ctx context.Context, srv *child, members []member) (PollRun, error) {
	n := len(members)
	pr := PollRun{Members: n, EverySeconds: r.opt.pollEvery.Seconds()}
	client := noRedirect(h1Transport(sourceIP(0, 1), 256), 30*time.Second)
	defer client.Transport.(*http.Transport).CloseIdleConnections()
	since := make([]float64, n)
	now := float64(time.Now().UnixMicro()) / 1e6
	for i := range since {
		since[i] = now
	}
	rate := float64(n) / r.opt.pollEvery.Seconds()
	total := int(rate * r.opt.poll.Seconds())
	var (
		mu       sync.Mutex
		lat      []float64
		errs     int
		firstErr error
		wg       sync.WaitGroup
	)
	logf("polling: %d members every %s = %.0f req/s for %s", n, r.opt.pollEvery, rate, r.opt.poll)
	prof := r.profileAsync(ctx, srv, fmt.Sprintf("poll-%d-cpu.pb.gz", n), r.opt.poll)
	start := time.Now()
	meter := startMeter(srv.pid)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for i := 0; i < total; {
		due := int(time.Since(start).Seconds() * rate)
		for ; i < total && i <= due; i++ {
			m := i % n
			mu.Lock()
			s := since[m]
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				t := time.Now()
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet,
					srv.base+"/notifications?since="+strconv.FormatFloat(s, 'f', 6, 64), nil)
				req.Header.Set("Cookie", sessionCookie(members[m].Token))
				resp, err := client.Do(req)
				var list []sseEvent
				if err == nil {
					err = json.NewDecoder(resp.Body).Decode(&list)
					resp.Body.Close()
					if err == nil && resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("GET /notifications: %s", resp.Status)
					}
				}
				d := durMS(time.Since(t))
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs++
					if firstErr == nil {
						firstErr = err
					}
					return
				}
				lat = append(lat, d)
				for _, e := range list {
					since[m] = max(since[m], e.Timestamp)
				}
			}()
		}
		select {
		case <-ctx.Done():
			return pr, ctx.Err()
		case <-tick.C:
		}
	}
	wg.Wait()
	wall, serverCPU, clientCPU, other := meter.stop()
	prof()
	if firstErr != nil {
		logf("poll errors: %d, first: %v", errs, firstErr)
	}
	pr.Seconds = wall.Seconds()
	pr.Requests, pr.Errors = len(lat), errs
	pr.RPS = float64(len(lat)) / wall.Seconds()
	pr.ServerCPU, pr.ClientCPU, pr.OtherCPU = serverCPU, clientCPU, other
	pr.Latency = summarize(lat)
	return pr, nil
}

// saveProfile stores what natter's debug listener serves at path (only with
// -profile-dir).
func (r *runner) saveProfile(ctx context.Context, srv *child, name, path string) {
	if r.opt.profileDir == "" || srv.debug == "" {
		return
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+srv.debug+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		logf("profile %s: %v", name, err)
		return
	}
	defer resp.Body.Close()
	f, err := os.Create(filepath.Join(r.opt.profileDir, name))
	if err != nil {
		logf("profile %s: %v", name, err)
		return
	}
	defer f.Close()
	io.Copy(f, resp.Body)
}

// profileAsync starts a CPU profile of d; the returned function waits for
// it to be saved.
func (r *runner) profileAsync(ctx context.Context, srv *child, name string, d time.Duration) func() {
	if r.opt.profileDir == "" || srv.debug == "" {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.saveProfile(ctx, srv, name, fmt.Sprintf("/debug/pprof/profile?seconds=%d", max(1, int(d.Seconds()))))
	}()
	return func() { <-done }
}
