package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"natter/internal/store"
)

// runStreams is the "streams" scenario: what one idle event stream costs
// the server, natter against the smallest standard-library SSE server
// (natter-load -trivial-sse), over HTTP/1.1 with one connection per member
// (as behind nginx, which proxies each stream over an upstream connection
// of its own) and over h2c. Heartbeats come every -stream-heartbeat, far
// more often than natter's default, so that their cost stands out of the
// noise of a shared machine.
func (r *runner) runStreams(ctx context.Context) error {
	o := r.opt
	res := &StreamCost{Streams: o.costH1Streams, StreamsPerConn: o.perConn, HeartbeatSeconds: o.streamHeartbeat.Seconds(), IdleSeconds: o.streamIdle.Seconds()}
	r.res.Streams = res

	dbPath := filepath.Join(r.work, "streams.db")
	for _, suffix := range []string{"", "-wal", "-shm", ".lock"} {
		os.Remove(dbPath + suffix)
	}
	st, err := store.Open(ctx, dbPath, store.Options{})
	if err != nil {
		return err
	}
	members, err := seedMembers(ctx, st.BulkLoader(), "s", o.costH1Streams+o.senders)
	st.Close()
	if err != nil {
		return err
	}
	streamers, senders := members[:o.costH1Streams], members[o.costH1Streams:]

	for _, proto := range []string{protoH1, protoH2} {
		for _, server := range []string{serverNatter, serverTrivialSSE} {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			run, err := r.streamCostRun(ctx, server, proto, dbPath, streamers, senders)
			if err != nil {
				return fmt.Errorf("%s over %s: %w", server, proto, err)
			}
			res.Runs = append(res.Runs, run)
		}
	}
	return nil
}

const (
	serverNatter     = "natter"
	serverTrivialSSE = "trivial SSE server"
)

func (r *runner) streamCostRun(ctx context.Context, server, proto, dbPath string, streamers, senders []member) (StreamCostRun, error) {
	o := r.opt
	c := len(streamers)
	run := StreamCostRun{Server: server, Proto: proto, Streams: c}
	label := fmt.Sprintf("streams-%s-%s", map[string]string{serverNatter: "natter", serverTrivialSSE: "trivial"}[server],
		map[string]string{protoH2: "h2c", protoH1: "h1"}[proto])
	var (
		srv   *child
		stack func() int64 // the server's goroutine stacks in use, in bytes
		heap  func() int64 // the server's live heap after the last collection
		gc    string       // a URL at which the server collects its garbage
		err   error
	)
	if server == serverNatter {
		srv, err = r.startNatter(ctx, label, dbPath, "NATTER_HEARTBEAT="+o.streamHeartbeat.String())
		if err == nil {
			stack = func() int64 { return metricValue(ctx, "http://"+srv.debug+"/metrics", "go_memstats_stack_inuse_bytes") }
			heap = func() int64 { return metricValue(ctx, "http://"+srv.debug+"/metrics", "go_memstats_heap_alloc_bytes") }
			gc = "http://" + srv.debug + "/debug/pprof/heap?gc=1"
		}
	} else {
		srv, err = r.startTrivialSSE(ctx, label, o.streamHeartbeat)
		if err == nil {
			stack = func() int64 { return metricValue(ctx, srv.base+"/stack", "stack_inuse_bytes") }
			heap = func() int64 { return metricValue(ctx, srv.base+"/stack", "heap_alloc_bytes") }
			gc = srv.base + "/stack?gc=1"
		}
	}
	if err != nil {
		return run, err
	}
	defer srv.stop()

	// Collections settle the baseline (natter's start-up garbage, and the
	// stacks of its start-up work) as they settle the last figure.
	collect := func() {
		for range 4 { // stacks shrink by half per collection
			metricValue(ctx, gc, "-")
		}
	}
	time.Sleep(time.Second)
	collect()
	p0, s0, h0 := srv.proc(), stack(), heap()
	run.RSSBefore = p0.RSS
	ss := newStreamSet(srv.base, proto, c, o.ips, o.perConn)
	defer ss.close()
	// Members come online at their own moments, not in a burst. Streams
	// opened in a burst would beat in step, and HTTP/2 writes the
	// heartbeats of a connection's streams that come together in one
	// system call: a server whose streams open faster (the trivial one)
	// would seem cheaper per heartbeat. Spread over one heartbeat, each
	// stream beats at a moment of its own, on both servers.
	ss.pace = o.streamHeartbeat / time.Duration(c)
	logf("%s: opening %d streams over %s", label, c, o.streamHeartbeat)
	if err := ss.open(ctx, streamers, o.openConcurrency, 5*time.Minute); err != nil {
		return run, err
	}
	run.Opened = int(ss.opened.Load())
	// Two heartbeats, so that every stream has written one since it
	// opened: what is measured is a stream that has lived, not one that
	// has just been set up.
	sleepCtx(ctx, 2*o.streamHeartbeat+time.Second)
	p1, s1 := srv.proc(), stack()
	run.RSSOpen, run.StackOpen = p1.RSS, s1
	run.BytesPerStreamOpen = perStream(p1.RSS-p0.RSS, run.Opened)
	run.StackPerStreamOpen = perStream(s1-s0, run.Opened)
	logf("%s: %.1f KiB per stream open (stacks %.1f KiB)", label, run.BytesPerStreamOpen/1024, run.StackPerStreamOpen/1024)

	r.waitQuiet()
	prof := r.profileAsync(ctx, srv, label+"-idle-cpu.pb.gz", o.streamIdle)
	hb0, rc0 := ss.heartbeats.Load(), ss.reconnects.Load()
	before := srv.proc().CPU
	m := startMeter(srv.pid)
	sleepCtx(ctx, o.streamIdle)
	wall, serverCPU, clientCPU, otherCPU := m.stop()
	cpu := srv.proc().CPU - before
	prof()
	run.IdleSeconds = wall.Seconds()
	run.ServerCPU, run.ClientCPU, run.OtherCPU = serverCPU, clientCPU, otherCPU
	run.Heartbeats = ss.heartbeats.Load() - hb0
	run.Reconnects = ss.reconnects.Load() - rc0
	if run.Heartbeats > 0 {
		run.CPUPerHeartbeatUS = float64(cpu.Microseconds()) / float64(run.Heartbeats)
	}
	logf("%s: %d heartbeats, %.1f µs of server CPU each (others on the machine: %.0f%%)", label, run.Heartbeats, run.CPUPerHeartbeatUS, otherCPU)

	if server == serverNatter {
		// Traffic: one message to every streaming member.
		rr := *r
		rr.opt.flow = time.Duration(float64(c) / float64(o.rate) * float64(time.Second))
		var lr LiveRun
		if err := rr.flow(ctx, srv, ss, streamers, senders, &lr); err != nil {
			return run, err
		}
		run.Messages, run.Delivered = lr.Sent, lr.Delivered
	}
	p2, s2 := srv.proc(), stack()
	run.RSSAfter, run.StackAfter = p2.RSS, s2
	run.BytesPerStreamAfter = perStream(p2.RSS-p0.RSS, run.Opened)
	run.StackPerStreamAfter = perStream(s2-s0, run.Opened)
	logf("%s: %.1f KiB per stream after traffic (stacks %.1f KiB)", label, run.BytesPerStreamAfter/1024, run.StackPerStreamAfter/1024)

	// Settled: two heartbeats later, every stream has written since the
	// traffic and waits again; collections leave what the streams hold.
	sleepCtx(ctx, 2*o.streamHeartbeat+time.Second)
	collect()
	p3, s3, h3 := srv.proc(), stack(), heap()
	run.BytesPerStreamSettled = perStream(p3.RSS-p0.RSS, run.Opened)
	run.StackPerStreamSettled = perStream(s3-s0, run.Opened)
	run.HeapPerStreamSettled = perStream(h3-h0, run.Opened)
	logf("%s: %.1f KiB per stream settled (stacks %.1f KiB, live heap %.1f KiB)", label, run.BytesPerStreamSettled/1024, run.StackPerStreamSettled/1024, run.HeapPerStreamSettled/1024)
	r.saveProfile(ctx, srv, label+"-heap.pb.gz", "/debug/pprof/heap")
	return run, nil
}

