package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"natter/internal/live"
	"natter/internal/natter"
)

// events is the member's Server-Sent Events stream (GET /events). It
// subscribes first and reads the store second, so nothing committed in
// between is missed; then it sends every notification after Last-Event-ID,
// and each new one as the hub announces it. A stream that fell behind, or
// an announcement that carries only ids (from another instance), is caught
// up from the store.
//
// A stream's goroutine lives for hours, mostly waiting; with a hundred
// thousand members online its stack is most of what natter holds for
// them. So each turn of work — reading the session and the member, writing
// the headers, an event, a catch-up from the database — runs on a
// short-lived goroutine (offStack), whose deep calls (SQLite, net/http's
// first write) never grow the stream's own stack, which stays at 4 KiB.
// Only heartbeats, the most frequent turn and a shallow one, are written
// by the stream itself. Events are formatted without reflection. For the
// same reason the stream is served before the middleware chain
// (routes.go) and does its work itself: the log line, the metrics, panic
// recovery, and reading the session, which it never writes.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	// What the middleware does for the other routes (routes.go).
	start := time.Now()
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	w = rec
	defer func() { s.logRequest(r, eventsRoute, rec, time.Since(start)) }()
	defer s.recovered(w, r)

	ctx := r.Context()
	var (
		token string
		u     natter.Account
		err   error
	)
	offStack(func() { token, u, err = s.streamMember(r) })
	if err != nil {
		status, msg := http.StatusUnauthorized, "Please log in."
		if !errors.Is(err, errNoMember) {
			status, msg = s.errorStatus(r, err)
		}
		writeJSON(w, status, map[string]string{"error": msg})
		return
	}

	last := lastEventID(r)
	// An id beyond the member's newest notification is not one of theirs
	// (another member's stream reconnecting in the same browser after a
	// change of login, say): honouring it would hold back every event up to
	// it, so the stream starts from the beginning instead.
	if last > u.NotificationSeq {
		last = 0
	}

	sub := s.hub.Subscribe(u.ID)
	defer sub.Close()
	// The session is read again now, and every few minutes: a logout that
	// came between the first read and Subscribe, or whose announcement an
	// instance missed (its listener reconnecting), ends the stream all the
	// same.
	stillLoggedIn := func() bool {
		var id int64
		var err error
		offStack(func() { id, err = s.sessionMember(ctx, token) })
		return err == nil && id == u.ID
	}
	if !stillLoggedIn() {
		return
	}

	rc := http.NewResponseController(w)
	// A stream lives for hours: lift the server's read deadline, which
	// would otherwise end it. Over HTTP/1.1 each write gets a deadline of
	// its own below. Over HTTP/2 a pending deadline resets the stream even
	// when nothing is being written, and setting one costs two trips through
	// the connection's serving goroutine, on every heartbeat of every
	// stream; there a timer resets the stream only if a write takes too
	// long, and the server's HTTP2Config.WriteByteTimeout closes a
	// connection that stops reading.
	rc.SetReadDeadline(time.Time{})
	perWriteDeadline := r.ProtoMajor == 1

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // tell nginx not to buffer
	h.Set("X-Content-Type-Options", "nosniff")

	// buf holds what is to be written next; it is reused.
	buf := make([]byte, 0, 256)
	send := func(notes []natter.Notification) {
		for _, n := range notes {
			if n.Seq > last {
				buf = appendEvent(buf, n)
				last = n.Seq
				s.metrics.events.Inc()
			}
		}
	}
	catchUp := func() error {
		s.metrics.catchUps.Inc()
		notes, err := s.app.NotificationsAfter(ctx, u.ID, last)
		if err != nil {
			return err
		}
		send(notes)
		return nil
	}
	// HTTP/2: a write the client does not take in time (its window for
	// this stream stays shut) resets the stream. One timer per stream,
	// armed for each write.
	var guard *time.Timer
	if !perWriteDeadline {
		guard = time.AfterFunc(s.cfg.StreamWriteTimeout, func() { rc.SetWriteDeadline(time.Now()) })
		guard.Stop()
		defer guard.Stop()
	}
	flush := func() error {
		if perWriteDeadline {
			rc.SetWriteDeadline(time.Now().Add(s.cfg.StreamWriteTimeout))
		} else {
			guard.Reset(s.cfg.StreamWriteTimeout)
			defer guard.Stop()
		}
		_, err := w.Write(buf)
		buf = buf[:0]
		if err != nil {
			return err
		}
		return rc.Flush()
	}
	// step runs one turn of the stream (write the headers, an event, a
	// catch-up) off the stream's stack; errStreamGone means the client went
	// away.
	step := func(do func() error) error {
		var err error
		offStack(func() {
			if err = do(); err != nil {
				return
			}
			if len(buf) > 0 && flush() != nil {
				err = errStreamGone
			}
		})
		return err
	}
	fail := func(err error) {
		if err != errStreamGone && ctx.Err() == nil {
			s.errorStatus(r, err) // logs it; the stream ends and the browser reconnects
		}
	}

	err = step(func() error {
		w.WriteHeader(http.StatusOK)
		// Reconnect after 2 s if the connection drops (the browser
		// default is 3).
		buf = append(buf, "retry: 2000\n\n"...)
		return catchUp()
	})
	if err != nil {
		fail(err)
		return
	}

	heartbeat := time.NewTicker(s.cfg.Heartbeat)
	defer heartbeat.Stop()
	beats := 0
	for {
		var turn func() error
		select {
		case <-ctx.Done():
			return
		case <-sub.Done():
			return
		case <-heartbeat.C:
			if beats++; beats%sessionCheckBeats == 0 && !stillLoggedIn() {
				return
			}
			// The most frequent turn, and a shallow one: written here.
			buf = append(buf, ": keep-alive\n\n"...)
			if flush() != nil {
				return
			}
			continue
		case ev := <-sub.Events():
			turn = func() error { return deliver(ev, last, send, catchUp) }
		}
		err := step(func() error {
			if err := turn(); err != nil {
				return err
			}
			if sub.TakeLagged() {
				return catchUp()
			}
			return nil
		})
		if err != nil {
			fail(err)
			return
		}
	}
}

