package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"natter/internal/live"
	"natter/internal/natter"
)

// GET /events is the member's live stream: each change of a notification is
// one event whose id is its sequence number, whose name is its name and whose
// data is the object /notifications returns.
func TestEvents(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice, bob := s.register(t, "alice"), s.register(t, "bob")

	t.Run("Headers", func(t *testing.T) {
		stream := bob.openStream(t, "")
		if ct, cc := stream.resp.Header.Get("Content-Type"), stream.resp.Header.Get("Cache-Control"); ct != "text/event-stream" || cc != "no-store" {
			t.Errorf("Content-Type %q, Cache-Control %q", ct, cc)
		}
		stream.close()
	})

	t.Run("StartsWithCurrentNotifications", func(t *testing.T) {
		alice.send(t, bob, "one")
		alice.send(t, bob, "two")
		stream := bob.openStream(t, "")
		want := bob.notifications(t, "0")
		var prev int64
		for i := range want {
			ev := stream.next()
			if ev.Name != want[i]["name"] || !sameJSON(ev.Data, want[i]) {
				t.Errorf("event %d: %v, want the /notifications object %v", i, ev, want[i])
			}
			id, err := strconv.ParseInt(ev.ID, 10, 64)
			if err != nil || id <= prev {
				t.Errorf("event %d: id %q, want a number above %d", i, ev.ID, prev)
			}
			prev = id
		}
		stream.close()
	})

	t.Run("DeliversChanges", func(t *testing.T) {
		stream := bob.openStream(t, strconv.FormatInt(bob.user(t).NotificationSeq, 10))
		alice.send(t, bob, "three")
		ev := stream.next()
		if ev.Name != "unread_message_count" || ev.count(t) != 3 {
			t.Fatalf("after a send: %v, want unread_message_count 3", ev)
		}
		latest := bob.notifications(t, "0")
		if !sameJSON(ev.Data, latest[0]) {
			t.Errorf("event data %s, want the /notifications object %v", ev.Data, latest[0])
		}
		// Reading pushes the 0 too, so that every open tab drops its badge.
		bob.page(t, "/messages")
		if ev := stream.next(); ev.Name != "unread_message_count" || ev.count(t) != 0 {
			t.Errorf("after reading: %v, want unread_message_count 0", ev)
		}
		stream.close()
	})
}

// sameJSON reports whether the JSON text data decodes to want.
func sameJSON(data string, want map[string]any) bool {
	var got map[string]any
	return json.Unmarshal([]byte(data), &got) == nil && reflect.DeepEqual(got, want)
}

// A stream that reconnects with Last-Event-ID gets exactly what changed
// after that id, so that a dropped connection (or a restart) loses nothing.
func TestEventsResume(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice, bob := s.register(t, "alice"), s.register(t, "bob")

	stream := bob.openStream(t, "")
	alice.send(t, bob, "one")
	last := stream.nextNamed("unread_message_count").ID
	stream.close()

	// While bob is away: two messages, a mention, and he reads the
	// messages on his phone.
	alice.send(t, bob, "two")
	alice.send(t, bob, "three")
	alice.post(t, "@bob are you there?")
	bob.login(t).page(t, "/messages")

	stream = bob.openStream(t, last)
	var got []string
	for range 2 {
		ev := stream.next()
		got = append(got, fmt.Sprintf("%s=%d", ev.Name, ev.count(t)))
		last = ev.ID
	}
	// What was missed, newest value of each, in the order it changed.
	if want := []string{"unread_activity_count=1", "unread_message_count=0"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("replayed %q, want %q", got, want)
	}
	// And nothing more: the next event is the next change.
	alice.send(t, bob, "four")
	if ev := stream.next(); ev.Name != "unread_message_count" || ev.count(t) != 1 {
		t.Errorf("after the replay: %v, want the new unread_message_count 1", ev)
	}
	stream.close()

	// Resuming from the newest id replays nothing.
	current := strconv.FormatInt(bob.user(t).NotificationSeq, 10)
	stream = bob.openStream(t, current)
	alice.send(t, bob, "five")
	if ev := stream.next(); ev.Name != "unread_message_count" || ev.count(t) != 2 {
		t.Errorf("resumed from the newest id: %v, want the new unread_message_count 2", ev)
	}
	stream.close()

}

