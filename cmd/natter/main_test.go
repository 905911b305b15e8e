package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"natter/internal/app"
	"natter/internal/live"
	"natter/internal/store"
	"natter/internal/store/storetest"
)

func TestParseConfig(t *testing.T) {
	env := map[string]string{"NATTER_ADDR": "127.0.0.1:9000", "DATABASE_URL": "x.db", "POSTS_PER_PAGE": "25", "NATTER_SEND_LIMIT": "5/1h"}
	getenv := func(k string) string { return env[k] }

	t.Run("EnvironmentDefaults", func(t *testing.T) {
		c, err := parseConfig(nil, getenv, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.addr != "127.0.0.1:9000" || c.databaseURL != "x.db" || c.postsPerPage != 25 || c.sendLimit != (app.Limit{Events: 5, Per: time.Hour}) {
			t.Errorf("got %+v", c)
		}
	})
	t.Run("FlagsWin", func(t *testing.T) {
		c, err := parseConfig([]string{"-addr", ":1", "-posts-per-page", "3"}, getenv, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.addr != ":1" || c.postsPerPage != 3 {
			t.Errorf("got addr %q, posts per page %d", c.addr, c.postsPerPage)
		}
	})
	t.Run("Defaults", func(t *testing.T) {
		c, err := parseConfig(nil, func(string) string { return "" }, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.addr != "localhost:8080" || c.databaseURL != "natter.db" || c.postsPerPage != 10 {
			t.Errorf("got %+v", c)
		}
	})
	for _, bad := range []map[string]string{
		{"POSTS_PER_PAGE": "ten"},
		{"POSTS_PER_PAGE": "0"},
		{"NATTER_SEND_LIMIT": "lots"},
		{"NATTER_HEARTBEAT": "-1s"},
		{"NATTER_TRUSTED_PROXIES": "not-an-address"},
		{"NATTER_LOG_FORMAT": "xml"},
	} {
		t.Run("Err"+fmt.Sprint(bad), func(t *testing.T) {
			if _, err := parseConfig(nil, func(k string) string { return bad[k] }, nil); err == nil {
				t.Errorf("no error for %v", bad)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://natter:s3cret@db:5432/natter": "postgres://natter:xxxxx@db:5432/natter",
		"postgres://natter@db/natter":             "postgres://natter@db/natter",
		"natter.db":                               "natter.db",
	} {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRunSQLite starts natter as the binary does, on a fresh SQLite file,
// and stops it the way SIGTERM does.
func TestRunSQLite(t *testing.T) {
	db := filepath.Join(t.TempDir(), "natter.db")
	base := instance(t, nil, "-database-url", db)
	resp, err := http.Get(base + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp, err = http.Get(base + "/readyz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("readyz: %v %v", resp, err)
	}
	a := newClient(t, base)
	a.register("alice")
	if _, err := os.Stat(db); err != nil {
		t.Errorf("database file not created: %v", err)
	}
}

// natter -h (and migrate -h) lists the subcommands and the flags, and is no
// error: main exits 0 on flag.ErrHelp.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"migrate", "-h"}} {
		var out strings.Builder
		err := run(context.Background(), args, func(string) string { return "" }, &out, nil)
		if !errors.Is(err, flag.ErrHelp) {
			t.Errorf("run(%q) = %v, want flag.ErrHelp", args, err)
		}
		for _, want := range []string{"natter migrate [flags]", "serve the site", "-database-url", "DATABASE_URL"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("run(%q) printed no %q:\n%s", args, want, out.String())
			}
		}
	}
}

// TestMigrateCommand applies the migrations and exits.
func TestMigrateCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "natter.db")
	if err := run(context.Background(), []string{"migrate", "-database-url", db}, func(string) string { return "" }, os.Stderr, nil); err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, err := s.SchemaVersion(context.Background()); err != nil || v < 1 {
		t.Errorf("schema version %d, %v", v, err)
	}
}

// twoInstances starts two natter instances on one fresh PostgreSQL schema.
func twoInstances(t *testing.T) (dsn, a, b string) {
	dsn = storetest.DSN(t, store.Postgres)
	return dsn, instance(t, nil, "-database-url", dsn), instance(t, nil, "-database-url", dsn)
}

// TestTwoInstances: a session made on one instance works on the other, and
// a message sent through one reaches a stream served by the other.
func TestTwoInstances(t *testing.T) {
	_, instA, instB := twoInstances(t)

	alice := newClient(t, instA)
	alice.register("alice")
	bob := newClient(t, instA)
	bob.register("bob")

	t.Run("SessionSharedAcrossInstances", func(t *testing.T) {
		resp, body := bob.at(instB).get("/")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `href="/user/bob"`) {
			t.Fatalf("bob's session from A is not logged in on B: status %d", resp.StatusCode)
		}
	})

	t.Run("EventCrossesInstances", func(t *testing.T) {
		events := bob.at(instB).stream("")
		alice.send("bob", "hello from A")
		ev := waitFor(t, events, app.NotifyMessages, `"data":1`)
		if ev.id == "" {
			t.Error("event has no id")
		}
	})

	t.Run("ResumeOnOtherInstanceLosesNothing", func(t *testing.T) {
		events := bob.at(instA).stream("")
		last := waitFor(t, events, app.NotifyMessages, `"data":1`)
		alice.send("bob", "two")
		alice.send("bob", "three")
		// Resume on B from the id seen on A: B replays what came after.
		resumed := bob.at(instB).stream(last.id)
		waitFor(t, resumed, app.NotifyMessages, `"data":3`)
	})

	// Logging out through A ends the member's streams on B too: the
	// session that left hears nothing more.
	t.Run("LogoutEndsStreamsEverywhere", func(t *testing.T) {
		events := bob.at(instB).stream("")
		if resp := bob.at(instA).post("/logout", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("logout: %s", resp.Status)
		}
		deadline := time.After(10 * time.Second)
		for {
			select {
			case _, open := <-events:
				if !open {
					return
				}
			case <-deadline:
				t.Fatal("bob's stream on B is still open 10 s after he logged out on A")
			}
		}
	})
}

// TestLogoutEverywhereElseAcrossInstances: "log out everywhere else" on
// instance A ends, at once, the other session's stream served by B, and
// that session's pages on B; the session that asked carries on.
func TestLogoutEverywhereElseAcrossInstances(t *testing.T) {
	_, instA, instB := twoInstances(t)
	carol := newClient(t, instA)
	carol.register("carol")
	other := newClient(t, instB)
	if resp := other.post("/login", url.Values{"username": {"carol"}, "password": {"correct horse battery"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login on B: %s", resp.Status)
	}
	events := other.stream("")
	if resp := carol.post("/settings/sessions/logout-others", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("log out everywhere else: %s", resp.Status)
	}
	deadline := time.After(10 * time.Second)
	for open := true; open; {
		select {
		case _, open = <-events:
		case <-deadline:
			t.Fatal("the other session's stream on B is still open 10 s after it was logged out on A")
		}
	}
	if resp, _ := other.get("/index"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the logged-out session's page on B: %s, want a redirect to the login page", resp.Status)
	}
	if resp, _ := carol.at(instB).get("/index"); resp.StatusCode != http.StatusOK {
		t.Errorf("the session that asked, on B: %s, want the timeline", resp.Status)
	}
}

// TestListenerReconnects kills the listening connection while messages flow;
// every message still reaches a stream on the other instance.
func TestListenerReconnects(t *testing.T) {
	dsn, instA, instB := twoInstances(t)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	alice := newClient(t, instA)
	alice.register("alice")
	bob := newClient(t, instA)
	bob.register("bob")
	events := bob.at(instB).stream("")

	const total = 30
	killed := 0
	for i := 1; i <= total; i++ {
		alice.send("bob", "message "+strconv.Itoa(i))
		if i%10 == 0 {
			// Terminate every natter listener on this database; the ones of
			// tests running beside this one recover the same way.
			var n int
			// MATERIALIZED: the filter must run before the termination,
			// which PostgreSQL would otherwise be free to apply to every row.
			err := db.QueryRow(`WITH listeners AS MATERIALIZED (
					SELECT pid FROM pg_stat_activity
					WHERE application_name = $1 AND datname = current_database())
				SELECT count(*) FROM listeners WHERE pg_terminate_backend(pid)`,
				live.ListenerApplicationName).Scan(&n)
			if err != nil {
				t.Fatal(err)
			}
			killed += n
		}
	}
	if killed == 0 {
		t.Fatal("no listener connection was terminated: the test proves nothing")
	}
	waitFor(t, events, app.NotifyMessages, `"data":`+strconv.Itoa(total))
}

// TestThroughNginx runs deploy/nginx.conf, with only its ports changed, in
// front of two instances: two members, one message, and the badge event
// arrives through the proxy.
func TestThroughNginx(t *testing.T) {
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/nginx"); serr == nil {
			nginx = "/usr/sbin/nginx"
		} else {
			storetest.SkipUnlessRequired(t, "nginx test skipped: install nginx (apt-get install nginx-light) to run it")
		}
	}
	_, instA, instB := twoInstances(t)
	base := startNginx(t, nginx, instA, instB)

	alice := newClient(t, base)
	alice.register("alice")
	bob := newClient(t, base)
	bob.register("bob")
	events := bob.stream("")
	alice.send("bob", "through the proxy")
	waitFor(t, events, app.NotifyMessages, `"data":1`)
}

func startNginx(t *testing.T, nginx string, upstreams ...string) string {
	t.Helper()
	site, err := os.ReadFile("../../deploy/nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	servers := ""
	for _, u := range upstreams {
		servers += "    server " + strings.TrimPrefix(u, "http://") + ";\n"
	}
	conf := regexp.MustCompile(`(?m)^\s*server 127\.0\.0\.1:808\d;\n`).ReplaceAllString(string(site), "")
	conf = strings.Replace(conf, "upstream natter {\n", "upstream natter {\n"+servers, 1)
	conf = strings.Replace(conf, "listen 80;", fmt.Sprintf("listen 127.0.0.1:%d;", port), 1)

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "natter.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	main := fmt.Sprintf(`daemon off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    include %[1]s/natter.conf;
}
`, dir)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(nginx, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		if b, _ := os.ReadFile(filepath.Join(dir, "error.log")); len(b) > 0 {
			t.Logf("nginx error log:\n%s", b)
		}
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	for i := 0; ; i++ {
		resp, err := http.Get(base + "/healthz")
		if err == nil && resp.StatusCode == http.StatusOK {
			resp.Body.Close()
			return base
		}
		if i == 100 {
			t.Fatalf("nginx did not come up: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDebugListener serves Prometheus metrics and profiles on an address of
// their own: request counts by route, open streams, the database pools and
// the runtime.
func TestDebugListener(t *testing.T) {
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	debugAddr := fmt.Sprintf("127.0.0.1:%d", port)
	base := instance(t, nil, "-database-url", filepath.Join(t.TempDir(), "natter.db"), "-debug-addr", debugAddr)
	a := newClient(t, base)
	a.register("alice")
	a.stream("") // subscribed by the time the response headers arrive

	resp, err := http.Get("http://" + debugAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	for _, want := range []string{
		`natter_http_requests_total{code="303",method="POST",route="POST /register"} 1`,
		`natter_event_streams 1`,
		`natter_stream_events_total`,
		`natter_db_connections_open{pool="write"}`,
		`natter_db_connections_open{pool="read"}`,
		`natter_http_request_duration_seconds_count{route="POST /register"} 1`,
		`go_goroutines`,
		`process_resident_memory_bytes`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics has no %q", want)
		}
	}

	resp, err = http.Get("http://" + debugAddr + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine profile:") {
		t.Errorf("GET /debug/pprof/goroutine: %s %.100q", resp.Status, body)
	}

	// Neither is on the site's own address.
	for _, path := range []string{"/metrics", "/debug/pprof/"} {
		if resp, _ := a.get(path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s on the site: %s, want 404", path, resp.Status)
		}
	}
}

// freePort asks the kernel for a port nobody listens on.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// On SIGTERM natter ends the event streams at once but lets requests in
// flight finish: a registration whose body is still arriving when shutdown
// begins is completed and answered.
func TestShutdownFinishesRequestsInFlight(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	listening := make(chan string, 1)
	done := make(chan error, 1)
	// The server tells when the request has entered natter's handler: from
	// then on Shutdown waits for it. (A connection's StateActive comes
	// earlier, before the point where the server still drops a request
	// whose headers it read as shutdown began.)
	var (
		mu     sync.Mutex
		watch  net.Addr // the client end of the connection to follow
		active = make(chan struct{})
	)
	handling := func(r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if watch != nil && r.RemoteAddr == watch.String() {
			close(active)
			watch = nil
		}
	}
	db := filepath.Join(t.TempDir(), "natter.db")
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-database-url", db}, func(string) string { return "" }, io.Discard,
			&runHooks{listening: listening, handling: handling})
	}()
	addr := <-listening
	base := "http://" + addr

	bob := newClient(t, base)
	bob.register("bob")
	events := bob.stream("")

	form := "username=alice&email=alice%40example.com&password=correct+horse&confirm_password=correct+horse"
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	mu.Lock()
	watch = conn.LocalAddr()
	mu.Unlock()
	fmt.Fprintf(conn, "POST /register HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s",
		addr, len(form), form[:10])
	select {
	case <-active: // the request is in flight
	case <-time.After(10 * time.Second):
		t.Fatal("the request did not reach natter's handler")
	}

	stop() // what SIGTERM does
	select {
	case _, open := <-events:
		for open {
			_, open = <-events
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the event stream did not end when shutdown began")
	}

	fmt.Fprint(conn, form[10:])
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the registration in flight got no answer: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Errorf("the registration in flight got %s to %q, want 303 to /", resp.Status, resp.Header.Get("Location"))
	}
	if err := <-done; err != nil {
		t.Errorf("natter stopped with: %v", err)
	}
}
