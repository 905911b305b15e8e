package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"
)

// instance runs natter through run, as the binary does, until the test
// ends.
func instance(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	listening := make(chan string, 1)
	done := make(chan error, 1)
	getenv := func(k string) string { return env[k] }
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), getenv, io.Discard, &runHooks{listening: listening})
	}()
	select {
	case addr := <-listening:
		t.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("natter at %s stopped with: %v", addr, err)
			}
		})
		return "http://" + addr
	case err := <-done:
		cancel()
		t.Fatalf("natter did not start: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("natter did not start within 30 s")
	}
	return ""
}

// client is one member's browser: a cookie jar and no automatic redirects.
type client struct {
	t    *testing.T
	base string
	http *http.Client
}

func newClient(t *testing.T, base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: base, http: &http.Client{
		Jar:           jar,
		Timeout:       20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// at returns a client for another base URL sharing this one's cookies, as if
// a load balancer had sent the member's next request elsewhere.
func (c *client) at(base string) *client {
	cp := *c
	cp.base = base
	u, _ := url.Parse(c.base)
	v, _ := url.Parse(base)
	cp.http = &http.Client{Jar: c.http.Jar, Timeout: c.http.Timeout, CheckRedirect: c.http.CheckRedirect}
	if u.Host != v.Host {
		for _, ck := range c.http.Jar.Cookies(u) {
			ck := *ck
			c.http.Jar.SetCookies(v, []*http.Cookie{&ck})
		}
	}
	return &cp
}

func (c *client) post(path string, form url.Values) *http.Response {
	c.t.Helper()
	resp, err := c.http.PostForm(c.base+path, form)
	if err != nil {
		c.t.Fatalf("POST %s: %v", path, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func (c *client) get(path string) (*http.Response, string) {
	c.t.Helper()
	resp, err := c.http.Get(c.base + path)
	if err != nil {
		c.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// register creates a member and leaves the client logged in.
func (c *client) register(name string) {
	c.t.Helper()
	resp := c.post("/register", url.Values{
		"username": {name}, "email": {name + "@example.com"},
		"password": {"correct horse battery"}, "confirm_password": {"correct horse battery"},
	})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		c.t.Fatalf("register %s: status %d, location %q", name, resp.StatusCode, resp.Header.Get("Location"))
	}
}

func (c *client) send(to, body string) {
	c.t.Helper()
	resp := c.post("/send-message/"+to, url.Values{"message": {body}})
	if resp.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("send to %s: status %d", to, resp.StatusCode)
	}
}

// event is one Server-Sent Event.
type event struct {
	id, name, data string
}

// stream opens the member's /events and delivers its events on a channel
// until the test ends.
func (c *client) stream(lastEventID string) <-chan event {
	c.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	c.t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/events", nil)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	hc := &http.Client{Jar: c.http.Jar} // no timeout: the stream is long-lived
	resp, err := hc.Do(req)
	if err != nil {
		c.t.Fatalf("GET /events: %v", err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		c.t.Fatalf("GET /events: status %d, type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	ch := make(chan event, 64)
	go func() {
		defer resp.Body.Close()
		defer close(ch)
		r := bufio.NewReader(resp.Body)
		var ev event
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\r\n")
			switch {
			case line == "":
				if ev.name != "" || ev.data != "" {
					ch <- ev
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
	}()
	return ch
}

// waitFor reads events until one named name has data containing want.
func waitFor(t *testing.T, ch <-chan event, name, want string) event {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("stream ended before %s %s", name, want)
			}
			if ev.name == name && strings.Contains(ev.data, want) {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %s event with %s within 15 s", name, want)
		}
	}
}
