package web

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"natter/internal/live"
	"natter/internal/natter"
)

// events serves GET /events, the member's Server-Sent Events stream, behind
// the same middleware as every other route (routes.go): logging, metrics,
// panic recovery and the session come from there.
//
// The stream subscribes first and reads the store second, so nothing
// committed in between is missed; then it sends every notification after
// Last-Event-ID, and each new one as the hub announces it. A stream that
// fell behind, or an announcement that carries only ids (from another
// instance), is caught up from the store. A Last-Event-ID the server does
// not know gets a reset event instead (appendReset).
//
// A stream lives for hours, mostly waiting, so what it keeps then is most
// of what natter holds for an idle member. events only sets the stream up
// and hands it back to the top of the middleware (holdStream):
// Server.ServeHTTP runs it once the chain's frames, and the request copies
// and session they hold, are gone, and over HTTP/1 takes its connection
// from net/http (detach). TestStreamMemoryStaysFlat measures what is left,
// before and after traffic.
func (s *Server) events(w http.ResponseWriter, r *http.Request) error {
	if st := s.openStream(w, r); st != nil && !holdStream(r, st) {
		st.start(nil, nil) // not behind frontDoor (a test's handler)
		st.serve()
	}
	return nil
}

// openStream subscribes the member of r to the hub and returns their
// stream, or nil when it has refused r.
func (s *Server) openStream(w http.ResponseWriter, r *http.Request) *stream {
	u := current(r)
	// The page says whose stream it wants: a tab left open from an earlier
	// login must not be handed the events of whoever is logged in now in
	// the same browser.
	if want := r.URL.Query().Get("member"); want != "" && want != strconv.FormatInt(u.ID, 10) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "Please log in."})
		return nil
	}
	st := &stream{
		srv:    s,
		w:      w,
		rc:     http.NewResponseController(w),
		r:      r,
		member: u.ID,
		token:  s.sessions.Token(r.Context()),
		last:   lastEventID(r),
	}
	// An id beyond the member's newest notification is not one of theirs:
	// another member's, or from before a restore of the database. Honouring
	// it would hold back every event up to it, so the page is told to start
	// over from the current values.
	st.reset = st.last > u.NotificationSeq
	st.sub = s.hub.Subscribe(u.ID)
	if r.URL.Query().Get("timeline") == "1" {
		st.sub.WatchTimeline() // its page shows the timeline: "N new posts"
	}
	// A logout that came between loading the session and Subscribe ends
	// the stream all the same.
	if !st.stillLoggedIn() {
		st.sub.Close()
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "Please log in."})
		return nil
	}
	return st
}

// stream is one open GET /events.
type stream struct {
	srv *Server
	// w and rc write the stream through net/http; both are nil once the
	// stream has its connection to itself (conn, over HTTP/1).
	w    http.ResponseWriter
	rc   *http.ResponseController
	conn net.Conn
	rec  *recorder // frontDoor's, for the log line's byte count once detached
	// r is the request, as it arrived once frontDoor holds the stream.
	r *http.Request
	// gone is closed when the client has gone: the request's context
	// ends, or, once detached, the connection does (watch).
	gone   <-chan struct{}
	member int64
	token  string // the session's, read again every sessionCheckBeats
	sub    *live.Subscription

	last  int64  // the newest sequence number sent
	reset bool   // the next catch-up is a reset event
	buf   []byte // what is to be written next; pooled between turns
	// guard resets an HTTP/2 stream whose write the client does not take
	// in time; nil over HTTP/1.1, where each write has a deadline instead.
	guard     *time.Timer
	heartbeat *time.Ticker
	beats     int
}

// errStreamGone is a stream's write error: the client has gone.
var errStreamGone = errors.New("web: event stream closed by the client")

// errLoggedOut ends a stream whose session has ended.
var errLoggedOut = errors.New("web: event stream's session ended")

// sessionCheckBeats is how many heartbeats apart a stream reads its
// session again (every five minutes at the default 25 s).
const sessionCheckBeats = 12