// A Last-Event-ID the server does not know — higher than the member's
// newest (another member's id, a database restored from a backup) — gets
// the reset event: every current notification, as /notifications?since=0
// returns them, under the newest id; the stream goes on from there.
func TestEventsReset(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice, bob := s.register(t, "alice"), s.register(t, "bob")
	alice.send(t, bob, "one")
	alice.send(t, bob, "two")
	seq := bob.user(t).NotificationSeq

	stream := bob.openStream(t, strconv.FormatInt(seq+1000, 10))
	ev := stream.next()
	if ev.Name != "reset" || ev.ID != strconv.FormatInt(seq, 10) {
		t.Fatalf("first event %v, want reset with id %d", ev, seq)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(ev.Data), &got); err != nil || !reflect.DeepEqual(got, bob.notifications(t, "0")) {
		t.Errorf("reset data %s, want the /notifications?since=0 list %v", ev.Data, bob.notifications(t, "0"))
	}
	alice.send(t, bob, "three")
	if ev := stream.next(); ev.Name != "unread_message_count" || ev.count(t) != 3 || ev.ID != strconv.FormatInt(seq+1, 10) {
		t.Errorf("after the reset: %v, want unread_message_count 3 with id %d", ev, seq+1)
	}

	// A known id gets no reset.
	stream = bob.openStream(t, strconv.FormatInt(seq, 10))
	alice.send(t, bob, "four")
	if ev := stream.next(); ev.Name != "unread_message_count" {
		t.Errorf("resumed from a known id: %v, want the next change", ev)
	}
}

// A page asks for the stream of the member it shows (?member=): in a
// browser where someone else has logged in since, it is refused, so that
// a tab left open from the earlier login is never handed the new member's
// events.
func TestEventsOfAnotherMember(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice, bob := s.register(t, "alice"), s.register(t, "bob")
	bob.get(t, "/events?member="+strconv.FormatInt(alice.user(t).ID, 10)).wantStatus(http.StatusUnauthorized)
}

// Reading in one tab drops the badge in every tab and browser of the
// member.
func TestEventsReadingClearsEveryStream(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice, bob := s.register(t, "alice"), s.register(t, "bob")
	phone := bob.login(t)
	streams := []*stream{bob.openStream(t, ""), bob.openStream(t, ""), phone.openStream(t, "")}

	alice.send(t, bob, "hello")
	for i, st := range streams {
		if n := st.nextNamed("unread_message_count").count(t); n != 1 {
			t.Errorf("stream %d: %d unread, want 1", i, n)
		}
	}
	phone.page(t, "/messages")
	for i, st := range streams {
		if n := st.nextNamed("unread_message_count").count(t); n != 0 {
			t.Errorf("stream %d: %d unread after reading on the phone, want 0", i, n)
		}
	}
}

