package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// postsPerPage is the page size the tests run natter with: small, so that
// six posts already make two pages.
const postsPerPage = 5

// password is every test member's password.
const password = "correct horse battery"

// server is a natter process with a database of its own.
type server struct {
	URL string
	log *syncBuffer

	addr, db string
	args     []string // more flags, such as -site-name
	mu       sync.Mutex
	proc     *os.Process
	exited   chan struct{}
}

// startServer runs the natter binary on a free port with a fresh SQLite
// file, waits until /healthz answers, and stops it (SIGTERM) when t ends.
// A natter that logged an error fails t: the browser tests also watch for
// 500s nobody saw on screen. args are more flags for natter.
func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	db := filepath.Join(t.TempDir(), "natter.db")
	var lastErr error
	// A free port can be taken by someone else between finding and using
	// it; a few tries make that harmless.
	for range 3 {
		s, err := tryStart(t, db, args)
		if err == nil {
			return s
		}
		lastErr = err
	}
	t.Fatalf("starting natter: %v", lastErr)
	return nil
}

func tryStart(t *testing.T, db string, args []string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	s := &server{URL: "http://" + addr, log: &syncBuffer{}, addr: addr, db: db, args: args}
	if err := s.run(); err != nil {
		return nil, err
	}
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Error(err)
		}
		logs := s.log.String()
		for _, line := range strings.Split(logs, "\n") {
			if strings.Contains(line, "level=ERROR") {
				t.Errorf("natter logged an error: %s", line)
			}
		}
		if t.Failed() {
			t.Logf("natter's log:\n%s", tail(logs, 60))
		}
	})
	return s, nil
}

// run starts natter on s's address and database and waits until it
// answers.
func (s *server) run() error {
	cmd := exec.Command(natterBin, append([]string{"-addr", s.addr, "-database-url", s.db}, s.args...)...)
	cmd.Env = append(os.Environ(), fmt.Sprintf("POSTS_PER_PAGE=%d", postsPerPage))
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	if err := waitHealthy(s.URL, exited); err != nil {
		cmd.Process.Kill()
		<-exited
		return fmt.Errorf("%v\n%s", err, s.log)
	}
	s.mu.Lock()
	s.proc, s.exited = cmd.Process, exited
	s.mu.Unlock()
	return nil
}

// stop ends natter (SIGTERM, as a deploy does) and waits until it has
// exited; it does nothing when natter is not running.
func (s *server) stop() error {
	s.mu.Lock()
	proc, exited := s.proc, s.exited
	s.proc, s.exited = nil, nil
	s.mu.Unlock()
	if proc == nil {
		return nil
	}
	proc.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		return nil
	case <-time.After(15 * time.Second):
		proc.Kill()
		<-exited
		return fmt.Errorf("natter did not stop within 15 s of SIGTERM")
	}
}

// restart starts natter again, on the same address and database, after
// stop.
func (s *server) restart(t *testing.T) {
	t.Helper()
	if err := s.run(); err != nil {
		t.Fatalf("restarting natter: %v", err)
	}
}

// freePort asks the kernel for an unused port. natter's -addr with port 0
// would not tell which one it got.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func waitHealthy(base string, exited <-chan struct{}) error {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("natter exited before answering /healthz")
		default:
		}
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("natter did not answer /healthz within 20 s")
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"..."}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// syncBuffer is a bytes.Buffer safe for the process's writes and the
// test's reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// httpMember is a member driven over plain HTTP: it sets the scene for
// the browsers (other members, their posts and messages) much faster than
// a browser would. It uses the same forms a browser posts.
type httpMember struct {
	t    *testing.T
	srv  *server
	name string
	hc   *http.Client
}

// seedMember registers name over HTTP and, if about is not empty, writes
// it into the profile.
func (s *server) seedMember(t *testing.T, name, about string) *httpMember {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	m := &httpMember{t: t, srv: s, name: name, hc: &http.Client{Jar: jar, Timeout: 20 * time.Second}}
	m.submit("/register", url.Values{
		"username": {name}, "email": {name + "@example.com"},
		"password": {password}, "confirm_password": {password},
	})
	if about != "" {
		m.submit("/edit-profile", url.Values{"username": {name}, "about_me": {about}})
	}
	return m
}

// submit posts a form and wants natter's usual answer to a success: a
// redirect to a page that renders.
func (m *httpMember) submit(path string, form url.Values) {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		m.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := m.hc.Do(req)
	if err != nil {
		m.t.Fatalf("%s: POST %s: %v", m.name, path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path == path {
		m.t.Fatalf("%s: POST %s: got %s at %s, want a redirect to a page; the page says: %q",
			m.name, path, resp.Status, resp.Request.URL.Path, formErrorsIn(body))
	}
}

func (m *httpMember) post(body string) {
	m.t.Helper()
	m.submit("/index", url.Values{"body": {body}})
}

func (m *httpMember) send(to, body string) {
	m.t.Helper()
	m.submit("/send-message/"+to, url.Values{"message": {body}})
}

// formErrorsIn picks the error messages out of a re-shown form.
func formErrorsIn(page []byte) []string {
	var msgs []string
	for _, m := range formErrorRE.FindAllSubmatch(page, -1) {
		msgs = append(msgs, string(m[1]))
	}
	return msgs
}

var formErrorRE = regexp.MustCompile(`class="(?:invalid-feedback|alert alert-danger)"[^>]*>([^<]*)<`)

// cookie returns the member's session cookie, for a browser to reuse.
func (m *httpMember) cookie() *http.Cookie {
	u, _ := url.Parse(m.srv.URL)
	for _, c := range m.hc.Jar.Cookies(u) {
		if c.Name == "natter_session" {
			return c
		}
	}
	m.t.Fatalf("%s has no session cookie", m.name)
	return nil
}