// serve runs the stream, once started, until the client goes, the
// subscription ends or the session does. Its goroutine waits here for
// hours, on top of one small frame only (Server.ServeHTTP's or
// runStream's), so serve only waits: each turn's work is done in a method
// whose frame is gone by the next wait.
func (st *stream) serve() {
	defer st.close()
	err := st.open()
	for err == nil {
		select {
		case <-st.gone:
			return
		case <-st.sub.Done():
			return
		case <-st.heartbeat.C:
			err = st.beat()
		case ev := <-st.sub.Events():
			err = st.event(ev)
		}
	}
	st.failed(err)
}

// failed logs why the stream ended, unless the client went away or the
// session ended; the browser reconnects.
func (st *stream) failed(err error) {
	if !errors.Is(err, errStreamGone) && !errors.Is(err, errLoggedOut) && !st.clientGone() {
		st.srv.errorStatus(st.r, err) // logs it
	}
}

// clientGone reports whether the client has gone.
func (st *stream) clientGone() bool {
	select {
	case <-st.gone:
		return true
	default:
		return false
	}
}

// start writes the stream's header through net/http and reports whether
// the stream then took its connection (detach): the caller runs serve on
// a goroutine of its own, and net/http's goroutines, buffers and request
// state for the connection are gone. rec is frontDoor's recorder and d
// where detached connections are kept; both nil keep the stream in place.
func (st *stream) start(rec *recorder, d *detachedStreams) (detached bool) {
	defer func() {
		if p := recover(); p != nil {
			st.close() // nobody else will: frontDoor holds the stream
			panic(p)
		}
	}()
	h := st.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // tell nginx not to buffer
	if st.r.ProtoMajor == 1 {
		// No chunked encoding: the body is the events as they are, and
		// the connection's end is the stream's (the setup the SSE
		// specification recommends, which net/http knows by this value).
		// A chunk header per write would be formatted by fmt on the
		// stream's stack (TestEventsStackStaysFlat), and a detached
		// stream could not keep up the chunking.
		h.Set("Transfer-Encoding", "identity")
	}
	st.w.WriteHeader(http.StatusOK)
	st.gone = st.r.Context().Done()
	if st.r.ProtoMajor != 1 || d == nil || st.rc.Flush() != nil {
		return false // the first turn's flush sends the header
	}
	return st.detach(rec, d)
}

// detach takes an HTTP/1 stream's connection from net/http, once its
// header is written. Behind a proxy each member's stream is a connection
// of its own, and what net/http keeps per connection while a handler
// runs — a goroutine reading in the background, 4 KiB read and write
// buffers, 2 KiB more for the response, the request's state — is more
// than the stream needs: a connection to write to, under a deadline, and
// word when the client closes it, which a goroutine blocked in a one-byte
// read gives (watch). d keeps the connection for shutdown
// (Server.ShutdownStreams). It reports false when the connection cannot
// be taken (a test's ResponseWriter, or shutdown has begun).
func (st *stream) detach(rec *recorder, d *detachedStreams) bool {
	conn, ok := d.take(st.rc.Hijack)
	if !ok {
		return false
	}
	gone := make(chan struct{})
	go watch(conn, gone)
	st.conn, st.gone, st.rec = conn, gone, rec
	st.w, st.rc, rec.ResponseWriter = nil, nil, nil
	return true
}

// watch closes gone once the client has closed conn. A client waiting on
// its event stream has nothing to send, so a byte ends the stream as the
// connection's end or an error does.
func watch(conn net.Conn, gone chan<- struct{}) {
	var b [1]byte
	conn.Read(b[:])
	close(gone)
}