// A client that stops reading must not hold up anyone: not the member who
// sends, not the member's other streams, not other members' streams.
//
// The slow client is simulated where it bites: its stream's writes block
// (as they do once the socket buffers of a client that never reads are
// full), so that its handler is stuck while events keep coming.
func TestEventsSlowReader(t *testing.T) {
	t.Parallel()
	stuck := make(chan struct{})
	s := newSite(t, siteOptions{Wrap: func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("X-Test-Never-Reads") != "" {
				w = &stuckWriter{ResponseWriter: w, stuck: stuck}
			}
			h.ServeHTTP(w, r)
		})
	}})
	t.Cleanup(func() { close(stuck) }) // before the server closes, which waits for handlers
	alice, bob, carol := s.register(t, "alice"), s.register(t, "bob"), s.register(t, "carol")

	// Bob's stuck stream: subscribed, never reading.
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req := bob.newRequest(t, http.MethodGet, "/events", nil).WithContext(ctx)
	req.Header.Set("X-Test-Never-Reads", "1")
	go func() {
		if res, err := bob.client.Do(req); err == nil {
			res.Body.Close()
		}
	}()
	waitUntil(t, "the stuck stream subscribes", func() bool { return s.hub.Streams() == 1 })

	bobs, carols := bob.login(t).openStream(t, ""), carol.openStream(t, "")

	// Each send is answered at once, though the stuck stream has long
	// stopped taking events.
	const sends = 20 // 40 events for bob: more than twice what a stream buffers
	done := make(chan error, 1)
	go func() {
		for i := 1; i <= sends; i++ {
			r, err := alice.client.PostForm(s.URL+"/send-message/bob", map[string][]string{"message": {fmt.Sprint(i)}})
			if err != nil {
				done <- err
				return
			}
			r.Body.Close()
			if r.StatusCode != http.StatusSeeOther {
				done <- fmt.Errorf("send %d: status %d", i, r.StatusCode)
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(waitFor):
		t.Fatal("sending is stuck behind a client that does not read")
	}
	for {
		if n := bobs.nextNamed("unread_message_count").count(t); n == sends {
			break
		}
	}
	alice.send(t, carol, "hi")
	if n := carols.nextNamed("unread_message_count").count(t); n != 1 {
		t.Errorf("carol's stream: %d unread, want 1", n)
	}
}

// stuckWriter is a response whose writes block until stuck is closed. It
// hides the connection (it has no Unwrap), so that the stream stays on it
// rather than taking the connection (detach).
type stuckWriter struct {
	http.ResponseWriter
	stuck <-chan struct{}
}

func (w *stuckWriter) Write([]byte) (int, error) {
	<-w.stuck
	return 0, errors.New("the client went away")
}

func (w *stuckWriter) Flush() { http.NewResponseController(w.ResponseWriter).Flush() }

// waitUntil waits for cond, which the server makes true at once but in its
// own goroutine.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// Streams per member are capped: one more closes the oldest.
func TestEventsStreamCap(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{StreamsPerMember: 2})
	alice, bob := s.register(t, "alice"), s.register(t, "bob")
	first, second := bob.openStream(t, ""), bob.openStream(t, "")
	third := bob.openStream(t, "")
	first.wantEnd()

	alice.send(t, bob, "hi")
	for _, st := range []*stream{second, third} {
		if n := st.nextNamed("unread_message_count").count(t); n != 1 {
			t.Errorf("%d unread, want 1", n)
		}
	}
}

// A stream is one request in the metrics (and the log), counted when it
// ends: the chain hands the stream back to the top of the middleware,
// which answers for it once it is over.
func TestEventsCountedWhenTheyEnd(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	s := newSite(t, siteOptions{StreamsPerMember: 1, Metrics: reg})
	bob := s.register(t, "bob")
	streams := func() float64 {
		t.Helper()
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		var n float64
		for _, f := range families {
			if f.GetName() != "natter_http_requests_total" {
				continue
			}
			for _, m := range f.GetMetric() {
				labels := map[string]string{}
				for _, l := range m.GetLabel() {
					labels[l.GetName()] = l.GetValue()
				}
				if labels["route"] == "GET /events" && labels["code"] == "200" {
					n += m.GetCounter().GetValue()
				}
			}
		}
		return n
	}

	first := bob.openStream(t, "")
	if n := streams(); n != 0 {
		t.Errorf("an open stream counted %v times, want 0 until it ends", n)
	}
	bob.openStream(t, "") // over the cap: the first ends
	first.wantEnd()
	if n := streams(); n != 1 {
		t.Errorf("an ended stream counted %v times, want 1", n)
	}
}