// errStreamGone is a stream's write error: the client has gone.
var errStreamGone = errors.New("web: event stream closed by the client")

// sessionCheckBeats is how many heartbeats apart a stream reads its
// session again (every five minutes at the default 25 s).
const sessionCheckBeats = 12

// errNoMember is streamMember's answer for a request without a member.
var errNoMember = errors.New("web: no member logged in")

// streamMember returns the session token r carries and its member, or
// errNoMember.
func (s *Server) streamMember(r *http.Request) (string, natter.Account, error) {
	var token string
	if c, err := r.Cookie(s.sessions.Cookie.Name); err == nil {
		token = c.Value
	}
	id, err := s.sessionMember(r.Context(), token)
	if err != nil {
		return "", natter.Account{}, err
	}
	u, err := s.app.Account(r.Context(), id)
	if natter.ErrorKind(err) == natter.NotFound {
		return "", natter.Account{}, errNoMember
	}
	return token, u, err
}

// sessionMember returns the id of the member logged in under token, or
// errNoMember.
func (s *Server) sessionMember(ctx context.Context, token string) (int64, error) {
	if token == "" {
		return 0, errNoMember
	}
	ctx, err := s.sessions.Load(ctx, token)
	if err != nil {
		return 0, err
	}
	id := s.sessions.GetInt64(ctx, sessionUserID)
	if id == 0 {
		return 0, errNoMember
	}
	return id, nil
}

// offStack runs f on a goroutine of its own and waits for it: f's stack,
// however deep, is not the caller's. A panic of f's is raised again in the
// caller, where the handler's recovery sees it, with f's stack attached.
func offStack(f func()) {
	done := make(chan struct{})
	var p any
	go func() {
		defer close(done)
		defer func() {
			if p = recover(); p != nil && p != http.ErrAbortHandler {
				p = offStackPanic{p, debug.Stack()}
			}
		}()
		f()
	}()
	<-done
	if p != nil {
		panic(p)
	}
}

// offStackPanic is a panic raised on an offStack goroutine.
type offStackPanic struct {
	value any
	stack []byte
}

func (p offStackPanic) String() string {
	return fmt.Sprintf("%v\n\nraised on a goroutine of its own:\n%s", p.value, p.stack)
}

// deliver sends ev: directly when it carries the next notification, from the
// store when it carries only ids or the stream has a gap to fill.
func deliver(ev live.Event, last int64, send func([]natter.Notification), catchUp func() error) error {
	switch {
	case ev.Seq <= last:
		return nil // already sent
	case ev.Note != nil && ev.Seq == last+1:
		send([]natter.Notification{*ev.Note})
		return nil
	default:
		return catchUp()
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
	if !plainName(n.Name) {
		// Not one of natter's names: let encoding/json escape it.
		data, _ := json.Marshal(toJSON(n))
		b = append(b, data...)
		return append(b, "\n\n"...)
	}
	b = append(b, `{"name":"`...)
	b = append(b, n.Name...)
	b = append(b, `","data":`...)
	b = append(b, n.Data...)
	b = append(b, `,"timestamp":`...)
	b = strconv.AppendFloat(b, toJSON(n).Timestamp, 'f', -1, 64)
	return append(b, "}\n\n"...)
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