func perStream(bytes int64, streams int) float64 {
	if streams == 0 {
		return 0
	}
	return float64(bytes) / float64(streams)
}

// metricValue reads one unlabelled value from a Prometheus text page; 0 if
// it cannot.
func metricValue(ctx context.Context, url, name string) int64 {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil {
				return int64(f)
			}
		}
	}
	return 0
}

// startTrivialSSE starts natter-load -trivial-sse: the ceiling for a
// stream's cost.
func (r *runner) startTrivialSSE(ctx context.Context, label string, heartbeat time.Duration) (*child, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return startChild(ctx, "trivial SSE", self, []string{"-trivial-sse", "-addr", addr, "-heartbeat", heartbeat.String()}, baseEnv(), addr,
		filepath.Join(r.work, "server-"+label+".log"), "/healthz")
}

// serveTrivialSSE is the -trivial-sse mode: an event stream on every path
// but two, written the plainest way the standard library allows: the
// opening retry line, then a comment every heartbeat, each flushed. It
// speaks HTTP/1.1 and h2c, as natter does. /healthz answers; /stack tells
// the goroutine stacks in use, as natter's go_memstats_stack_inuse_bytes
// (/stack?gc=1 collects garbage first).
func serveTrivialSSE(addr string, heartbeat time.Duration) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	mux.HandleFunc("/stack", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("gc") {
			runtime.GC()
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Fprintf(w, "stack_inuse_bytes %d\nheap_alloc_bytes %d\n", ms.StackInuse, ms.HeapAlloc)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-store")
		fl := w.(http.Flusher)
		fmt.Fprint(w, "retry: 2000\n\n")
		fl.Flush()
		t := time.NewTicker(heartbeat)
		defer t.Stop()
		for {
			select {
			case <-r.Context().Done():
				return
			case <-t.C:
				if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil { // natter's heartbeat, byte for byte
					return
				}
				fl.Flush()
			}
		}
	})
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	srv := &http.Server{
		Addr:              addr,
		Handler:           mux,
		Protocols:         &p,
		HTTP2:             &http.HTTP2Config{MaxConcurrentStreams: 50},
		ReadHeaderTimeout: 10 * time.Second,
	}
	return srv.ListenAndServe()
}