// Logging out closes the member's streams; the logged-out browser cannot
// reconnect, another that is still logged in can, and misses nothing.
func TestEventsLogout(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice, bob := s.register(t, "alice"), s.register(t, "bob")
	phone := bob.login(t)
	laptop, onPhone := bob.openStream(t, ""), phone.openStream(t, "")

	bob.postForm(t, "/logout", nil).wantRedirect("/login")
	laptop.wantEnd()
	onPhone.wantEnd()

	bob.get(t, "/events").wantStatus(http.StatusUnauthorized)
	alice.send(t, bob, "while you were out")
	onPhone = phone.openStream(t, "0")
	if n := onPhone.nextNamed("unread_message_count").count(t); n != 1 {
		t.Errorf("%d unread, want 1", n)
	}
}

// An idle stream sends heartbeat comments, so that proxies keep it open.
func TestEventsHeartbeat(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{Heartbeat: 10 * time.Millisecond})
	stream := s.register(t, "alice").openStream(t, "")
	select {
	case ev := <-stream.events:
		if ev.Name != ":" {
			t.Errorf("an idle stream sent %v, want a comment", ev)
		}
	case <-time.After(waitFor):
		t.Error("no heartbeat")
	}
}

// An idle stream over HTTP/2 stays open past the write timeout: the
// deadline bounds each write, not the quiet between them. (Over HTTP/2 a
// deadline left pending resets the stream even when nothing is written.)
func TestEventsIdleOverHTTP2(t *testing.T) {
	t.Parallel()
	const writeTimeout = 100 * time.Millisecond
	s := newSite(t, siteOptions{H2C: true, StreamWriteTimeout: writeTimeout})
	alice, bob := s.register(t, "alice"), s.register(t, "bob")

	stream := bob.openStream(t, strconv.FormatInt(bob.user(t).NotificationSeq, 10))
	if stream.resp.ProtoMajor != 2 {
		t.Fatalf("stream over %s, want HTTP/2", stream.resp.Proto)
	}
	time.Sleep(5 * writeTimeout) // idle: no event, no heartbeat
	alice.send(t, bob, "still there?")
	if ev := stream.next(); ev.Name != "unread_message_count" || ev.count(t) != 1 {
		t.Errorf("after an idle spell: %v, want unread_message_count 1", ev)
	}
}

// A stream reads its session again every few heartbeats: one whose
// session is gone — a logout whose announcement its instance missed —
// ends.
func TestEventsEndWhenTheSessionGoes(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{Heartbeat: 10 * time.Millisecond})
	bob := s.register(t, "bob")
	stream := bob.openStream(t, "")
	if err := s.store.Sessions().DeleteCtx(context.Background(), bob.cookie(t)); err != nil {
		t.Fatal(err)
	}
	stream.wantEnd()
}

// Over HTTP/2 a write the client does not take in time — its window for
// the stream stays shut because it reads nothing — resets the stream,
// though the connection is healthy. One event larger than the window does
// it at once, whatever the machine's speed.
func TestEventsStalledOverHTTP2(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{H2C: true, StreamWriteTimeout: 100 * time.Millisecond})
	bob := s.register(t, "bob")
	u := bob.user(t)
	// A client whose window for a stream is the smallest HTTP/2 allows.
	const window = 64 << 10
	tr := &http.Transport{Protocols: new(http.Protocols), HTTP2: &http.HTTP2Config{MaxReceiveBufferPerStream: window}}
	tr.Protocols.SetUnencryptedHTTP2(true)
	defer tr.CloseIdleConnections()
	req := bob.newRequest(t, http.MethodGet, "/events", nil)
	req.Header.Set("Last-Event-ID", strconv.FormatInt(u.NotificationSeq, 10))
	resp, err := (&http.Client{Transport: tr, Jar: bob.client.Jar}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()

	// Subscribed since the headers came: now one event twice the window.
	big := natter.Notification{UserID: u.ID, Seq: u.NotificationSeq + 1, Name: "unread_activity_count",
		Data: json.RawMessage(`"` + strings.Repeat("x", 2*window) + `"`), Time: time.Now()}
	s.hub.Publish(live.Event{UserID: u.ID, Seq: big.Seq, Note: &big})
	waitUntil(t, "the stalled stream is dropped", func() bool { return s.hub.Streams() == 0 })
}