// open writes the stream's first turn: the retry line and what the page
// has not seen.
func (st *stream) open() error {
	timeout := st.srv.cfg.StreamWriteTimeout
	if st.r.ProtoMajor == 1 {
		// Each write sets its own deadline (flush).
	} else {
		// The middleware's page deadline would reset the stream: over
		// HTTP/2 a pending deadline fires even when nothing is being
		// written, and setting one costs two trips through the
		// connection's serving goroutine. A timer arms a deadline only
		// when a write takes too long; HTTP2Config.WriteByteTimeout closes
		// a connection that stops reading altogether.
		st.rc.SetWriteDeadline(time.Time{})
		st.guard = time.AfterFunc(timeout, func() { st.rc.SetWriteDeadline(time.Now()) })
		st.guard.Stop()
	}
	st.heartbeat = time.NewTicker(st.srv.cfg.Heartbeat)

	// Reconnect after 2 s if the connection drops (the browser default is
	// 3); the page adds its own back-off when reconnecting fails.
	st.take()
	st.buf = append(st.buf, "retry: 2000\n\n"...)
	if err := st.catchUp(); err != nil {
		return err
	}
	st.timelineNews()
	return st.flush()
}

// close ends the stream's subscription and stops its timers. A detached
// stream's connection is closed after its log line (Server.runDetached).
func (st *stream) close() {
	st.sub.Close()
	if st.heartbeat != nil {
		st.heartbeat.Stop()
	}
	if st.guard != nil {
		st.guard.Stop()
	}
}

// beat sends a heartbeat, having read the session again every
// sessionCheckBeats.
func (st *stream) beat() error {
	if st.beats++; st.beats%sessionCheckBeats == 0 && !st.stillLoggedIn() {
		return errLoggedOut
	}
	st.take()
	st.buf = append(st.buf, ": keep-alive\n\n"...)
	return st.flush()
}

// event sends what ev announces, and catches up when the hub has dropped
// events for this stream.
func (st *stream) event(ev live.Event) error {
	st.take()
	if err := st.deliver(ev); err != nil {
		return err
	}
	if st.sub.TakeLagged() {
		if err := st.catchUp(); err != nil {
			return err
		}
	}
	st.timelineNews()
	return st.flush()
}

// stillLoggedIn reads the session again: a logout whose announcement this
// instance missed (its listener reconnecting) ends the stream all the same.
func (st *stream) stillLoggedIn() bool {
	if st.token == "" {
		return false
	}
	ctx, cancel := st.readContext()
	defer cancel()
	ctx, err := st.srv.sessions.Load(ctx, st.token)
	return err == nil && st.srv.sessions.GetInt64(ctx, sessionUserID) == st.member
}

// readContext is the context of a stream's reads from the store: a page's
// deadline, and neither the request's values (it may hold the session as
// it was loaded, which Load would return as it is) nor its cancellation: a
// read that watched the connection would leave its context a map of
// watchers that outlives the read, for as long as the stream lasts.
func (st *stream) readContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(valueless{context.WithoutCancel(st.r.Context())}, st.srv.cfg.RequestTimeout)
}

// valueless is a context's deadline and cancellation without its values.
type valueless struct{ context.Context }

func (valueless) Value(any) any { return nil }

// deliver sends ev: directly when it carries the next notification, from the
// store when it carries only ids or the stream has a gap to fill.
func (st *stream) deliver(ev live.Event) error {
	switch {
	case ev.Seq <= st.last:
		return nil // already sent
	case ev.Note != nil && ev.Seq == st.last+1:
		st.send(*ev.Note)
		return nil
	default:
		return st.catchUp()
	}
}

// catchUp reads what the stream has not sent from the store: the
// notifications after the last one sent, or, for a reset, all of them.
func (st *stream) catchUp() error {
	st.srv.metrics.catchUps.Inc()
	after := st.last
	if st.reset {
		after = 0
	}
	ctx, cancel := st.readContext()
	defer cancel()
	notes, err := st.srv.app.NotificationsAfter(ctx, st.member, after)
	if err != nil {
		return err
	}
	if st.reset {
		st.reset = false
		st.last = 0
		for _, n := range notes {
			st.last = max(st.last, n.Seq)
		}
		st.buf = appendReset(st.buf, st.last, notes)
		st.srv.metrics.events.Inc()
		return nil
	}
	for _, n := range notes {
		st.send(n)
	}
	return nil
}

// send queues n, unless it was sent already.
func (st *stream) send(n natter.Notification) {
	if n.Seq > st.last {
		st.buf = appendEvent(st.buf, n)
		st.last = n.Seq
		st.srv.metrics.events.Inc()
	}
}

