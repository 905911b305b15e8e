package mail_test

import (
	"context"
	"errors"
	"mime"
	"net"
	netmail "net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"natter/internal/mail"
	"natter/internal/mail/mailtest"
)

// setup starts a test SMTP server and returns what natter would build from its
// URL: a Sender and a Composer for https://natter.example.
func setup(t *testing.T, opts ...mailtest.Option) (*mailtest.Server, *mail.Sender, *mail.Composer) {
	t.Helper()
	srv := mailtest.Start(t, opts...)
	cfg, err := mail.ParseConfig(srv.URL(), "natter <natter@natter.example>", "https://natter.example")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Server.RootCAs = srv.RootCAs()
	return srv, newSender(t, cfg), newComposer(t, cfg)
}

func newSender(t *testing.T, cfg mail.Config) *mail.Sender {
	t.Helper()
	s, err := mail.NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func notification(thread string) mail.Notification {
	return mail.Notification{
		Username: "bob",
		Items: []mail.Item{
			{Kind: mail.KindMessage, From: "alice", Preview: "Lunch tomorrow?", Path: "/messages"},
			{Kind: mail.KindMessage, From: "carol", Preview: "See you there", Path: "/messages"},
			{Kind: mail.KindMessage, From: "alice", Preview: "At noon", Path: "/messages"},
		},
		Path:            "/messages",
		UnsubscribePath: "/unsubscribe/TOKEN",
		SettingsPath:    "/settings",
		Thread:          thread,
	}
}

// next waits for the server's next message, for as long as the test may run.
func next(t *testing.T, srv *mailtest.Server) *mailtest.Message {
	t.Helper()
	m, err := srv.Next(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSendNotification(t *testing.T) {
	srv, sender, composer := setup(t)
	if err := sender.Send(t.Context(), compose(t, composer, notification(""))); err != nil {
		t.Fatal(err)
	}
	got := next(t, srv)

	if got.From != "natter@natter.example" || len(got.To) != 1 || got.To[0] != "bob@example.org" {
		t.Errorf("envelope from %q to %q", got.From, got.To)
	}
	h := got.Header
	want := map[string]string{
		"Subject":               "3 new messages from alice and carol",
		"Auto-Submitted":        "auto-generated",
		"List-Id":               `"natter.example messages" <messages.natter.example>`,
		"List-Unsubscribe":      "<https://natter.example/unsubscribe/TOKEN>",
		"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
	}
	for name, value := range want {
		if got := h.Get(name); got != value {
			t.Errorf("%s = %q, want %q", name, got, value)
		}
	}
	if from, err := h.AddressList("From"); err != nil || len(from) != 1 || from[0].Address != "natter@natter.example" {
		t.Errorf("From = %v (%v)", from, err)
	}
	if to, err := h.AddressList("To"); err != nil || len(to) != 1 || to[0].Address != "bob@example.org" {
		t.Errorf("To = %v (%v)", to, err)
	}
	if !regexp.MustCompile(`^<[0-9a-f]{32}@natter\.example>$`).MatchString(h.Get("Message-Id")) {
		t.Errorf("Message-ID = %q, want <random@natter.example>", h.Get("Message-Id"))
	}
	if _, err := h.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	if mt, _, _ := mime.ParseMediaType(h.Get("Content-Type")); mt != "multipart/alternative" {
		t.Errorf("Content-Type = %q, want multipart/alternative", h.Get("Content-Type"))
	}
	if h.Get("In-Reply-To") != "" || h.Get("References") != "" {
		t.Errorf("threading headers on a mail without a thread: %q, %q", h.Get("In-Reply-To"), h.Get("References"))
	}
	for _, part := range []struct{ name, body string }{{"text", got.Text}, {"HTML", got.HTML}} {
		for _, s := range []string{"alice", "carol", "Lunch tomorrow?", "https://natter.example/messages", "https://natter.example/unsubscribe/TOKEN", "https://natter.example/settings"} {
			if !strings.Contains(part.body, s) {
				t.Errorf("%s part lacks %q:\n%s", part.name, s, part.body)
			}
		}
	}
	if n := len(srv.Received()); n != 1 {
		t.Errorf("server received %d messages, want 1", n)
	}
}

func TestSendThreading(t *testing.T) {
	srv, sender, composer := setup(t)
	send := func(thread, id string) netmail.Header {
		t.Helper()
		m := compose(t, composer, notification(thread))
		m.ID = id
		if err := sender.Send(t.Context(), m); err != nil {
			t.Fatal(err)
		}
		return next(t, srv).Header
	}
	first := send("conversation:alice:bob", "")
	second := send("conversation:alice:bob", "outbox-42")
	other := send("conversation:bob:carol", "")

	ref := first.Get("References")
	if !regexp.MustCompile(`^<thread-[0-9a-f]+@natter\.example>$`).MatchString(ref) {
		t.Fatalf("References = %q, want <thread-…@natter.example>", ref)
	}
	if first.Get("In-Reply-To") != ref {
		t.Errorf("In-Reply-To = %q, want %q", first.Get("In-Reply-To"), ref)
	}
	if second.Get("References") != ref || second.Get("In-Reply-To") != ref {
		t.Errorf("second mail of the thread refers to %q / %q, want %q", second.Get("In-Reply-To"), second.Get("References"), ref)
	}
	if other.Get("References") == ref {
		t.Errorf("another conversation shares the thread %q", ref)
	}
	if strings.Contains(ref, "alice") {
		t.Errorf("thread id %q shows the conversation's key", ref)
	}
	if first.Get("Message-Id") == second.Get("Message-Id") {
		t.Error("two mails share a Message-ID")
	}
	if got, want := second.Get("Message-Id"), "<outbox-42@natter.example>"; got != want {
		t.Errorf("Message-ID = %q, want %q", got, want)
	}
}

func TestSendRefused(t *testing.T) {
	t.Run("TemporaryThenDeliveredOnce", func(t *testing.T) {
		srv, sender, composer := setup(t)
		srv.Refuse(1, 451)
		m := compose(t, composer, notification(""))
		err := sender.Send(t.Context(), m)
		if err == nil {
			t.Fatal("a refused mail was reported sent")
		}
		if !mail.IsTemporary(err) {
			t.Fatalf("451 is not temporary: %v", err)
		}
		var se *mail.SendError
		if !errors.As(err, &se) || se.Code != 451 {
			t.Errorf("error %v does not carry code 451", err)
		}
		if n := len(srv.Received()); n != 0 {
			t.Fatalf("server kept %d refused messages", n)
		}
		if err := sender.Send(t.Context(), m); err != nil {
			t.Fatalf("retry: %v", err)
		}
		next(t, srv)
		if n := len(srv.Received()); n != 1 {
			t.Errorf("delivered %d times, want once", n)
		}
	})
	t.Run("Permanent", func(t *testing.T) {
		srv, sender, composer := setup(t)
		srv.Refuse(1, 550)
		err := sender.Send(t.Context(), compose(t, composer, notification("")))
		if err == nil {
			t.Fatal("a refused mail was reported sent")
		}
		if mail.IsTemporary(err) {
			t.Errorf("550 is temporary: %v", err)
		}
		var se *mail.SendError
		if !errors.As(err, &se) || se.Code != 550 {
			t.Errorf("error %v does not carry code 550", err)
		}
	})
	t.Run("ConnectionRefusedIsTemporary", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close() // nothing listens there now
		cfg, err := mail.ParseConfig("smtp://"+addr+"?tls=none", "", "https://natter.example")
		if err != nil {
			t.Fatal(err)
		}
		err = newSender(t, cfg).Send(t.Context(), compose(t, newComposer(t, cfg), notification("")))
		if !mail.IsTemporary(err) {
			t.Errorf("connection refused: %v, want a temporary error", err)
		}
	})
	t.Run("CanceledIsTemporary", func(t *testing.T) {
		srv, sender, composer := setup(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := sender.Send(ctx, compose(t, composer, notification("")))
		if !mail.IsTemporary(err) {
			t.Errorf("canceled send: %v, want a temporary error", err)
		}
		if n := len(srv.Received()); n != 0 {
			t.Errorf("a canceled send delivered %d messages", n)
		}
	})
	t.Run("MalformedIsPermanent", func(t *testing.T) {
		srv, sender, _ := setup(t)
		err := sender.Send(t.Context(), mail.Message{To: bob, Subject: "hi\r\nBcc: eve@example.org", Text: "x"})
		if err == nil || mail.IsTemporary(err) {
			t.Errorf("header injection: %v, want a permanent error", err)
		}
		if n := len(srv.Received()); n != 0 {
			t.Errorf("a malformed message reached the server")
		}
	})
}

func TestSendTLS(t *testing.T) {
	t.Run("StartTLSWithCredentials", func(t *testing.T) {
		srv, sender, composer := setup(t, mailtest.WithSecurity(mailtest.StartTLS), mailtest.WithAuth("natter", "s3cret"))
		if err := sender.Send(t.Context(), compose(t, composer, notification(""))); err != nil {
			t.Fatal(err)
		}
		got := next(t, srv)
		if !got.TLS || got.AuthUser != "natter" {
			t.Errorf("arrived with TLS=%v as %q, want TLS as natter", got.TLS, got.AuthUser)
		}
	})
	t.Run("StartTLSWithoutCredentials", func(t *testing.T) {
		srv, sender, composer := setup(t, mailtest.WithSecurity(mailtest.StartTLS))
		if err := sender.Send(t.Context(), compose(t, composer, notification(""))); err != nil {
			t.Fatal(err)
		}
		if got := next(t, srv); !got.TLS {
			t.Error("STARTTLS was offered but not used")
		}
	})
	t.Run("ImplicitTLS", func(t *testing.T) {
		srv, sender, composer := setup(t, mailtest.WithSecurity(mailtest.ImplicitTLS), mailtest.WithAuth("natter", "s3cret"))
		if !strings.HasPrefix(srv.URL(), "smtps://") {
			t.Fatalf("URL %q", srv.URL())
		}
		if err := sender.Send(t.Context(), compose(t, composer, notification(""))); err != nil {
			t.Fatal(err)
		}
		got := next(t, srv)
		if !got.TLS || got.AuthUser != "natter" {
			t.Errorf("arrived with TLS=%v as %q, want TLS as natter", got.TLS, got.AuthUser)
		}
	})
	t.Run("WrongPasswordIsTemporary", func(t *testing.T) {
		// The message is not at fault when the operator's password is: it
		// waits for the fix instead of being dropped.
		srv := mailtest.Start(t, mailtest.WithSecurity(mailtest.StartTLS), mailtest.WithAuth("natter", "s3cret"))
		cfg, err := mail.ParseConfig(strings.Replace(srv.URL(), "s3cret", "wrong", 1), "", "https://natter.example")
		if err != nil {
			t.Fatal(err)
		}
		cfg.Server.RootCAs = srv.RootCAs()
		err = newSender(t, cfg).Send(t.Context(), compose(t, newComposer(t, cfg), notification("")))
		if !mail.IsTemporary(err) {
			t.Errorf("wrong password: %v, want a temporary error", err)
		}
		if n := srv.AuthAttempts(); n != 1 {
			t.Errorf("%d AUTH attempts, want 1", n)
		}
		if n := len(srv.Received()); n != 0 {
			t.Errorf("server received %d messages", n)
		}
	})
	t.Run("ErrCredentialsWithoutSTARTTLS", func(t *testing.T) {
		// A server that would take a password in the clear must not get one.
		srv := mailtest.Start(t, mailtest.WithAuth("natter", "s3cret"), mailtest.WithInsecureAuth())
		url := strings.Replace(srv.URL(), "?tls=none", "", 1)
		cfg, err := mail.ParseConfig(url, "", "https://natter.example")
		if err != nil {
			t.Fatal(err)
		}
		err = newSender(t, cfg).Send(t.Context(), compose(t, newComposer(t, cfg), notification("")))
		if err == nil {
			t.Fatal("sent with credentials over a connection without TLS")
		}
		if n := srv.AuthAttempts(); n != 0 {
			t.Errorf("the client tried AUTH %d times without TLS", n)
		}
		if n := len(srv.Received()); n != 0 {
			t.Errorf("server received %d messages", n)
		}
	})
	t.Run("ErrUntrustedCertificate", func(t *testing.T) {
		// STARTTLS is offered with a certificate the client does not trust:
		// the client must stop, not fall back to plain text.
		srv := mailtest.Start(t, mailtest.WithSecurity(mailtest.StartTLS))
		cfg, err := mail.ParseConfig(srv.URL(), "", "https://natter.example")
		if err != nil {
			t.Fatal(err)
		}
		err = newSender(t, cfg).Send(t.Context(), compose(t, newComposer(t, cfg), notification("")))
		if err == nil {
			t.Fatal("sent over TLS to an untrusted certificate")
		}
		if n := len(srv.Received()); n != 0 {
			t.Errorf("server received %d messages", n)
		}
	})
}

func TestSendHTTPPublicURL(t *testing.T) {
	// A local trial on http:// cannot offer RFC 8058 one-click (https only), but
	// still offers the link.
	srv := mailtest.Start(t)
	cfg, err := mail.ParseConfig(srv.URL(), "", "http://localhost:8080")
	if err != nil {
		t.Fatal(err)
	}
	if err := newSender(t, cfg).Send(t.Context(), compose(t, newComposer(t, cfg), notification(""))); err != nil {
		t.Fatal(err)
	}
	h := next(t, srv).Header
	if got, want := h.Get("List-Unsubscribe"), "<http://localhost:8080/unsubscribe/TOKEN>"; got != want {
		t.Errorf("List-Unsubscribe = %q, want %q", got, want)
	}
	if got := h.Get("List-Unsubscribe-Post"); got != "" {
		t.Errorf("List-Unsubscribe-Post = %q over http", got)
	}
}

func TestSendEscaping(t *testing.T) {
	srv, sender, composer := setup(t)
	const evil = `<script>alert("x")</script>`
	n := mail.Notification{
		Username:        "bob" + evil,
		Items:           []mail.Item{{Kind: mail.KindMention, From: "zoë" + evil, Preview: "hi " + evil, Path: "/index"}},
		Path:            "/index",
		UnsubscribePath: "/unsubscribe/TOKEN",
	}
	if err := sender.Send(t.Context(), compose(t, composer, n)); err != nil {
		t.Fatal(err)
	}
	got := next(t, srv)
	if strings.Contains(got.HTML, "<script") {
		t.Errorf("HTML part carries a member's <script>:\n%s", got.HTML)
	}
	if !strings.Contains(got.HTML, "&lt;script&gt;") {
		t.Errorf("HTML part lacks the escaped name:\n%s", got.HTML)
	}
	if !strings.Contains(got.Text, "zoë"+evil) {
		t.Errorf("text part does not show the name as typed:\n%s", got.Text)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(got.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "1 new mention from zoë" + evil; subject != want {
		t.Errorf("Subject = %q, want %q", subject, want)
	}
}

// TestMailtestNext checks that Next waits for a message rather than failing
// at once, and gives up when its context ends.
func TestMailtestNext(t *testing.T) {
	srv, sender, composer := setup(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Millisecond)
	defer cancel()
	if _, err := srv.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Next on an empty server: %v, want deadline exceeded", err)
	}
	got := make(chan *mailtest.Message)
	go func() {
		m, err := srv.Next(t.Context())
		if err != nil {
			t.Error(err)
		}
		got <- m
	}()
	if err := sender.Send(t.Context(), compose(t, composer, notification(""))); err != nil {
		t.Fatal(err)
	}
	if m := <-got; m == nil || m.Text == "" {
		t.Errorf("Next returned %+v", m)
	}
}

func TestSendUnanswered(t *testing.T) {
	srv, sender, composer := setup(t)
	srv.HangUp(1)
	err := sender.Send(t.Context(), compose(t, composer, notification("")))
	if !mail.IsUnknown(err) {
		t.Fatalf("no answer after the message: %v, want an unknown outcome", err)
	}
	if n := len(srv.Received()); n != 1 {
		t.Errorf("server took %d messages", n)
	}
}
