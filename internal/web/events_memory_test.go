package web_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"
)

// rawStream is an event stream over a connection of its own, read by the
// test's goroutine only: a client with no goroutines and no stacks, so that
// what the process holds per stream is the server's.
type rawStream struct {
	conn net.Conn
	body *bufio.Reader
}

// dialStream opens GET /events over HTTP/1.1 with cookie, one connection,
// and reads up to the end of the stream's first turn (its retry line).
func dialStream(t testing.TB, siteURL, cookie string) *rawStream {
	t.Helper()
	u, err := url.Parse(siteURL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "GET /events HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\nCookie: natter_session=%s\r\n\r\n", u.Host, cookie)
	br := bufio.NewReaderSize(conn, 512)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /events: %s", res.Status)
	}
	rs := &rawStream{conn: conn, body: bufio.NewReaderSize(res.Body, 512)}
	rs.until(t, "retry:")
	return rs
}

// until reads the stream up to the end of the next message that starts
// with prefix.
func (rs *rawStream) until(t testing.TB, prefix string) {
	t.Helper()
	rs.conn.SetReadDeadline(time.Now().Add(waitFor))
	found := false
	for {
		line, err := rs.body.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the stream for %q: %v", prefix, err)
		}
		if strings.HasPrefix(line, prefix) {
			found = true
		}
		if line == "\n" && found {
			return
		}
	}
}

// A stream's goroutine waits for hours, so what it holds is what natter
// holds per member online. Its stack must stay small and, above all, stay
// the same size after a heartbeat: a stack that the heartbeat's write
// outgrows (net/http formats each HTTP/1.1 chunk header with fmt) is
// copied to a larger one on every heartbeat, then shrunk again by the next
// garbage collection — that was 29 % of an idle server's CPU. So: open
// streams over HTTP/1.1, one connection each; let the collector settle
// their stacks; wait for a heartbeat on every stream; and compare the
// stacks before and after, without collecting in between.
//
// Not parallel: it reads the process's memory statistics. Not under the
// race detector, which doubles the runtime's stack guard and widens
// every frame.
func TestEventsStackStaysFlat(t *testing.T) {
	if raceEnabled {
		t.Skip("stack sizes differ under the race detector; run without -race")
	}
	const n = 200
	// Heartbeats are the traffic here; the test waits for them, it does not
	// time them.
	s := newSite(t, siteOptions{StreamsPerMember: n, Heartbeat: 100 * time.Millisecond})
	cookie := s.register(t, "bob").cookie(t)

	stackInUse := func(collect bool) uint64 {
		if collect {
			// Stacks shrink by half per collection while less than a
			// quarter is in use: a few collections settle them.
			for range 4 {
				runtime.GC()
			}
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.StackInuse
	}
	beat := func(streams []*rawStream) {
		for _, rs := range streams {
			rs.until(t, ": keep-alive")
		}
	}

	before := stackInUse(true)
	streams := make([]*rawStream, n)
	for i := range streams {
		streams[i] = dialStream(t, s.URL, cookie)
	}
	if got := s.hub.Streams(); got != n {
		t.Fatalf("%d streams subscribed, want %d", got, n)
	}
	beat(streams)
	settled := stackInUse(true)
	beat(streams)
	beat(streams)
	after := stackInUse(false)

	perStream := func(b uint64) float64 { return float64(int64(b)-int64(before)) / n / 1024 }
	t.Logf("stack per stream: %.1f KiB settled, %.1f KiB after heartbeats", perStream(settled), perStream(after))
	// Per connection: the handler's goroutine and net/http's background
	// reader. 16 KiB leaves room for both at 8 KiB, no more.
	if perStream(settled) > 16 {
		t.Errorf("%.1f KiB of stack per open stream, want at most 16", perStream(settled))
	}
	if grown := perStream(after) - perStream(settled); grown > 1 {
		t.Errorf("stacks grew by %.1f KiB per stream on a heartbeat: its write outgrows the stream's stack, which is then copied on every heartbeat", grown)
	}
}