// streamBufs holds the buffers streams format their turns in: a stream
// needs one only during a turn, and most are idle.
var streamBufs = sync.Pool{New: func() any { return new([]byte) }}

// take gives the stream a buffer for this turn; flush gives it back.
func (st *stream) take() {
	if st.buf == nil {
		st.buf = (*streamBufs.Get().(*[]byte))[:0]
	}
}

// flush writes what is queued, under a deadline: a client that stops
// reading is dropped rather than holding the stream.
func (st *stream) flush() error {
	buf := st.buf
	st.buf = nil
	if len(buf) == 0 {
		st.give(buf)
		return nil
	}
	timeout := st.srv.cfg.StreamWriteTimeout
	var err error
	switch {
	case st.conn != nil:
		st.conn.SetWriteDeadline(time.Now().Add(timeout))
		var n int
		n, err = st.conn.Write(buf)
		st.rec.bytes += int64(n)
	case st.guard == nil:
		st.rc.SetWriteDeadline(time.Now().Add(timeout))
		if _, err = st.w.Write(buf); err == nil {
			err = st.rc.Flush()
		}
	default:
		st.guard.Reset(timeout)
		if _, err = st.w.Write(buf); err == nil {
			err = st.rc.Flush()
		}
		st.guard.Stop()
	}
	st.give(buf)
	if err != nil {
		return errStreamGone
	}
	return nil
}

// give returns a turn's buffer to the pool, unless a reset event made it
// large.
func (st *stream) give(buf []byte) {
	if buf != nil && cap(buf) <= 4<<10 {
		buf = buf[:0]
		streamBufs.Put(&buf)
	}
}

// appendEvent appends one notification as an SSE event: id, event name,
// and as data the JSON object /notifications returns for it, written
// without reflection.
func appendEvent(b []byte, n natter.Notification) []byte {
	b = append(b, "id: "...)
	b = strconv.AppendInt(b, n.Seq, 10)
	b = append(b, "\nevent: "...)
	b = append(b, n.Name...)
	b = append(b, "\ndata: "...)
	b = appendNotificationJSON(b, n)
	return append(b, "\n\n"...)
}

// appendReset appends the reset event: the member's current notifications
// as the JSON array /notifications?since=0 returns, under the id of the
// newest. A page that gets it shows exactly these values (a name not in it
// is 0) and forgets what it knew.
func appendReset(b []byte, seq int64, notes []natter.Notification) []byte {
	b = append(b, "id: "...)
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, "\nevent: reset\ndata: ["...)
	for i, n := range notes {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendNotificationJSON(b, n)
	}
	return append(b, "]\n\n"...)
}

// appendNotificationJSON appends the object /notifications returns for n.
func appendNotificationJSON(b []byte, n natter.Notification) []byte {
	if !plainName(n.Name) {
		// Not one of natter's names: let encoding/json escape it.
		data, _ := json.Marshal(toJSON(n))
		return append(b, data...)
	}
	b = append(b, `{"name":"`...)
	b = append(b, n.Name...)
	b = append(b, `","data":`...)
	b = append(b, n.Data...)
	b = append(b, `,"timestamp":`...)
	b = strconv.AppendFloat(b, toJSON(n).Timestamp, 'f', -1, 64)
	return append(b, '}')
}

// plainName reports whether name needs no escaping in JSON or SSE: natter's
// notification names are lower-case words and underscores.
func plainName(name string) bool {
	for i := 0; i < len(name); i++ {
		if c := name[i]; (c < 'a' || c > 'z') && c != '_' {
			return false
		}
	}
	return name != ""
}

// lastEventID is where a stream resumes: the Last-Event-ID header a
// reconnecting EventSource sends, or ?lastEventId= for a first connection
// that knows where it stands. Anything unreadable means from the start.
func lastEventID(r *http.Request) int64 {
	v := r.Header.Get("Last-Event-ID")
	if v == "" {
		v = r.URL.Query().Get("lastEventId")
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}
