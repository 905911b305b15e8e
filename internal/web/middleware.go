package web

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"

	"natter/internal/natter"
)

// maxBodyBytes bounds request bodies: natter's forms hold at most a few
// hundred characters.
const maxBodyBytes = 64 << 10

// pageWriteTimeout bounds how long a response may take to write to a slow
// client. Event streams set their own deadlines per write.
const pageWriteTimeout = 30 * time.Second

// handlerFunc is a handler that returns its error; handle renders it.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle adapts h, turning its error into an error page.
func (s *Server) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		noteRoute(r)
		// The form is read here, once: PostFormValue would swallow a body
		// over maxBodyBytes as an empty form, which handlers then refuse as
		// blank ("Write something first.") instead of too large.
		if r.Method == http.MethodPost {
			if err := r.ParseForm(); err != nil {
				var tooBig *http.MaxBytesError
				if errors.As(err, &tooBig) {
					s.serveStatus(w, r, http.StatusRequestEntityTooLarge, "That is more than natter accepts at once.")
				} else {
					s.serveError(w, r, &natter.Error{Kind: natter.Malformed, Message: "The form could not be read."})
				}
				return
			}
		}
		if err := h(w, r); err != nil {
			s.serveError(w, r, err)
		}
	})
}

// member is handle for pages that need a logged-in member: others are sent
// to the login page, which brings them back afterwards.
func (s *Server) member(h handlerFunc) http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		if _, ok := me(r); !ok {
			target := "/login"
			if r.Method == http.MethodGet {
				target += "?next=" + url.QueryEscape(r.URL.RequestURI())
			} else if next := formPage(r); next != "" {
				// A form sent after the session ended: back to the page
				// that had it, where the browser restores the text
				// (static/forms.js keeps drafts).
				target += "?next=" + url.QueryEscape(next)
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return nil
		}
		return h(w, r)
	})
}

// formPage is the page of ours a form was sent from (its Referer, which
// the Referrer-Policy sends to this site alone), or "".
func formPage(r *http.Request) string {
	ref, err := url.Parse(r.Referer())
	if err != nil || ref.Host == "" || ref.Host != r.Host {
		return ""
	}
	return safeNext(ref.RequestURI())
}

// memberAPI is member for JSON and event-stream endpoints: no redirect, a
// 401 and a JSON error instead.
func (s *Server) memberAPI(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		noteRoute(r)
		if _, ok := me(r); !ok {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "Please log in."})
			return
		}
		if err := h(w, r); err != nil {
			if responseStarted(w) {
				s.log.WarnContext(r.Context(), "response failed after it began", "method", r.Method, "path", r.URL.Path, "err", err)
				return
			}
			status, msg := s.errorResponse(w, r, err)
			writeJSON(w, status, map[string]string{"error": msg})
		}
	})
}

// guest is handle for the login and registration pages: a member who is
// already logged in goes to the timeline.
func (s *Server) guest(h handlerFunc) http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		if _, ok := me(r); ok {
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return nil
		}
		return h(w, r)
	})
}

// Errors leave natter by one door. A handler returns its error; handle
// shows it as a page, memberAPI as JSON, and a form that can be corrected
// re-shows itself with it (refusal). All three take the status from
// statusOf and set Retry-After through refusal, and natter.ErrorOf finds
// the member-facing error however deeply it is wrapped.

// statusOf is the one mapping of error kinds to HTTP statuses.
func statusOf(k natter.Kind) int {
	switch k {
	case natter.Invalid:
		return http.StatusUnprocessableEntity // the form says what to correct
	case natter.Malformed:
		return http.StatusBadRequest
	case natter.NotFound:
		return http.StatusNotFound
	case natter.Forbidden:
		return http.StatusForbidden
	case natter.Unauthorized:
		return http.StatusUnauthorized
	case natter.RateLimited:
		return http.StatusTooManyRequests
	case natter.Gone:
		return http.StatusGone
	}
	return http.StatusInternalServerError
}

