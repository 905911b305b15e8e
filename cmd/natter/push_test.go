package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"natter/internal/store"
	"natter/internal/store/storetest"
	"natter/internal/webpush/pushtest"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// TestMain removes the binary the process tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildErr == nil && binary != "" {
		os.RemoveAll(filepath.Dir(binary))
	}
	os.Exit(code)
}

// natterBinary builds natter once for the tests that run the real process.
func natterBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "natter-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "natter")
		out, err := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", binary, ".").CombinedOutput()
		if err != nil {
			buildErr = err
			binary = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("go build: %v\n%s", buildErr, binary)
	}
	return binary
}

// process is natter running as its own process.
type process struct {
	cmd  *exec.Cmd
	base string

	mu  sync.Mutex
	log []string // its standard error, line by line
}

var listeningRE = regexp.MustCompile(`natter listening"? url=(\S+)`)

// startProcess runs the binary with env added to this process's
// environment, and returns once it listens.
func startProcess(t *testing.T, env ...string) *process {
	t.Helper()
	cmd := exec.Command(natterBinary(t), "-addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd}
	t.Cleanup(func() { p.kill() })
	// A failed test shows what the process logged.
	t.Cleanup(func() {
		if t.Failed() {
			p.mu.Lock()
			t.Logf("natter at %s logged:\n%s", p.base, strings.Join(p.log, "\n"))
			p.mu.Unlock()
		}
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.log = append(p.log, sc.Text())
			p.mu.Unlock()
			if m := listeningRE.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case p.base = <-found:
	case <-time.After(60 * time.Second):
		t.Fatal("natter did not start listening within 60 s")
	}
	return p
}

// kill ends the process as kill -9 does: no shutdown, nothing flushed.
func (p *process) kill() {
	if p.cmd.ProcessState == nil {
		p.cmd.Process.Kill()
		p.cmd.Wait()
	}
}

// subscribe plays a browser turning push on for the client's member.
func (c *client) subscribe(svc *pushtest.Service) *pushtest.Subscription {
	c.t.Helper()
	_, body := c.get("/push/key")
	var key struct{ PublicKey string }
	if err := json.Unmarshal([]byte(body), &key); err != nil || key.PublicKey == "" {
		c.t.Fatalf("GET /push/key: %q", body)
	}
	sub := svc.Subscribe(key.PublicKey)
	resp, err := c.http.Post(c.base+"/push/subscriptions", "application/json", bytes.NewReader(sub.JSON()))
	if err != nil {
		c.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		c.t.Fatalf("POST /push/subscriptions: %s", resp.Status)
	}
	return sub
}

func nextPush(t *testing.T, svc *pushtest.Service) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	d, err := svc.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var p map[string]any
	if err := json.Unmarshal(d.Payload, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// A message is committed and natter is killed before its push is due: the
// restarted natter pushes it, once.
func TestPushSurvivesKill(t *testing.T) {
	svc := pushtest.NewService(t)
	const delay = 8 * time.Second // long enough that the kill always comes first
	env := []string{
		"DATABASE_URL=" + filepath.Join(t.TempDir(), "natter.db"),
		"NATTER_PUSH_DELAY=" + delay.String(),
		"NATTER_PUSH_ALLOW_INSECURE=" + svc.HostPort(),
	}
	first := startProcess(t, env...)
	alice, bob := newClient(t, first.base), newClient(t, first.base)
	alice.register("alice")
	bob.register("bob")
	bob.subscribe(svc)
	sent := time.Now()
	alice.send("bob", "before the crash")
	first.kill()
	if time.Since(sent) >= delay || svc.Requests() != 0 {
		storetest.SkipUnlessRequired(t, "the machine is too slow to kill natter within the push delay")
	}

	second := startProcess(t, env...)
	if p := nextPush(t, svc); p["type"] != "message" || p["title"] != "alice" || p["body"] != "before the crash" {
		t.Fatalf("after the restart got %v", p)
	}
	// Once: a later message is pushed next, and nothing came in between.
	alice.at(second.base).send("bob", "after the restart")
	if p := nextPush(t, svc); p["body"] != "after the restart" {
		t.Fatalf("then got %v, want the later message", p)
	}
	n := 0
	for _, d := range svc.Deliveries() {
		if strings.Contains(string(d.Payload), "before the crash") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the message was pushed %d times", n)
	}
}

// Two instances on one PostgreSQL database sign with the same key (made by
// whichever started first) and push each message once, whichever
// instance it was sent through.
func TestPushTwoInstances(t *testing.T) {
	svc := pushtest.NewService(t)
	dsn := storetest.DSN(t, store.Postgres)
	env := map[string]string{"NATTER_PUSH_DELAY": "1s", "NATTER_PUSH_ALLOW_INSECURE": svc.HostPort()}
	instA, instB := instance(t, env, "-database-url", dsn), instance(t, env, "-database-url", dsn)

	alice, bob := newClient(t, instA), newClient(t, instB)
	alice.register("alice")
	bob.register("bob")
	bob.subscribe(svc) // with B's key; A must sign with the same
	const n = 6
	for i := range n {
		c := alice
		if i%2 == 1 {
			c = alice.at(instB)
		}
		c.send("bob", "message "+string(rune('a'+i)))
	}
	seen := map[string]int{}
	for range n {
		seen[nextPush(t, svc)["body"].(string)]++
	}
	alice.send("bob", "marker")
	if p := nextPush(t, svc); p["body"] != "marker" {
		t.Fatalf("got %v, want the marker: something was pushed twice", p)
	}
	for i := range n {
		if body := "message " + string(rune('a'+i)); seen[body] != 1 {
			t.Errorf("%q pushed %d times", body, seen[body])
		}
	}
}

func TestParsePushConfig(t *testing.T) {
	parse := func(env map[string]string, args ...string) (config, error) {
		return parseConfig(args, func(k string) string { return env[k] }, io.Discard)
	}
	c, err := parse(nil)
	if err != nil || !c.push || c.pushDelay != 5*time.Second || len(c.pushAllowInsecure) != 0 {
		t.Fatalf("defaults: %+v, %v", c, err)
	}
	if s, fallback := c.pushSubject(); !fallback || s != "mailto:natter@localhost" {
		t.Errorf("subject with nothing set: %q", s)
	}
	c, err = parse(map[string]string{"NATTER_PUSH_DELAY": "30s", "NATTER_PUBLIC_URL": "https://natter.example.org",
		"NATTER_PUSH_ALLOW_INSECURE": "push.local:8080, 10.0.0.5:443"})
	if err != nil || c.pushDelay != 30*time.Second || len(c.pushAllowInsecure) != 2 {
		t.Fatalf("from the environment: %+v, %v", c, err)
	}
	if s, _ := c.pushSubject(); s != "https://natter.example.org" {
		t.Errorf("subject defaults to %q, want the public URL", s)
	}
	c, _ = parse(map[string]string{"NATTER_PUSH_CONTACT": "mailto:ops@example.org", "NATTER_PUBLIC_URL": "https://natter.example.org"})
	if s, _ := c.pushSubject(); s != "mailto:ops@example.org" {
		t.Errorf("subject %q, want the contact", s)
	}
	for _, off := range []map[string]string{{"NATTER_PUSH": "off"}, {"NATTER_PUSH": "false"}, {"NATTER_PUSH": "0"}} {
		if c, err := parse(off); err != nil || c.push {
			t.Errorf("%v: push %v, %v", off, c.push, err)
		}
	}
	if c, err := parse(nil, "-push=false"); err != nil || c.push {
		t.Errorf("-push=false: push %v, %v", c.push, err)
	}
	for _, bad := range []map[string]string{
		{"NATTER_PUSH": "maybe"},
		{"NATTER_PUSH_DELAY": "soon"},
		{"NATTER_PUSH_CONTACT": "ops@example.org"},
		{"NATTER_PUBLIC_URL": "natter.example.org"},
		{"NATTER_PUSH_ALLOW_INSECURE": "push.local"},
	} {
		if _, err := parse(bad); err == nil {
			t.Errorf("no error for %v", bad)
		}
	}
}
