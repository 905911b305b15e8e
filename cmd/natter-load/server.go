package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// child is a server that natter-load started and measures through /proc.
type child struct {
	name string
	cmd  *exec.Cmd
	addr string // host:port
	base string // http://host:port
	pid  int
	done chan error
	// debug is natter's -debug-addr: /metrics and /debug/pprof/.
	debug string
}

// freeAddr returns a loopback address with a free port.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startChild runs bin with args and env as a child process (killed if
// natter-load dies), logging to logPath, and waits until readyPath answers
// 200.
func startChild(ctx context.Context, name, bin string, args, env []string, addr, logPath, readyPath string) (*child, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, addr: addr, base: "http://" + addr, pid: cmd.Process.Pid, done: make(chan error, 1)}
	go func() { c.done <- cmd.Wait(); logf.Close() }()
	deadline := time.Now().Add(2 * time.Minute)
	hc := &http.Client{Timeout: 2 * time.Second}
	for {
		select {
		case err := <-c.done:
			c.done <- err
			return nil, fmt.Errorf("%s exited during start (%v); see %s", name, err, logPath)
		case <-ctx.Done():
			c.stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		resp, err := hc.Get(c.base + readyPath)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c, nil
			}
		}
		if time.Now().After(deadline) {
			c.stop()
			return nil, fmt.Errorf("%s not ready after 2 minutes; see %s", name, logPath)
		}
	}
}

// stop ends the child: SIGTERM, then SIGKILL after 20 s.
func (c *child) stop() {
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(20 * time.Second):
		c.cmd.Process.Kill()
		<-c.done
	}
}

func (c *child) proc() procSample {
	p, err := readProc(c.pid)
	if err != nil {
		logf("read /proc of %s: %v", c.name, err)
	}
	return p
}

// buildNatter builds cmd/natter into dir.
func buildNatter(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "natter")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/natter")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/natter: %w", err)
	}
	return bin, nil
}

// repoRoot finds the natter checkout natter-load runs in: the nearest
// directory, from the working directory up, whose go.mod is natter's
// (natter-load's own module sits inside it, at cmd/natter-load).
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && modulePath(b) == "natter" {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run natter-load inside a natter checkout (go run -C cmd/natter-load .)")
		}
		dir = parent
	}
}

// modulePath is the path on a go.mod's module line.
func modulePath(gomod []byte) string {
	for line := range strings.Lines(string(gomod)) {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// startNatter starts the natter binary on dbURL, with its debug listener
// (metrics and pprof) on a second address.
func (r *runner) startNatter(ctx context.Context, label, dbURL string, extraEnv ...string) (*child, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	debug, err := freeAddr()
	if err != nil {
		return nil, err
	}
	env := append(baseEnv(),
		"NATTER_ADDR="+addr,
		"NATTER_DEBUG_ADDR="+debug,
		"DATABASE_URL="+dbURL,
		"NATTER_SEND_LIMIT=1000000/1s",
		"NATTER_LOG_LEVEL="+r.opt.serverLogLevel,
	)
	env = append(env, extraEnv...)
	logPath := filepath.Join(r.work, "server-"+label+".log")
	c, err := startChild(ctx, "natter", r.natterBin, nil, env, addr, logPath, "/healthz")
	if c != nil {
		c.debug = debug
	}
	return c, err
}

// startTrivial starts natter-load -trivial: the ceiling for pages.
func (r *runner) startTrivial(ctx context.Context) (*child, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return startChild(ctx, "trivial", self, []string{"-trivial", "-addr", addr}, baseEnv(), addr,
		filepath.Join(r.work, "server-trivial.log"), "/")
}

// baseEnv is the environment children inherit: the basics only, so that a
// NATTER_* variable of the caller's cannot change what is measured.
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "PATH", "HOME", "TMPDIR", "LANG", "GOMAXPROCS", "GOGC", "GOMEMLIMIT", "GODEBUG":
			env = append(env, kv)
		}
	}
	return env
}

// serveTrivial is the -trivial mode: the smallest Go HTTP handler, for the
// page scenario's ceiling.
func serveTrivial(addr string) error {
	srv := &http.Server{
		Addr: addr,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("ok"))
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	return srv.ListenAndServe()
}
