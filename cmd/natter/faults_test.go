package main

import (
	"bufio"
	"context"
	"database/sql"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"natter/internal/app"
	"natter/internal/store"
	"natter/internal/store/storetest"
)

// tcpProxy stands between natter and PostgreSQL and can go silent the way
// a failover or a NAT that forgot its connections does: Stall stops
// forwarding on every connection (and holds new ones unanswered), and
// Resume drops the old connections, as the forgotten peer finally would,
// and forwards new ones again.
type tcpProxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	stall chan struct{} // non-nil while stalled; closed by Resume
	conns []net.Conn
}

func startProxy(t *testing.T, addr, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target}
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, c := range p.conns {
			c.Close()
		}
		if p.stall != nil {
			close(p.stall)
			p.stall = nil
		}
	})
	go p.serve()
	return p
}

func (p *tcpProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.handle(c)
	}
}

func (p *tcpProxy) handle(c net.Conn) {
	p.mu.Lock()
	stall := p.stall
	p.mu.Unlock()
	if stall != nil {
		<-stall // accepted, never answered: a black hole
	}
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, c, s)
	p.mu.Unlock()
	go p.pipe(s, c)
	go p.pipe(c, s)
}

func (p *tcpProxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			stall := p.stall
			p.mu.Unlock()
			if stall != nil {
				<-stall // the bytes are lost, and so is the connection
				return
			}
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *tcpProxy) Addr() string { return p.ln.Addr().String() }

func (p *tcpProxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stall == nil {
		p.stall = make(chan struct{})
	}
}

func (p *tcpProxy) Resume() {
	p.mu.Lock()
	old, stall := p.conns, p.stall
	p.conns, p.stall = nil, nil
	p.mu.Unlock()
	for _, c := range old {
		c.Close()
	}
	if stall != nil {
		close(stall)
	}
}

// through returns dsn with its host replaced by addr.
func through(t *testing.T, dsn, addr string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = addr
	return u.String()
}

// postgresAddr is the host:port of dsn.
func postgresAddr(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if u.Port() == "" {
		return u.Hostname() + ":5432"
	}
	return u.Host
}