// Over HTTP/1.1 a stream takes its connection from net/http (detach): its
// body is the events as they are, not chunked, and the connection ends
// with it. It ends when the client closes the connection.
func TestEventsOverHTTP1(t *testing.T) {
	t.Parallel()
	hijacked := make(chan net.Conn, 1)
	s := newSite(t, siteOptions{ConnState: func(c net.Conn, state http.ConnState) {
		if state == http.StateHijacked {
			hijacked <- c
		}
	}})
	alice, bob := s.register(t, "alice"), s.register(t, "bob")
	stream := bob.openStream(t, strconv.FormatInt(bob.user(t).NotificationSeq, 10))
	select {
	case <-hijacked:
	case <-time.After(waitFor):
		t.Fatal("the stream's connection stayed with net/http")
	}
	if got := stream.resp.TransferEncoding; len(got) != 0 {
		t.Errorf("Transfer-Encoding %q, want none", got)
	}
	if !stream.resp.Close {
		t.Error("the response does not say the connection ends with it")
	}
	alice.send(t, bob, "hi")
	if ev := stream.nextNamed("unread_message_count"); ev.count(t) != 1 {
		t.Errorf("%v, want unread_message_count 1", ev)
	}
	if n := s.hub.Streams(); n != 1 {
		t.Fatalf("%d streams subscribed, want 1", n)
	}
	stream.close()
	waitUntil(t, "the closed stream unsubscribes", func() bool { return s.hub.Streams() == 0 })
}

// http.Server.Shutdown does not know the detached streams' connections;
// ShutdownStreams does: once it has begun no stream detaches, and a stream
// that has not ended when its context does is cut off.
func TestShutdownStreams(t *testing.T) {
	t.Parallel()
	var hijacks atomic.Int32
	s := newSite(t, siteOptions{ConnState: func(c net.Conn, state http.ConnState) {
		if state == http.StateHijacked {
			hijacks.Add(1)
		}
	}})
	bob := s.register(t, "bob")
	detached := bob.openStream(t, "")
	waitUntil(t, "the stream detaches", func() bool { return hijacks.Load() == 1 })

	// The hub still runs, so the stream does not end by itself.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.srv.ShutdownStreams(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("ShutdownStreams with a stream still open: %v, want context.Canceled", err)
	}
	detached.wantEnd()

	inPlace := bob.openStream(t, "")
	if n := hijacks.Load(); n != 1 {
		t.Errorf("%d connections hijacked, want 1: a stream detached after shutdown began", n)
	}
	alice := s.register(t, "alice")
	alice.send(t, bob, "hi")
	if ev := inPlace.nextNamed("unread_message_count"); ev.count(t) != 1 {
		t.Errorf("%v, want unread_message_count 1", ev)
	}
}

// A client that stops reading an HTTP/1.1 stream is dropped once a write
// has waited StreamWriteTimeout. One event larger than the connection's
// socket buffers does it at once, whatever the machine's speed.
func TestEventsStalledOverHTTP1(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{StreamWriteTimeout: 100 * time.Millisecond})
	bob := s.register(t, "bob")
	u := bob.user(t)
	stalled := dialStream(t, s.URL, bob.cookie(t)) // reads its first turn, then nothing
	if err := stalled.conn.(*net.TCPConn).SetReadBuffer(4 << 10); err != nil {
		t.Fatal(err)
	}
	if n := s.hub.Streams(); n != 1 {
		t.Fatalf("%d streams subscribed, want 1", n)
	}
	big := natter.Notification{UserID: u.ID, Seq: u.NotificationSeq + 1, Name: "unread_activity_count",
		Data: json.RawMessage(`"` + strings.Repeat("x", 16<<20) + `"`), Time: time.Now()}
	s.hub.Publish(live.Event{UserID: u.ID, Seq: big.Seq, Note: &big})
	waitUntil(t, "the stalled stream is dropped", func() bool { return s.hub.Streams() == 0 })
}
