package web_test

// natter's HTTP tests, one file per area, read as a tour of the site:
//
//	accounts_test.go       registering, logging in and out, sessions, rate limits, CSRF
//	posts_test.go          the timeline, posting, mentions, times
//	users_test.go          profiles, the popover, editing a profile, "last seen"
//	messages_test.go       private messages, the badge, inbox, conversations, blocking, isolation
//	notifications_test.go  /notifications?since= and the notification centre
//	events_test.go         the live /events stream
//	pages_test.go          every page, static files, avatars, errors, HTML injection
//
// This file is the harness: a real natter (SQLite in a temporary directory,
// the real web.Server behind httptest.NewServer), members who each have their
// own browser (an http.Client with a cookie jar), and a few small helpers to
// read pages and event streams. Tests talk to natter only through HTTP, the
// way a browser does; the store is used only to look at what HTTP cannot
// show (such as when "last seen" was written).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/prometheus/client_golang/prometheus"

	"natter/internal/app"
	"natter/internal/live"
	"natter/internal/natter"
	"natter/internal/store"
	"natter/internal/store/storetest"
	"natter/internal/web"
)

// waitFor bounds every wait for something the server should do at once (an
// event on a stream). It is a guard against hanging, never a measurement.
const waitFor = 10 * time.Second

// siteOptions tune a test site. The zero value is natter's defaults, except
// that rate limits are off unless a test sets one.
type siteOptions struct {
	App              app.Config
	StreamsPerMember int           // the hub's cap; default 8, as cmd/natter
	Heartbeat        time.Duration // default an hour: tests see no heartbeats unless they ask
	SecureCookies    bool
	// StreamWriteTimeout is web.Config's; default natter's.
	StreamWriteTimeout time.Duration
	// H2C serves HTTP/2 without TLS, as natter's HTTPServer does, and
	// the members' browsers speak it.
	H2C bool
	// TrustedProxies is web.Config's: a test that needs members at several
	// addresses trusts 127.0.0.1 and gives each browser its From.
	TrustedProxies []netip.Prefix
	// Wrap, if set, wraps the web server's handler (to simulate a client
	// that stops reading, say).
	Wrap func(http.Handler) http.Handler
	// ConnState, if set, is the test server's http.Server.ConnState.
	ConnState func(net.Conn, http.ConnState)
	// Sessions, if set, wraps the session store (to make it fail).
	Sessions func(scs.Store) scs.Store
	// Logs, if set, receives what natter logs at error level, which then
	// does not fail the test: the test expects faults and reads them.
	Logs *lockedBuffer
	// Ready and RequestTimeout are web.Config's.
	Ready          func(context.Context) error
	RequestTimeout time.Duration
	// SiteName and SiteDescription are web.Config's.
	SiteName, SiteDescription string
	// Metrics is web.Config's: a test that reads the metrics passes a
	// registry.
	Metrics prometheus.Registerer
}

// site is one running natter.
type site struct {
	URL   string
	srv   *web.Server
	store *store.Store // to look at what HTTP does not show
	dsn   string       // the store's SQLite file
	hub   *live.Hub
	clock *clock
	// transport carries the members' requests.
	transport http.RoundTripper
	// handler is natter's, for benchmarks that call it directly.
	handler http.Handler
}