// refusal returns the member-facing error in err's chain and the status it
// is answered with, having set on w the headers that status needs
// (Retry-After on every 429). ok is false when err is nil or a fault of
// natter's, which the handler returns for serveError to log.
func refusal(w http.ResponseWriter, err error) (e *natter.Error, status int, ok bool) {
	if e = natter.ErrorOf(err); e == nil {
		return nil, 0, false
	}
	status = statusOf(e.Kind)
	if status == http.StatusTooManyRequests {
		// Rounded up, and never 0: "try again at once" would invite
		// the very retry the limit refuses.
		w.Header().Set("Retry-After", strconv.Itoa(int(e.RetryAfter.Seconds()+1)))
	}
	return e, status, true
}

// errorStatus is the status and the message the member sees for err, for
// a response whose headers are already decided (an event stream). Faults
// of natter's are logged once, here, and shown as "Internal error".
func (s *Server) errorStatus(r *http.Request, err error) (int, string) {
	if e := natter.ErrorOf(err); e != nil {
		return statusOf(e.Kind), e.Message
	}
	if errors.Is(err, context.Canceled) {
		return 499, "Request cancelled."
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(r.Context().Err(), context.DeadlineExceeded) {
		// The database did not answer within the request's deadline:
		// nothing was done, and saying so lets the member try again.
		s.log.WarnContext(r.Context(), "request deadline exceeded", "method", r.Method, "path", r.URL.Path, "err", err)
		return http.StatusServiceUnavailable, "natter is too busy to answer just now; nothing was changed. Please try again in a moment."
	}
	s.log.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	return http.StatusInternalServerError, "Internal error. Please try again in a moment."
}

// errorResponse is errorStatus for a response still to be written: it also
// sets the status's headers on w.
func (s *Server) errorResponse(w http.ResponseWriter, r *http.Request, err error) (int, string) {
	if e, status, ok := refusal(w, err); ok {
		return status, e.Message
	}
	status, msg := s.errorStatus(r, err)
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
	}
	return status, msg
}

// methodNotAllowed answers every request with a 405 that allows only the
// given methods.
func methodNotAllowed(allow string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		http.Error(w, "Method not allowed.", http.StatusMethodNotAllowed)
	})
}

// serveError renders err as an error page, unless the response has
// already begun: then the page (or the redirect) went out, and an error page
// written over it would corrupt the response (more bytes than its declared
// length, a reset of the connection's next request).
func (s *Server) serveError(w http.ResponseWriter, r *http.Request, err error) {
	if responseStarted(w) {
		s.log.WarnContext(r.Context(), "response failed after it began", "method", r.Method, "path", r.URL.Path, "err", err)
		return
	}
	status, msg := s.errorResponse(w, r, err)
	if status == 499 {
		return // nobody is listening
	}
	s.serveStatus(w, r, status, msg)
}

// serveStatus renders the error page for status with msg.
func (s *Server) serveStatus(w http.ResponseWriter, r *http.Request, status int, msg string) {
	heading := http.StatusText(status)
	if status == http.StatusNotFound {
		heading = "Page not found"
		if msg == natter.ErrNotFound.Message {
			// The bare "Not found." under "Page not found" says nothing.
			msg = "There is nothing at this address: the link may be old, or the address mistyped."
		}
	}
	data := &errorPage{Page: s.base(r, heading, ""), Status: status, Heading: heading, Message: msg}
	if rerr := s.render(w, r, status, "error", data); rerr != nil {
		if responseStarted(w) {
			return // the client went away while the page was written
		}
		s.log.ErrorContext(r.Context(), "render error page", "err", rerr)
		http.Error(w, msg, status)
	}
}

