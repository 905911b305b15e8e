package web_test

import (
	"bufio"
	"bytes"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// BenchmarkStreams measures what an open event stream costs the server:
// bytes of memory per stream (stacks and heap, after collection, once the
// streams have carried heartbeats) and CPU per heartbeat, for natter's
// /events and for a trivial standard-library SSE handler, over HTTP/1.1
// with one connection per stream (as behind nginx) and over h2c.
//
// Client and server share the process: CPU per heartbeat includes the
// client's reads (the same for both servers), so compare the two rows,
// not the figures with natter-load's. Over HTTP/1.1 the client has no
// goroutines (one test goroutine reads every connection in turn), so the
// bytes per stream are the server's; over h2c the client's transport
// goroutines are counted for both.
//
//	go test -run '^$' -bench Streams -benchtime 20x ./internal/web/
func BenchmarkStreams(b *testing.B) {
	const n = 200
	const heartbeat = 50 * time.Millisecond
	for _, proto := range []string{"http1", "h2c"} {
		b.Run("natter/"+proto, func(b *testing.B) {
			s := newSite(b, siteOptions{StreamsPerMember: n, Heartbeat: heartbeat, H2C: proto == "h2c"})
			cookie := s.register(b, "bob").cookie(b)
			benchStreams(b, n, proto, s.URL, cookie)
		})
		b.Run("stdlib/"+proto, func(b *testing.B) {
			benchStreams(b, n, proto, startTrivialSSE(b, proto, heartbeat), "")
		})
	}
}

// startTrivialSSE serves trivialSSE over proto until tb ends, and returns
// its URL.
func startTrivialSSE(tb testing.TB, proto string, heartbeat time.Duration) string {
	ts := httptest.NewUnstartedServer(trivialSSE(heartbeat))
	if proto == "h2c" {
		ts.Config.Protocols = new(http.Protocols)
		ts.Config.Protocols.SetUnencryptedHTTP2(true)
	}
	ts.Start()
	tb.Cleanup(ts.Close)
	return ts.URL
}

// trivialSSE is the event stream as the standard library's documentation
// would write it: a ticker, a write and a flush.
func trivialSSE(heartbeat time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write([]byte("retry: 2000\n\n"))
		rc := http.NewResponseController(w)
		rc.Flush()
		t := time.NewTicker(heartbeat)
		defer t.Stop()
		for {
			select {
			case <-r.Context().Done():
				return
			case <-t.C:
				if _, err := w.Write([]byte(": keep-alive\n\n")); err != nil || rc.Flush() != nil {
					return
				}
			}
		}
	})
}

// beatReader reads heartbeats from one stream.
type beatReader interface{ beat(testing.TB) }

func (rs *rawStream) beat(t testing.TB) { rs.until(t, ": keep-alive") }

// h2Stream is a stream read by a goroutine of its own (the transport's
// body), which counts the heartbeats. It never stops reading: heartbeats
// nobody waited for would otherwise pile up in the transport's buffers
// and be counted as the server's memory.
type h2Stream struct {
	beats  atomic.Int64
	signal chan struct{} // a heartbeat came
	seen   int64         // the heartbeats beat has returned for
}

func (h *h2Stream) beat(t testing.TB) {
	timeout := time.After(waitFor)
	for h.beats.Load() <= h.seen {
		select {
		case <-h.signal:
		case <-timeout:
			t.Fatal("no heartbeat")
		}
	}
	h.seen++
}

func openH2Stream(tb testing.TB, client *http.Client, url, cookie string) *h2Stream {
	req, _ := http.NewRequest(http.MethodGet, url+"/events", nil)
	req.Header.Set("Cookie", "natter_session="+cookie)
	res, err := client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { res.Body.Close() })
	h := &h2Stream{signal: make(chan struct{}, 1)}
	go func() {
		br := bufio.NewReader(res.Body)
		for {
			line, err := br.ReadSlice('\n')
			if err != nil {
				return
			}
			if bytes.HasPrefix(line, []byte(": keep-alive")) {
				h.beats.Add(1)
				select {
				case h.signal <- struct{}{}:
				default:
				}
			}
		}
	}()
	return h
}

func benchStreams(b *testing.B, n int, proto, url, cookie string) {
	before := memoryInUse()
	streams := openStreams(b, n, proto, url, cookie)
	beatAll(b, streams)
	opened := memoryInUse()
	start := cpuTime()
	b.ResetTimer()
	for range b.N {
		beatAll(b, streams)
	}
	b.StopTimer()
	cpu := cpuTime() - start
	after := memoryInUse()
	b.ReportMetric(perStream(opened, before, n), "KiB/stream-opened")
	b.ReportMetric(perStream(after, before, n), "KiB/stream-after")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*n), "cpu-µs/beat")
	b.ReportMetric(0, "ns/op") // wall time is the heartbeat interval: meaningless
}

// openStreams opens n event streams at url: over HTTP/1.1 one raw
// connection each, read by the caller's goroutine; over h2c through one
// transport, each read by a goroutine of its own.
func openStreams(tb testing.TB, n int, proto, url, cookie string) []beatReader {
	var client *http.Client
	if proto == "h2c" {
		tr := &http.Transport{Protocols: new(http.Protocols)}
		tr.Protocols.SetUnencryptedHTTP2(true)
		tb.Cleanup(tr.CloseIdleConnections)
		client = &http.Client{Transport: tr}
	}
	streams := make([]beatReader, n)
	for i := range streams {
		if client != nil {
			streams[i] = openH2Stream(tb, client, url, cookie)
		} else {
			streams[i] = dialStream(tb, url, cookie)
		}
	}
	return streams
}

// beatAll waits for the next heartbeat on every stream.
func beatAll(tb testing.TB, streams []beatReader) {
	for _, st := range streams {
		st.beat(tb)
	}
}

// memoryInUse is the process's stacks and live heap, after enough
// collections to settle them: stacks shrink by half per collection while
// less than a quarter is in use.
func memoryInUse() uint64 {
	for range 4 {
		runtime.GC()
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.StackInuse + ms.HeapAlloc
}

// perStream is the growth from before to now in KiB per stream.
func perStream(now, before uint64, n int) float64 {
	return float64(int64(now)-int64(before)) / float64(n) / 1024
}

// cpuTime is the CPU the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
