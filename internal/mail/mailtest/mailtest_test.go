package mailtest_test

import (
	"crypto/tls"
	"net/smtp"
	"strings"
	"testing"

	"natter/internal/mail/mailtest"
)

// send speaks SMTP to srv with the standard library's client, so that these
// tests check the server independently of the mail package.
func send(t *testing.T, srv *mailtest.Server, raw string, auth smtp.Auth) error {
	t.Helper()
	c, err := smtp.Dial(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if roots := srv.RootCAs(); roots != nil {
		if err := c.StartTLS(&tls.Config{ServerName: srv.Host(), RootCAs: roots}); err != nil {
			return err
		}
	}
	if auth != nil {
		if err := c.Auth(auth); err != nil {
			return err
		}
	}
	if err := c.Mail("a@example.org"); err != nil {
		return err
	}
	if err := c.Rcpt("b@example.org"); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(strings.ReplaceAll(raw, "\n", "\r\n"))); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

const nested = `From: a@example.org
To: b@example.org
Subject: nested
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=outer

--outer
Content-Type: multipart/alternative; boundary=inner

--inner
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

caf=C3=A9 =
au lait
--inner
Content-Type: text/html; charset=UTF-8
Content-Transfer-Encoding: base64

PHA+Y2Fmw6k8L3A+
--inner--
--outer--
`

func TestServerDecodesParts(t *testing.T) {
	srv := mailtest.Start(t)
	if err := send(t, srv, nested, nil); err != nil {
		t.Fatal(err)
	}
	m, err := srv.Next(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if m.Text != "café au lait" {
		t.Errorf("text = %q", m.Text)
	}
	if m.HTML != "<p>café</p>" {
		t.Errorf("HTML = %q", m.HTML)
	}
	if m.Header.Get("Subject") != "nested" || m.From != "a@example.org" || len(m.To) != 1 || m.To[0] != "b@example.org" {
		t.Errorf("header or envelope: %q from %q to %q", m.Header.Get("Subject"), m.From, m.To)
	}
	if m.TLS || m.AuthUser != "" {
		t.Errorf("TLS=%v AuthUser=%q on a plain, anonymous connection", m.TLS, m.AuthUser)
	}
}

func TestServerRefuses(t *testing.T) {
	srv := mailtest.Start(t)
	srv.Refuse(2, 452)
	for i := range 2 {
		err := send(t, srv, "Subject: x\n\nbody\n", nil)
		if err == nil || !strings.HasPrefix(err.Error(), "452") {
			t.Errorf("message %d: %v, want a 452 refusal", i+1, err)
		}
	}
	if err := send(t, srv, "Subject: x\n\nbody\n", nil); err != nil {
		t.Errorf("third message: %v", err)
	}
	if n := len(srv.Received()); n != 1 {
		t.Errorf("received %d, want 1", n)
	}
}

func TestServerAuth(t *testing.T) {
	srv := mailtest.Start(t, mailtest.WithSecurity(mailtest.StartTLS), mailtest.WithAuth("natter", "s3cret"))
	if err := send(t, srv, "Subject: x\n\nbody\n", nil); err == nil {
		t.Error("accepted mail without AUTH")
	}
	if err := send(t, srv, "Subject: x\n\nbody\n", smtp.PlainAuth("", "natter", "wrong", srv.Host())); err == nil {
		t.Error("accepted a wrong password")
	}
	if err := send(t, srv, "Subject: x\n\nbody\n", smtp.PlainAuth("", "natter", "s3cret", srv.Host())); err != nil {
		t.Fatal(err)
	}
	m, err := srv.Next(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !m.TLS || m.AuthUser != "natter" {
		t.Errorf("TLS=%v AuthUser=%q, want TLS as natter", m.TLS, m.AuthUser)
	}
	if n := srv.AuthAttempts(); n != 2 {
		t.Errorf("AuthAttempts = %d, want 2", n)
	}
}
