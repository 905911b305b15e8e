package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"natter/internal/mail/mailtest"
	"natter/internal/store"
	"natter/internal/store/storetest"
)

func nextMail(t *testing.T, srv *mailtest.Server) *mailtest.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	m, err := srv.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var verifyLinkRE = regexp.MustCompile(`http://natter\.test(/verify-email/\S+)`)

// verify follows the link of the verification email the client's member
// was sent.
func (c *client) verify(srv *mailtest.Server) {
	c.t.Helper()
	m := nextMail(c.t, srv)
	l := verifyLinkRE.FindStringSubmatch(m.Text)
	if l == nil {
		c.t.Fatalf("no verification link in:\n%s", m.Text)
	}
	if resp := c.post(l[1], url.Values{}); resp.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("POST %s: %s", l[1], resp.Status)
	}
}

// A message is committed and natter is killed before its email is due:
// the restarted natter emails it, once.
func TestEmailSurvivesKill(t *testing.T) {
	srv := mailtest.Start(t)
	const delay = 8 * time.Second // long enough that the kill always comes first
	env := []string{
		"DATABASE_URL=" + filepath.Join(t.TempDir(), "natter.db"),
		"NATTER_SMTP_URL=" + srv.URL(),
		"NATTER_PUBLIC_URL=http://natter.test",
		"NATTER_EMAIL_DELAY=" + delay.String(),
		"NATTER_PUSH=off",
	}
	first := startProcess(t, env...)
	alice, bob := newClient(t, first.base), newClient(t, first.base)
	alice.register("alice")
	alice.verify(srv)
	bob.register("bob")
	bob.verify(srv)
	sent := time.Now()
	alice.send("bob", "before the crash")
	first.kill()
	if time.Since(sent) >= delay || len(srv.Received()) != 2 {
		storetest.SkipUnlessRequired(t, "the machine is too slow to kill natter within the email delay")
	}

	second := startProcess(t, env...)
	if m := nextMail(t, srv); m.To[0] != "bob@example.com" || !strings.Contains(m.Text, "before the crash") {
		t.Fatalf("after the restart got %q to %q:\n%s", m.Header.Get("Subject"), m.To, m.Text)
	}
	// Once: a later message is emailed next, and nothing came in between.
	alice.at(second.base).send("bob", "after the restart")
	if m := nextMail(t, srv); !strings.Contains(m.Text, "after the restart") || strings.Contains(m.Text, "before the crash") {
		t.Fatalf("then got:\n%s", m.Text)
	}
	n := 0
	for _, m := range srv.Received() {
		if strings.Contains(m.Text, "before the crash") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the message was emailed %d times", n)
	}
}

func TestParseEmailConfig(t *testing.T) {
	parse := func(env map[string]string, args ...string) (config, error) {
		return parseConfig(args, func(k string) string { return env[k] }, io.Discard)
	}
	c, err := parse(nil)
	if err != nil || c.mail.Enabled() || c.emailDelay != 10*time.Minute || c.emailPerDay != 50 {
		t.Fatalf("defaults: email on %v, delay %v, cap %d, %v", c.mail.Enabled(), c.emailDelay, c.emailPerDay, err)
	}
	c, err = parse(map[string]string{"NATTER_SMTP_URL": "smtp://127.0.0.1:1025?tls=none", "NATTER_PUBLIC_URL": "https://natter.example.org",
		"NATTER_EMAIL_DELAY": "2m", "NATTER_EMAIL_DAILY_CAP": "5"})
	if err != nil || !c.mail.Enabled() || c.emailDelay != 2*time.Minute || c.emailPerDay != 5 || c.mail.From.Address != "natter@natter.example.org" {
		t.Fatalf("from the environment: %+v, %v", c.mail, err)
	}
	if c, err := parse(nil, "-smtp-url", "smtps://u:p@mail.example.org", "-public-url", "https://natter.example.org", "-mail-from", "ops@example.org"); err != nil || c.mail.From.Address != "ops@example.org" {
		t.Errorf("flags: %v", err)
	}
	for _, bad := range []map[string]string{
		{"NATTER_SMTP_URL": "smtp://127.0.0.1:1025?tls=none"},                                            // no public URL
		{"NATTER_SMTP_URL": "smtp://127.0.0.1:1025?tls=none", "NATTER_PUBLIC_URL": "natter.example.org"}, // not absolute
		{"NATTER_SMTP_URL": "smtp://u:p@127.0.0.1:1025?tls=none", "NATTER_PUBLIC_URL": "https://n.example"},
		{"NATTER_EMAIL_DELAY": "soon"},
		{"NATTER_EMAIL_DAILY_CAP": "0"},
	} {
		if _, err := parse(bad); err == nil {
			t.Errorf("no error for %v", bad)
		}
	}
}

// Two instances on one PostgreSQL database email each message once,
// whichever instance it was sent through.
func TestEmailTwoInstances(t *testing.T) {
	srv := mailtest.Start(t)
	dsn := storetest.DSN(t, store.Postgres)
	env := map[string]string{"NATTER_SMTP_URL": srv.URL(), "NATTER_PUBLIC_URL": "http://natter.test",
		"NATTER_EMAIL_DELAY": "1s", "NATTER_PUSH": "off"}
	instA, instB := instance(t, env, "-database-url", dsn), instance(t, env, "-database-url", dsn)
	alice, bob, carol := newClient(t, instA), newClient(t, instB), newClient(t, instA)
	for _, c := range []struct {
		c    *client
		name string
	}{{alice, "alice"}, {bob, "bob"}, {carol, "carol"}} {
		c.c.register(c.name)
		c.c.verify(srv)
	}
	alice.send("bob", "from a")
	carol.at(instB).send("alice", "from b")
	got := map[string]int{}
	for range 2 {
		m := nextMail(t, srv)
		got[m.To[0]]++
	}
	// A marker sent last arrives next: nothing was sent twice meanwhile.
	carol.send("bob", "marker")
	if m := nextMail(t, srv); !strings.Contains(m.Text, "marker") {
		t.Fatalf("got %q, want the marker:\n%s", m.Header.Get("Subject"), m.Text)
	}
	if got["bob@example.com"] != 1 || got["alice@example.com"] != 1 {
		t.Errorf("emails per member: %v", got)
	}
}