// notFound answers the requests no route took. The catch-all "/" patterns
// route every method of every path here, so the mux's own 405 never
// happens: notFound asks the muxes which methods the path does accept, and
// answers 405 with Allow when there are some, the 404 page otherwise.
func (s *Server) notFound(muxes ...*http.ServeMux) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var allow []string
		for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodPost} {
			probe := &http.Request{Method: method, URL: r.URL, Host: r.Host}
			for _, mux := range muxes {
				if _, pattern := mux.Handler(probe); pattern != "" && pattern != "/" {
					allow = append(allow, method)
					break
				}
			}
		}
		if len(allow) == 0 {
			return natter.ErrNotFound
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		s.serveStatus(w, r, http.StatusMethodNotAllowed, "This page does not take "+r.Method+" requests.")
		return nil
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// loadSession reads the session the request's cookie names into its
// context. Unlike scs's LoadAndSave it never writes the session back by
// itself: showing a page needs no database write, and the few handlers that
// change the session (logging in and out, registering) save it themselves
// with saveSession, where they can tell its failure from their own.
func (s *Server) loadSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Cookie")
		var token string
		if c, err := r.Cookie(s.sessions.Cookie.Name); err == nil {
			token = c.Value
		}
		ctx, err := s.sessions.Load(r.Context(), token)
		if err != nil {
			s.serveError(w, r, fmt.Errorf("load session: %w", err))
			return
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// saveSession writes the session's changes to the store and its cookie to
// w, before the response starts.
func (s *Server) saveSession(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	switch s.sessions.Status(ctx) {
	case scs.Modified:
		token, expiry, err := s.sessions.Commit(ctx)
		if err != nil {
			return fmt.Errorf("save session: %w", err)
		}
		s.sessions.WriteSessionCookie(ctx, w, token, expiry)
	case scs.Destroyed:
		s.sessions.WriteSessionCookie(ctx, w, "", time.Time{})
	}
	return nil
}

// seenTimeout bounds the wait to record a member as seen: it is worth
// less than the page they asked for.
const seenTimeout = time.Second

// loadUser puts the logged-in member, if any, into the request context and
// records them as seen (at most once a minute; never for the event stream
// or polling, which are not the member doing anything).
func (s *Server) loadUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The work is done in withMember, whose frame is gone by the time
		// next runs: an event stream keeps this one for hours.
		if r, ok := s.withMember(w, r); ok {
			next.ServeHTTP(w, r)
		}
	})
}

// withMember is loadUser's work: r with the member and the start time in
// its context, or false when it has answered the request with an error.
func (s *Server) withMember(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	// Taken before the counts are read: a page's live updates start
	// from here, so a change between the two is not missed.
	ctx := context.WithValue(r.Context(), sinceKey, s.app.Now())
	if id := s.sessions.GetInt64(ctx, sessionUserID); id != 0 {
		// The login behind the session: one idle past its limit, or
		// ended from another session, is none.
		token := s.sessions.Token(ctx)
		login, err := s.app.Login(ctx, token, id)
		var u natter.Account
		if err == nil {
			u, err = s.app.Account(ctx, id)
		}
		switch {
		case err == nil:
			ctx = context.WithValue(ctx, userKey, u)
			ctx = context.WithValue(ctx, loginKey, login)
			// The event stream and polling are not the member doing
			// anything.
			if r.URL.Path != "/events" && r.URL.Path != "/notifications" {
				// Seeing the member is a write, and a page must not
				// need one: while writes fail or wait, pages still
				// show, a moment later at most.
				seenCtx, cancel := context.WithTimeout(ctx, seenTimeout)
				if err := s.app.Seen(seenCtx, u); err != nil {
					s.log.WarnContext(ctx, "record last seen", "user", u.ID, "err", err)
				}
				if err := s.app.LoginActive(seenCtx, token, login); err != nil {
					s.log.WarnContext(ctx, "record session active", "user", u.ID, "err", err)
				}
				cancel()
			}
		case natter.ErrorKind(err) == natter.NotFound:
			// The member or the login is gone: the session counts as
			// none (its row expires by itself; removing it here would
			// make this page a write).
		default:
			s.serveError(w, r, err)
			return nil, false
		}
	}
	return r.WithContext(ctx), true
}