// readyz returns /readyz's status and body.
func readyz(t *testing.T, base string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 20 * time.Second}
	resp, err := c.Get(base + "/readyz")
	if err != nil {
		t.Fatalf("readyz: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitReadyz polls /readyz until it answers status with want in its body;
// the bound guards against hanging.
func waitReadyz(t *testing.T, base string, status int, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body := readyz(t, base)
		if code == status && strings.Contains(body, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz: %d %s; want %d with %q", code, body, status, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A PostgreSQL connection that goes silent (the proxy stops forwarding):
// the instance says it is not ready because its listener has not heard from
// PostgreSQL, and once connections work again the listener reconnects
// within seconds and the member's stream catches up with what another
// instance committed meanwhile.
func TestListenerSilentConnection(t *testing.T) {
	dsn := storetest.DSN(t, store.Postgres)
	proxy := startProxy(t, "127.0.0.1:0", postgresAddr(t, dsn))
	instA := instance(t, nil, "-database-url", through(t, dsn, proxy.Addr()), "-listener-ping", "300ms", "-request-timeout", "2s")
	t.Cleanup(proxy.Resume) // before the instance stops
	instB := instance(t, nil, "-database-url", dsn)

	alice := newClient(t, instB)
	alice.register("alice")
	bob := newClient(t, instB)
	bob.register("bob")
	events := bob.at(instA).resilientStream()
	waitReadyz(t, instA, http.StatusOK, `"ready":true`)

	proxy.Stall()
	waitReadyz(t, instA, http.StatusServiceUnavailable, "notification listener")
	alice.send("bob", "sent while A could not hear")

	proxy.Resume()
	waitReadyz(t, instA, http.StatusOK, `"ready":true`)
	waitFor(t, events, app.NotifyMessages, `"data":1`)
	alice.send("bob", "and after")
	waitFor(t, events, app.NotifyMessages, `"data":2`)
}

// resilientStream is stream as a browser's EventSource keeps it: when the
// stream ends or cannot be opened, it reconnects with Last-Event-ID.
func (c *client) resilientStream() <-chan event {
	ctx, cancel := context.WithCancel(context.Background())
	c.t.Cleanup(cancel)
	ch := make(chan event, 64)
	go func() {
		last := ""
		hc := &http.Client{Jar: c.http.Jar}
		for ctx.Err() == nil {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/events", nil)
			if last != "" {
				req.Header.Set("Last-Event-ID", last)
			}
			resp, err := hc.Do(req)
			if err != nil || resp.StatusCode != http.StatusOK {
				if err == nil {
					resp.Body.Close()
				}
				select {
				case <-ctx.Done():
				case <-time.After(200 * time.Millisecond): // EventSource's retry
				}
				continue
			}
			r := bufio.NewReader(resp.Body)
			var ev event
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					break
				}
				line = strings.TrimRight(line, "\r\n")
				switch {
				case line == "":
					if ev.name != "" {
						last = ev.id
						select {
						case ch <- ev:
						case <-ctx.Done():
						}
					}
					ev = event{}
				case strings.HasPrefix(line, "id: "):
					ev.id = line[4:]
				case strings.HasPrefix(line, "event: "):
					ev.name = line[7:]
				case strings.HasPrefix(line, "data: "):
					ev.data = line[6:]
				}
			}
			resp.Body.Close()
		}
	}()
	return ch
}

// A PostgreSQL that accepts connections and never answers makes a page fail
// within the request's deadline (a 503 saying to try again), not hang.
func TestPostgresBlackHole(t *testing.T) {
	dsn := storetest.DSN(t, store.Postgres)
	proxy := startProxy(t, "127.0.0.1:0", postgresAddr(t, dsn))
	base := instance(t, nil, "-database-url", through(t, dsn, proxy.Addr()), "-request-timeout", "5s")
	t.Cleanup(proxy.Resume)
	alice := newClient(t, base)
	alice.register("alice")

	proxy.Stall()
	alice.http.Timeout = 15 * time.Second // far beyond the deadline: a hang fails
	start := time.Now()
	resp, body := alice.get("/user/alice")
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "try again") {
		t.Errorf("a page while PostgreSQL is a black hole: %d after %s, want 503", resp.StatusCode, time.Since(start))
	}
	if resp.Header.Get("Retry-After") == "" {
		t.Errorf("503 without Retry-After")
	}
}

// With PostgreSQL unreachable at start, natter tries again, logging each
// attempt, and starts once it can connect.
func TestStartWaitsForPostgres(t *testing.T) {
	dsn := storetest.DSN(t, store.Postgres)
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	logs := newWatchedLog("database not reachable; trying again")

	ctx, cancel := context.WithCancel(context.Background())
	listening := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-database-url", through(t, dsn, addr), "-start-timeout", "1m"},
			func(string) string { return "" }, logs, &runHooks{listening: listening})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("natter stopped with: %v", err)
		}
	})
	select {
	case <-logs.seen:
	case err := <-done:
		done <- err
		t.Fatalf("natter gave up at once: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("no retry was logged")
	}
	startProxy(t, addr, postgresAddr(t, dsn)) // PostgreSQL is there now
	select {
	case a := <-listening:
		newClient(t, "http://"+a).register("alice")
	case err := <-done:
		done <- err
		t.Fatalf("natter did not start: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("natter did not start once PostgreSQL could be reached")
	}
}

// watchedLog is a log writer that closes seen when a line contains want.
type watchedLog struct {
	mu   sync.Mutex
	want string
	seen chan struct{}
	once sync.Once
}

func newWatchedLog(want string) *watchedLog {
	return &watchedLog{want: want, seen: make(chan struct{})}
}

func (l *watchedLog) Write(p []byte) (int, error) {
	if strings.Contains(string(p), l.want) {
		l.once.Do(func() { close(l.seen) })
	}
	return len(p), nil
}

// Shutdown with a write stuck on SQLite's lock (another process holds it):
// when -shutdown-timeout is up, natter cancels the request, which is then
// not acknowledged and not written, and exits within the timeout plus a
// second — not when the lock is released or the busy timeout passes.
func TestShutdownWithWriteStuckOnLock(t *testing.T) {
	const shutdownWait = 2 * time.Second
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	path := filepath.Join(t.TempDir(), "natter.db")
	dport, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	debug := "127.0.0.1:" + strconv.Itoa(dport)
	listening := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-database-url", path, "-debug-addr", debug,
			"-shutdown-timeout", shutdownWait.String(), "-request-timeout", "1m"},
			func(string) string { return "" }, io.Discard, &runHooks{listening: listening})
	}()
	base := "http://" + <-listening
	alice := newClient(t, base)
	alice.register("alice")
	newClient(t, base).register("bob")

	other, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	holder, err := other.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if _, err := holder.ExecContext(context.Background(), `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	defer holder.ExecContext(context.Background(), `ROLLBACK`)

	sent := make(chan int, 1)
	go func() {
		resp, err := alice.http.PostForm(base+"/send-message/bob", url.Values{"message": {"stuck"}})
		if err != nil {
			sent <- 0
			return
		}
		resp.Body.Close()
		sent <- resp.StatusCode
	}()
	// The send holds the writer connection, waiting for the lock.
	waitMetric(t, debug, `natter_db_connections_in_use{pool="write"} 1`)

	begun := time.Now()
	stop() // what SIGTERM does
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("natter stopped with: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("natter did not stop while the lock was held")
	}
	if took := time.Since(begun); took > shutdownWait+time.Second {
		t.Errorf("shutdown took %s with -shutdown-timeout %s", took, shutdownWait)
	}
	if code := <-sent; code == http.StatusSeeOther {
		t.Errorf("the stuck send was acknowledged")
	}

	holder.ExecContext(context.Background(), `ROLLBACK`)
	s, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	bob, err := s.MemberByName(context.Background(), "bob")
	if err != nil {
		t.Fatal(err)
	}
	if acc, err := s.Account(context.Background(), bob.ID); err != nil || acc.UnreadMessages != 0 {
		t.Errorf("bob: %d unread, %v; want the unacknowledged send not written", acc.UnreadMessages, err)
	}
}

// waitMetric polls natter's debug listener until its metrics contain line.
func waitMetric(t *testing.T, debug, line string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + debug + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(b), line) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics never showed %s", line)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// natter backup FILE copies a running site's database, says how big and
// how long, and refuses to overwrite a backup or to back up PostgreSQL.
func TestBackupCommand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "natter.db")
	base := instance(t, nil, "-database-url", path)
	newClient(t, base).register("alice")

	dest := filepath.Join(t.TempDir(), "backup.db")
	var out strings.Builder
	getenv := func(k string) string { return map[string]string{"DATABASE_URL": path}[k] }
	if err := run(context.Background(), []string{"backup", dest}, getenv, &out, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "MB in") {
		t.Errorf("backup said %q, want its size and duration", out.String())
	}
	s, err := store.Open(context.Background(), dest, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.MemberByName(context.Background(), "alice"); err != nil {
		t.Errorf("alice is not in the backup: %v", err)
	}

	if err := run(context.Background(), []string{"backup", dest}, getenv, io.Discard, nil); err == nil {
		t.Error("a backup over an existing file was made")
	}
	if err := run(context.Background(), []string{"backup"}, getenv, io.Discard, nil); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Errorf("backup without a file: %v", err)
	}
	pg := func(k string) string { return map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1:1/x"}[k] }
	if err := run(context.Background(), []string{"backup", filepath.Join(t.TempDir(), "x")}, pg, io.Discard, nil); err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Errorf("backup of PostgreSQL: %v, want a pointer to pg_dump", err)
	}
}
