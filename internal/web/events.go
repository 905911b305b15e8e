package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
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
// A stream's goroutine lives for hours, mostly waiting, so its stack is
// most of what natter holds for an idle member; TestEventsStackStaysFlat
// measures it per stream, before and after traffic.
func (s *Server) events(w http.ResponseWriter, r *http.Request) error {
	// The stream is set up in openStream, whose frame is gone by the time
	// the stream waits: this one is kept for hours.
	st := s.openStream(w, r)
	if st == nil {
		return nil
	}
	defer st.sub.Close()
	if err := st.run(r.ProtoMajor == 1); err != nil {
		st.fail(r, err)
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
		ctx:    r.Context(),
		member: u.ID,
		token:  s.sessions.Token(r.Context()),
		last:   lastEventID(r),
		buf:    make([]byte, 0, 256),
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

// fail logs why the stream ended, unless the client went away; the
// browser reconnects.
func (st *stream) fail(r *http.Request, err error) {
	if !errors.Is(err, errStreamGone) && st.ctx.Err() == nil {
		st.srv.errorStatus(r, err) // logs it
	}
}

// stream is one open GET /events.
type stream struct {
	srv    *Server
	w      http.ResponseWriter
	rc     *http.ResponseController
	ctx    context.Context
	member int64
	token  string // the session's, read again every sessionCheckBeats
	sub    *live.Subscription

	last  int64  // the newest sequence number sent
	reset bool   // the next catch-up is a reset event
	buf   []byte // what is to be written next; reused
	// guard resets an HTTP/2 stream whose write the client does not take
	// in time; nil over HTTP/1.1, where each write has a deadline instead.
	guard *time.Timer
	beats int
}

// errStreamGone is a stream's write error: the client has gone.
var errStreamGone = errors.New("web: event stream closed by the client")

// sessionCheckBeats is how many heartbeats apart a stream reads its
// session again (every five minutes at the default 25 s).
const sessionCheckBeats = 12

// run writes the stream until the client goes, the subscription ends or
// the session does.
func (st *stream) run(http1 bool) error {
	timeout := st.srv.cfg.StreamWriteTimeout
	if http1 {
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
		defer st.guard.Stop()
	}

	h := st.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // tell nginx not to buffer
	st.w.WriteHeader(http.StatusOK)
	// Reconnect after 2 s if the connection drops (the browser default is
	// 3); the page adds its own back-off when reconnecting fails.
	st.buf = append(st.buf, "retry: 2000\n\n"...)
	if err := st.catchUp(); err != nil {
		return err
	}
	st.timelineNews()
	if err := st.flush(); err != nil {
		return err
	}

	heartbeat := time.NewTicker(st.srv.cfg.Heartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case <-st.ctx.Done():
			return nil
		case <-st.sub.Done():
			return nil
		case <-heartbeat.C:
			if st.beats++; st.beats%sessionCheckBeats == 0 && !st.stillLoggedIn() {
				return nil
			}
			st.buf = append(st.buf, ": keep-alive\n\n"...)
		case ev := <-st.sub.Events():
			if err := st.deliver(ev); err != nil {
				return err
			}
			if st.sub.TakeLagged() {
				if err := st.catchUp(); err != nil {
					return err
				}
			}
			st.timelineNews()
		}
		if err := st.flush(); err != nil {
			return err
		}
	}
}

// stillLoggedIn reads the session again: a logout whose announcement this
// instance missed (its listener reconnecting) ends the stream all the same.
func (st *stream) stillLoggedIn() bool {
	if st.token == "" {
		return false
	}
	// The request's context holds the session as it was loaded, which
	// Load would return as it is: read the store through a context that
	// keeps only the request's cancellation.
	ctx, err := st.srv.sessions.Load(valueless{st.ctx}, st.token)
	return err == nil && st.srv.sessions.GetInt64(ctx, sessionUserID) == st.member
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
	notes, err := st.srv.app.NotificationsAfter(st.ctx, st.member, after)
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

// flush writes what is queued, under a deadline: a client that stops
// reading is dropped rather than holding the stream.
func (st *stream) flush() error {
	if len(st.buf) == 0 {
		return nil
	}
	timeout := st.srv.cfg.StreamWriteTimeout
	if st.guard == nil {
		st.rc.SetWriteDeadline(time.Now().Add(timeout))
	} else {
		st.guard.Reset(timeout)
		defer st.guard.Stop()
	}
	_, err := st.w.Write(st.buf)
	st.buf = st.buf[:0]
	if err == nil {
		err = st.rc.Flush()
	}
	if err != nil {
		return errStreamGone
	}
	return nil
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
