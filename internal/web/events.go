package web

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"natter/internal/live"
	"natter/internal/store"
)

// events is the member's Server-Sent Events stream. It subscribes first and
// reads the store second, so nothing committed in between is missed; then it
// sends every notification after Last-Event-ID, and each new one as the hub
// announces it. A stream that fell behind, or an announcement that carries
// only ids (from another instance), is caught up from the store.
func (s *Server) events(w http.ResponseWriter, r *http.Request) error {
	u := current(r)
	ctx := r.Context()
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

	rc := http.NewResponseController(w)
	// A stream lives for hours: lift the server's read deadline, which
	// would otherwise end it, and set write deadlines per write below.
	rc.SetReadDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // tell nginx not to buffer
	w.WriteHeader(http.StatusOK)

	bw := bufio.NewWriterSize(w, 512)
	send := func(notes []store.Notification) {
		for _, n := range notes {
			if n.Seq > last {
				writeEvent(bw, n)
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
	// Each write must finish within StreamWriteTimeout; between writes the
	// deadline is lifted, because over HTTP/2 a pending deadline resets an
	// idle stream even when nothing is being written.
	flush := func() error {
		rc.SetWriteDeadline(time.Now().Add(s.cfg.StreamWriteTimeout))
		defer rc.SetWriteDeadline(time.Time{})
		if err := bw.Flush(); err != nil {
			return err
		}
		return rc.Flush()
	}

	// Reconnect after 2 s if the connection drops (the browser default is 3).
	bw.WriteString("retry: 2000\n\n")
	if err := catchUp(); err != nil {
		return err
	}
	if err := flush(); err != nil {
		return nil // the client is gone
	}

	heartbeat := time.NewTicker(s.cfg.Heartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-sub.Done():
			return nil
		case <-heartbeat.C:
			bw.WriteString(": keep-alive\n\n")
		case ev := <-sub.Events():
			if err := s.deliver(ev, last, send, catchUp); err != nil {
				return err
			}
		}
		if sub.TakeLagged() {
			if err := catchUp(); err != nil {
				return err
			}
		}
		if err := flush(); err != nil {
			return nil
		}
	}
}

// deliver sends ev: directly when it carries the next notification, from the
// store when it carries only ids or the stream has a gap to fill.
func (s *Server) deliver(ev live.Event, last int64, send func([]store.Notification), catchUp func() error) error {
	switch {
	case ev.Seq <= last:
		return nil // already sent
	case ev.Note != nil && ev.Seq == last+1:
		send([]store.Notification{*ev.Note})
		return nil
	default:
		return catchUp()
	}
}

// writeEvent writes one notification as an SSE event: id, event name, and
// the seed's JSON object as data.
func writeEvent(w *bufio.Writer, n store.Notification) {
	data, _ := json.Marshal(toJSON(n))
	w.WriteString("id: ")
	w.WriteString(strconv.FormatInt(n.Seq, 10))
	w.WriteString("\nevent: ")
	w.WriteString(n.Name)
	w.WriteString("\ndata: ")
	w.Write(data)
	w.WriteString("\n\n")
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