// sessionLoaded reports whether r's session was loaded; it was not when
// loading it failed and the error page is being shown.
func sessionLoaded(r *http.Request) bool {
	return !since(r).IsZero()
}

// since is when the request began, as loadUser recorded it.
func since(r *http.Request) time.Time {
	t, _ := r.Context().Value(sinceKey).(time.Time)
	return t
}

// frontDoor is the middleware every request passes, the event stream's
// included: a log line and metrics, a write deadline, panic recovery, the
// security headers, the cross-origin check and the body limit.
//
// A request that becomes an event stream (holdStream) goes on in
// Server.ServeHTTP once serve, and the rest of the chain, has returned: a
// stream's goroutine keeps the stack it waits on for hours, and the
// chain's frames are gone by then (TestStreamMemoryStaysFlat).
type frontDoor struct {
	s    *Server
	cop  *http.CrossOriginProtection
	next http.Handler
}

// responseStarted reports whether w's status line has been written, looking
// through the wrappers for the recorder logRequests put there.
func responseStarted(w http.ResponseWriter) bool {
	for {
		switch v := w.(type) {
		case *recorder:
			return v.wrote
		case interface{ Unwrap() http.ResponseWriter }:
			w = v.Unwrap()
		default:
			return false
		}
	}
}

// securityPolicy is natter's Content Security Policy: it loads nothing from
// elsewhere and runs no inline script.
const securityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
	"worker-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; " +
	"form-action 'self'; frame-ancestors 'none'"

// exchange is one request on its way through frontDoor: what its log line
// and metrics need, and the stream it became, if it did.
type exchange struct {
	rec    recorder
	r      *http.Request // as frontDoor passed it on
	start  time.Time
	route  string  // the pattern that served it (noteRoute)
	stream *stream // set by holdStream
	held   bool    // serve returned to run the stream
}