// newSite starts natter wired the way cmd/natter wires it.
func newSite(t testing.TB, opts ...siteOptions) *site {
	t.Helper()
	var o siteOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	cfg := o.App
	cfg.Password = app.FastPasswordParams
	for _, l := range []*app.Limit{&cfg.LoginPerAccountAddress, &cfg.LoginPerAccount, &cfg.LoginPerAddress, &cfg.LoginSuccessPerAccount, &cfg.LoginSuccessPerAddress, &cfg.RegisterPerAddr, &cfg.SendPerMember, &cfg.PostPerMember, &cfg.LookupPerMember} {
		if *l == (app.Limit{}) {
			*l = app.NoLimit
		}
	}
	if o.StreamsPerMember == 0 {
		o.StreamsPerMember = 8
	}
	if o.Heartbeat == 0 {
		o.Heartbeat = time.Hour
	}

	// Anything natter logs as an error (a 500, a panic) fails the test,
	// whatever the test itself checks: no page may be an internal error.
	errs := o.Logs
	if errs == nil {
		errs = &lockedBuffer{}
		t.Cleanup(func() {
			if errs.String() != "" {
				t.Errorf("natter logged errors:\n%s", errs)
			}
		})
	}

	clk := &clock{}
	dsn := storetest.DSN(t, store.SQLite)
	st, err := store.Open(context.Background(), dsn, store.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	hub := live.NewHub(o.StreamsPerMember)
	a, err := app.New(st, hub, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var sessions scs.Store = st.Sessions()
	if o.Sessions != nil {
		sessions = o.Sessions(sessions)
	}
	srv, err := web.New(web.Config{
		App:                a,
		Hub:                hub,
		Sessions:           sessions,
		Ready:              o.Ready,
		RequestTimeout:     o.RequestTimeout,
		SessionCodec:       store.SessionCodec{},
		Logger:             slog.New(slog.NewTextHandler(errs, &slog.HandlerOptions{Level: slog.LevelError})),
		Heartbeat:          o.Heartbeat,
		SecureCookies:      o.SecureCookies,
		StreamWriteTimeout: o.StreamWriteTimeout,
		TrustedProxies:     o.TrustedProxies,
		SiteName:           o.SiteName,
		SiteDescription:    o.SiteDescription,
		Metrics:            o.Metrics,
	})
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler = srv
	if o.Wrap != nil {
		h = o.Wrap(srv)
	}
	ts := httptest.NewUnstartedServer(h)
	if o.ConnState != nil {
		ts.Config.ConnState = o.ConnState
	}
	var transport http.RoundTripper = http.DefaultTransport
	if o.H2C {
		ts.Config.Protocols = new(http.Protocols)
		ts.Config.Protocols.SetUnencryptedHTTP2(true)
		tr := &http.Transport{Protocols: new(http.Protocols)}
		tr.Protocols.SetUnencryptedHTTP2(true)
		t.Cleanup(tr.CloseIdleConnections)
		transport = tr
	}
	ts.Start()
	t.Cleanup(ts.Close)
	// Streams over HTTP/1 run off the test server's connections, which
	// ts.Close neither closes nor waits for: end them before the store
	// closes, as cmd/natter does.
	t.Cleanup(func() {
		hub.CloseAll()
		if err := srv.ShutdownStreams(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return &site{URL: ts.URL, srv: srv, store: st, dsn: dsn, hub: hub, clock: clk, transport: transport, handler: h}
}

// lockedBuffer is a bytes.Buffer that handlers may write to at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// clock is the site's clock: the real time, moved forward by Advance.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// Set puts the clock offset from the real time: negative is the past.
func (c *clock) Set(offset time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset = offset
}

// member is someone using natter in their own browser. Its methods take
// the running (sub)test, so that a failure stops the right one.
type member struct {
	site     *site
	name     string
	email    string
	password string
	client   *http.Client
	// from, if set, is the address the browser appears to come from (as
	// X-Forwarded-For; see siteOptions.TrustedProxies).
	from string
}

// browser returns a new visitor with an empty cookie jar, logged in as
// nobody. Redirects are not followed, so that tests see them.
func (s *site) browser() *member {
	jar, err := cookiejar.New(nil)
	if err != nil {
		panic(err)
	}
	return &member{site: s, client: &http.Client{
		Transport:     s.transport,
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// register signs a new member up through the form (and so logs them in).
func (s *site) register(t testing.TB, name string) *member {
	t.Helper()
	m := s.browser()
	m.name, m.email, m.password = name, strings.ToLower(name)+"@example.com", "staple horse "+strconv.Itoa(len(name))+" battery"
	r := m.postForm(t, "/register", url.Values{
		"username":         {m.name},
		"email":            {m.email},
		"password":         {m.password},
		"confirm_password": {m.password},
	})
	r.wantRedirect("/")
	return m
}

// login opens a new browser in which the member logs in.
func (m *member) login(t testing.TB) *member {
	t.Helper()
	b := m.site.browser()
	b.name, b.email, b.password = m.name, m.email, m.password
	b.postForm(t, "/login", url.Values{"username": {m.name}, "password": {m.password}}).wantRedirect("/")
	return b
}

// user returns the member as the store has them now.
func (m *member) user(t testing.TB) natter.Account {
	t.Helper()
	ctx := context.Background()
	mem, err := m.site.store.MemberByName(ctx, m.name)
	if err != nil {
		t.Fatalf("user %s: %v", m.name, err)
	}
	u, err := m.site.store.Account(ctx, mem.ID)
	if err != nil {
		t.Fatalf("user %s: %v", m.name, err)
	}
	return u
}

// response is a finished HTTP exchange with its body read.
type response struct {
	t testing.TB
	*http.Response
	Body string
}

func (m *member) do(t testing.TB, req *http.Request) *response {
	t.Helper()
	if m.from != "" {
		req.Header.Set("X-Forwarded-For", m.from)
	}
	res, err := m.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", req.Method, req.URL, err)
	}
	return &response{t: t, Response: res, Body: string(b)}
}

func (m *member) newRequest(t testing.TB, method, path string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, m.site.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// get fetches path.
func (m *member) get(t testing.TB, path string) *response {
	t.Helper()
	return m.do(t, m.newRequest(t, http.MethodGet, path, nil))
}

// page fetches path and fails the test unless it is a 200.
func (m *member) page(t testing.TB, path string) *response {
	t.Helper()
	return m.get(t, path).wantStatus(http.StatusOK)
}

// postForm submits a form to path, the way a browser does.
func (m *member) postForm(t testing.TB, path string, form url.Values) *response {
	t.Helper()
	req := m.newRequest(t, http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return m.do(t, req)
}

// follow fetches where a redirect points.
func (m *member) follow(t testing.TB, r *response) *response {
	t.Helper()
	loc := r.Header.Get("Location")
	if loc == "" {
		t.Fatalf("%s %s: %d with no Location", r.Request.Method, r.Request.URL.Path, r.StatusCode)
	}
	return m.get(t, loc)
}

// post publishes a post on the timeline.
func (m *member) post(t testing.TB, body string) {
	t.Helper()
	m.postForm(t, "/index", url.Values{"body": {body}}).wantRedirect("/")
}

// send sends a private message.
func (m *member) send(t testing.TB, to *member, body string) {
	t.Helper()
	m.postForm(t, "/send-message/"+to.name, url.Values{"message": {body}}).wantRedirect("/messages/" + to.name)
}

// notifications polls /notifications?since= and decodes the seed's list.
func (m *member) notifications(t testing.TB, since string) []map[string]any {
	t.Helper()
	r := m.get(t, "/notifications?since="+url.QueryEscape(since))
	r.wantStatus(http.StatusOK)
	var list []map[string]any
	if err := json.Unmarshal([]byte(r.Body), &list); err != nil {
		t.Fatalf("/notifications: %v\n%s", err, r.Body)
	}
	return list
}

// notification returns the latest value of the member's notification called
// name (-1 if there is none), as /notifications reports it.
func (m *member) notification(t testing.TB, name string) float64 {
	t.Helper()
	v := -1.0
	for _, n := range m.notifications(t, "0") {
		if n["name"] == name {
			v = n["data"].(float64)
		}
	}
	return v
}

// badges returns the counts the navbar shows on a fresh page load: unread
// messages and unread notifications (0 when the badge is hidden).
func (m *member) badges(t testing.TB) (messages, activity int) {
	t.Helper()
	p := m.page(t, "/edit-profile")
	return p.badge("message_count"), p.badge("activity_count")
}

func (r *response) wantStatus(code int) *response {
	r.t.Helper()
	if r.StatusCode != code {
		r.t.Fatalf("%s %s: status %d, want %d\n%s", r.Request.Method, r.Request.URL.RequestURI(), r.StatusCode, code, excerpt(r.Body))
	}
	return r
}

// wantRedirect checks that r is a 303 See Other to location.
func (r *response) wantRedirect(location string) *response {
	r.t.Helper()
	r.wantStatus(http.StatusSeeOther)
	if got := r.Header.Get("Location"); got != location {
		r.t.Fatalf("%s %s: redirect to %q, want %q", r.Request.Method, r.Request.URL.RequestURI(), got, location)
	}
	return r
}

// wantText checks that the page's visible text contains each of texts.
func (r *response) wantText(texts ...string) *response {
	r.t.Helper()
	visible := textOf(r.Body)
	for _, s := range texts {
		if !strings.Contains(visible, s) {
			r.t.Errorf("%s %s: page does not say %q\n%s", r.Request.Method, r.Request.URL.RequestURI(), s, excerpt(visible))
		}
	}
	return r
}

// wantNoText checks that the page's visible text contains none of texts.
func (r *response) wantNoText(texts ...string) *response {
	r.t.Helper()
	visible := textOf(r.Body)
	for _, s := range texts {
		if strings.Contains(visible, s) {
			r.t.Errorf("%s %s: page says %q, but should not", r.Request.Method, r.Request.URL.RequestURI(), s)
		}
	}
	return r
}

// byID returns the element with that id, failing the test if there is none.
func (r *response) byID(id string) element {
	r.t.Helper()
	e, ok := findID(r.Body, id)
	if !ok {
		r.t.Fatalf("%s %s: no element #%s\n%s", r.Request.Method, r.Request.URL.RequestURI(), id, excerpt(r.Body))
	}
	return e
}

// badge reads a navbar badge: its count, or 0 when it is hidden. A hidden
// badge must still be on the page (the live script fills it in later).
func (r *response) badge(id string) int {
	r.t.Helper()
	e := r.byID(id)
	n, err := strconv.Atoi(e.Text())
	if err != nil {
		r.t.Fatalf("#%s = %q, not a number", id, e.Text())
	}
	if e.Has("hidden") != (n == 0) {
		r.t.Fatalf("#%s shows %d with hidden=%v: a badge is hidden exactly when its count is 0", id, n, e.Has("hidden"))
	}
	return n
}

// fieldError is the error shown under a form field ("" if none).
func (r *response) fieldError(name string) string {
	r.t.Helper()
	if e, ok := findID(r.Body, name+"-error"); ok {
		return e.Text()
	}
	return ""
}

// fieldValue is what a form field holds: an input's value or a textarea's text.
func (r *response) fieldValue(name string) string {
	r.t.Helper()
	e := r.byID(name)
	if e.Tag == "textarea" {
		return html.UnescapeString(strings.TrimPrefix(e.Inner, "\n"))
	}
	return e.Attr["value"]
}

// texts returns the visible text of each element of the class, in page order.
func (r *response) texts(class string) []string {
	var out []string
	for _, e := range findClass(r.Body, class) {
		out = append(out, e.Text())
	}
	return out
}

// ---------------------------------------------------------------------------
// Reading HTML: just enough of a parser for natter's own, well-formed pages.

// element is one HTML element of a page.
type element struct {
	Tag   string
	Attr  map[string]string
	Inner string // the HTML between the start and end tags
}

// Has reports whether the element has the attribute (hidden, disabled, ...).
func (e element) Has(attr string) bool {
	_, ok := e.Attr[attr]
	return ok
}

// Text is the element's text as a reader sees it: tags dropped, entities
// decoded, runs of white space made one space.
func (e element) Text() string { return textOf(e.Inner) }

// HasClass reports whether class is one of the element's classes.
func (e element) HasClass(class string) bool {
	return strings.Contains(" "+e.Attr["class"]+" ", " "+class+" ")
}

var (
	startTagRE = regexp.MustCompile(`<([a-zA-Z][a-zA-Z0-9]*)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>]+))?)*)\s*/?>`)
	attrRE     = regexp.MustCompile(`([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>]+)))?`)
	tagRE      = regexp.MustCompile(`<[^>]*>`)
	spaceRE    = regexp.MustCompile(`\s+`)
)

var voidElements = map[string]bool{"area": true, "base": true, "br": true, "col": true, "embed": true,
	"hr": true, "img": true, "input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true}

// elements returns every element of doc, in document order, for which keep
// (given the start tag's attributes) is true.
func elements(doc string, keep func(tag string, attr map[string]string) bool) []element {
	var out []element
	for _, m := range startTagRE.FindAllStringSubmatchIndex(doc, -1) {
		tag := strings.ToLower(doc[m[2]:m[3]])
		attr := map[string]string{}
		for _, a := range attrRE.FindAllStringSubmatch(doc[m[4]:m[5]], -1) {
			attr[strings.ToLower(a[1])] = html.UnescapeString(a[2] + a[3] + a[4])
		}
		if !keep(tag, attr) {
			continue
		}
		e := element{Tag: tag, Attr: attr}
		if !voidElements[tag] {
			e.Inner = innerHTML(doc[m[1]:], tag)
		}
		out = append(out, e)
	}
	return out
}

// innerHTML returns rest up to the end tag that closes an open tag element,
// counting nested elements of the same name.
func innerHTML(rest, tag string) string {
	re := regexp.MustCompile(`(?i)<(/?)` + tag + `[\s>/]`)
	depth := 1
	for _, m := range re.FindAllStringSubmatchIndex(rest, -1) {
		if m[3] > m[2] { // an end tag
			if depth--; depth == 0 {
				return rest[:m[0]]
			}
		} else {
			depth++
		}
	}
	return rest
}

func findID(doc, id string) (element, bool) {
	es := elements(doc, func(_ string, a map[string]string) bool { return a["id"] == id })
	if len(es) == 0 {
		return element{}, false
	}
	return es[0], true
}

func findClass(doc, class string) []element {
	return elements(doc, func(_ string, a map[string]string) bool {
		return strings.Contains(" "+a["class"]+" ", " "+class+" ")
	})
}

// findTag returns the elements with that tag name.
func findTag(doc, tag string) []element {
	return elements(doc, func(t string, _ map[string]string) bool { return t == tag })
}

func textOf(fragment string) string {
	return strings.TrimSpace(spaceRE.ReplaceAllString(html.UnescapeString(tagRE.ReplaceAllString(fragment, "")), " "))
}

// excerpt shortens a page for a failure message.
func excerpt(s string) string {
	if len(s) > 3000 {
		return s[:3000] + "…"
	}
	return s
}

// ---------------------------------------------------------------------------
// Reading /events as a client.

// event is one Server-Sent Event.
type event struct {
	ID, Name, Data string
}

// stream is an open GET /events.
type stream struct {
	t      testing.TB
	resp   *http.Response
	events chan event
	cancel context.CancelFunc
}

// openStream connects the member's browser to /events. lastEventID, if not
// "", is sent as the Last-Event-ID header, as a reconnecting EventSource does.
// When openStream returns the stream is subscribed: anything that happens
// from now on reaches it.
func (m *member) openStream(t testing.TB, lastEventID string) *stream {
	t.Helper()
	return m.openStreamAt(t, "/events", lastEventID)
}

// openStreamAt is openStream for another URL of the stream, such as
// /events?timeline=1.
func (m *member) openStreamAt(t testing.TB, path, lastEventID string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req := m.newRequest(t, http.MethodGet, path, nil).WithContext(ctx)
	req.Header.Set("Accept", "text/event-stream")
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	res, err := m.client.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("GET /events: %v", err)
	}
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		cancel()
		t.Fatalf("GET /events: status %d\n%s", res.StatusCode, b)
	}
	s := &stream{t: t, resp: res, events: make(chan event, 100), cancel: cancel}
	t.Cleanup(s.close)
	go s.read(ctx, bufio.NewReader(res.Body))
	return s
}

// read parses the stream (the subset of the SSE format natter writes) until
// it ends, then closes s.events. Comments (heartbeats) become events named
// ":".
func (s *stream) read(ctx context.Context, br *bufio.Reader) {
	defer close(s.events)
	emit := func(ev event) {
		select {
		case s.events <- ev:
		case <-ctx.Done():
		}
	}
	var ev event
	var any bool
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimSuffix(line, "\n")
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch {
		case line == "":
			if any {
				emit(ev)
			}
			ev, any = event{}, false
		case field == "":
			emit(event{Name: ":", Data: value})
		case field == "id":
			ev.ID, any = value, true
		case field == "event":
			ev.Name, any = value, true
		case field == "data":
			if ev.Data != "" {
				ev.Data += "\n"
			}
			ev.Data, any = ev.Data+value, true
		}
	}
}

func (s *stream) close() {
	s.cancel()
	s.resp.Body.Close()
}

// next returns the stream's next event, skipping heartbeats.
func (s *stream) next() event {
	s.t.Helper()
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				s.t.Fatal("event stream ended, want an event")
			}
			if ev.Name != ":" {
				return ev
			}
		case <-time.After(waitFor):
			s.t.Fatal("no event on the stream")
		}
	}
}

// nextNamed returns the next event called name, skipping others.
func (s *stream) nextNamed(name string) event {
	s.t.Helper()
	for {
		if ev := s.next(); ev.Name == name {
			return ev
		}
	}
}

// wantEnd waits for the server to end the stream.
func (s *stream) wantEnd() {
	s.t.Helper()
	timeout := time.After(waitFor)
	for {
		select {
		case _, ok := <-s.events:
			if !ok {
				return
			}
		case <-timeout:
			s.t.Fatal("the server did not end the event stream")
		}
	}
}

// count decodes an event's data, the /notifications object, and checks it
// is a count with the event's name.
func (ev event) count(t testing.TB) int {
	t.Helper()
	var n struct {
		Name      string
		Data      int
		Timestamp float64
	}
	if err := json.Unmarshal([]byte(ev.Data), &n); err != nil {
		t.Fatalf("event data %q: %v", ev.Data, err)
	}
	if n.Name != ev.Name || n.Timestamp == 0 {
		t.Fatalf("event %q carries %q, want the /notifications object of the same name", ev.Name, ev.Data)
	}
	return n.Data
}

// String helps failure messages.
func (ev event) String() string {
	return fmt.Sprintf("id:%s event:%s data:%s", ev.ID, ev.Name, ev.Data)
}