// serve is the middleware's work and the chain; it returns the exchange
// only when the request became a stream, whose log line then waits for its
// end.
func (f *frontDoor) serve(w http.ResponseWriter, r *http.Request) *exchange {
	x := &exchange{rec: recorder{ResponseWriter: w, status: http.StatusOK}, start: time.Now()}
	http.NewResponseController(w).SetWriteDeadline(x.start.Add(pageWriteTimeout))
	arrived := r
	x.r = r.WithContext(context.WithValue(r.Context(), exchangeKey, x))
	defer f.s.ended(x)
	defer f.s.recovered(&x.rec, x.r)

	h := w.Header()
	h.Set("Content-Security-Policy", securityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	if f.s.cfg.SecureCookies {
		// Served over HTTPS: browsers never again try plain HTTP, where a
		// network attacker could intercept the first request.
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	if err := f.cop.Check(r); err != nil {
		http.Error(&x.rec, err.Error(), http.StatusForbidden)
		return nil
	}
	r = x.r
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	}
	// Every request but an event stream (which lasts for hours) has a
	// deadline, and it reaches every database call it makes: a sick
	// database makes a page fail in time, not hang.
	if r.URL.Path != "/events" {
		ctx, cancel := context.WithTimeout(r.Context(), f.s.cfg.RequestTimeout)
		defer cancel()
		r = r.WithContext(ctx)
	}
	f.next.ServeHTTP(&x.rec, r)
	if x.stream == nil {
		return nil
	}
	// The stream keeps the request as it arrived, not the copies the
	// chain made, whose contexts hold the session and the member.
	x.r, x.held = arrived, true
	x.stream.r = arrived
	return x
}

// ended, deferred by serve, logs a request that did not become a stream,
// and closes a stream that was held but never ran (the chain panicked on
// its way back).
func (s *Server) ended(x *exchange) {
	switch {
	case x.held:
	case x.stream != nil:
		x.stream.close()
		s.logRequest(x)
	default:
		s.logRequest(x)
	}
}

// holdStream makes the request of r go on as st once the handler and the
// middleware between frontDoor and it have returned, which must then leave
// the response alone: loadSession, loadUser and memberAPI do nothing after
// their handler returns nil. It reports false when r did not come through
// frontDoor.
func holdStream(r *http.Request, st *stream) bool {
	x, ok := r.Context().Value(exchangeKey).(*exchange)
	if ok {
		x.stream = st
	}
	return ok
}

// recovered, deferred, handles a panic of the request's handler.
func (s *Server) recovered(w http.ResponseWriter, r *http.Request) {
	if p := recover(); p != nil {
		if p == http.ErrAbortHandler {
			panic(p) // net/http ends the connection quietly
		}
		s.logPanic(r, p)
		if !responseStarted(w) {
			http.Error(w, "Internal error", http.StatusInternalServerError)
		}
	}
}

// recoveredOff, deferred, is recovered for a stream that runs off net/http's
// connection (stream.detach): no server goroutine below it would take a
// panic passed on, so http.ErrAbortHandler just ends the stream.
func (s *Server) recoveredOff(r *http.Request) {
	if p := recover(); p != nil && p != http.ErrAbortHandler {
		s.logPanic(r, p)
	}
}

func (s *Server) logPanic(r *http.Request, p any) {
	s.log.ErrorContext(r.Context(), "panic", "method", r.Method, "path", r.URL.Path,
		"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
}

// logRequest counts an answered request in the metrics and writes its log
// line.
func (s *Server) logRequest(x *exchange) {
	elapsed := time.Since(x.start)
	r, rec := x.r, &x.rec
	route := x.route
	if route == "" {
		route = r.Pattern // set by the outer mux for files and probes
	}
	if route == "" || route == "/" {
		route = "other"
	}
	s.metrics.observe(route, metricMethod(r.Method), rec.status, elapsed.Seconds())
	level := slog.LevelInfo
	switch {
	case rec.status == http.StatusServiceUnavailable:
		// Not ready, or a deadline passed: a condition (a sick
		// database) reported where it is met, not a fault per request.
		level = slog.LevelWarn
	case rec.status >= 500:
		level = slog.LevelError
	}
	s.log.LogAttrs(r.Context(), level, "request",
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.Int("status", rec.status),
		slog.Int64("bytes", rec.bytes),
		slog.Duration("duration", elapsed),
		slog.String("remote", r.RemoteAddr))
}

// recorder notes the status and size of a response. Unwrap lets
// http.ResponseController reach the connection (flushes, deadlines).
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *recorder) Flush() { r.FlushError() }

// FlushError is what http.ResponseController.Flush calls: it passes on the
// error that Flush, for http.Flusher's sake, drops.
func (r *recorder) FlushError() error { return http.NewResponseController(r.ResponseWriter).Flush() }

// Hijack lets an HTTP/1 event stream take its connection (stream.detach).
func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(r.ResponseWriter).Hijack()
}

// clientAddr is the client's address for rate limits: the connection's
// peer or, when that peer is a trusted proxy, the nearest address in
// X-Forwarded-For that is not a trusted proxy itself (walking from the
// right, as each proxy appends the address it saw).
func (s *Server) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	addr = addr.Unmap()
	if !s.trusted(addr) {
		return addr.String()
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // garbage: trust nothing further left
		}
		addr = hop.Unmap()
		if !s.trusted(addr) {
			break
		}
	}
	return addr.String()
}

// trusted reports whether addr is one of the trusted proxies.
func (s *Server) trusted(addr netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// sessionUserID is the session key of the logged-in member's id.
const sessionUserID = "user_id"

// notice makes msg the one-time message of the next page (notice.go). It
// cannot fail, so an action that has committed is always told as done.
func (s *Server) notice(w http.ResponseWriter, msg string) {
	s.notices.set(w, msg)
}

// current returns the logged-in member; member() guarantees there is one.
func current(r *http.Request) natter.Account {
	u, _ := me(r)
	return u
}
