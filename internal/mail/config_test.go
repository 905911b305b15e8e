package mail_test

import (
	"fmt"
	"strings"
	"testing"

	"natter/internal/mail"
)

func TestParseConfig(t *testing.T) {
	const public = "https://natter.example"
	t.Run("OffWithoutSMTPURL", func(t *testing.T) {
		cfg, err := mail.ParseConfig("", "", "")
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Enabled() {
			t.Error("email is on without an SMTP URL")
		}
	})

	ok := []struct {
		name, url string
		want      mail.Server
	}{
		{"StartTLSDefaultPort", "smtp://mail.example", mail.Server{Host: "mail.example", Port: 587, Security: mail.StartTLS}},
		{"StartTLSCredentials", "smtp://bob:s%40cret@mail.example:2525", mail.Server{Host: "mail.example", Port: 2525, Security: mail.StartTLS, Username: "bob", Password: "s@cret"}},
		{"ImplicitTLS", "smtps://bob:pw@mail.example", mail.Server{Host: "mail.example", Port: 465, Security: mail.ImplicitTLS, Username: "bob", Password: "pw"}},
		{"Plain", "smtp://127.0.0.1:1025?tls=none", mail.Server{Host: "127.0.0.1", Port: 1025, Security: mail.Plain}},
		{"PlainDefaultPort", "smtp://localhost?tls=none", mail.Server{Host: "localhost", Port: 25, Security: mail.Plain}},
		{"IPv6", "smtp://[::1]:1025/?tls=none", mail.Server{Host: "::1", Port: 1025, Security: mail.Plain}},
	}
	for _, tt := range ok {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := mail.ParseConfig(tt.url, "", public)
			if err != nil {
				t.Fatal(err)
			}
			if !cfg.Enabled() {
				t.Error("email is off")
			}
			if cfg.Server != tt.want {
				t.Errorf("server = %+v, want %+v", cfg.Server, tt.want)
			}
		})
	}

	bad := []struct {
		name, url, from, public, want string
	}{
		{"ErrCredentialsWithoutTLS", "smtp://bob:pw@localhost:25?tls=none", "", public, "unencrypted"},
		{"ErrScheme", "http://mail.example", "", public, "not smtp or smtps"},
		{"ErrNoHost", "smtp://:25", "", public, "no host"},
		{"ErrNoScheme", "mail.example:25", "", public, ""},
		{"ErrPort", "smtp://mail.example:99999", "", public, "port"},
		{"ErrPath", "smtp://mail.example/inbox", "", public, "path"},
		{"ErrUnknownParameter", "smtp://mail.example?tls=yes", "", public, "tls"},
		{"ErrUnknownKey", "smtp://mail.example?ssl=none", "", public, "unknown"},
		{"ErrSMTPSNone", "smtps://mail.example?tls=none", "", public, "contradicts"},
		{"ErrUserWithoutPassword", "smtp://bob@mail.example", "", public, "both"},
		{"ErrPublicURLMissing", "smtp://mail.example", "", "", "public-url is required"},
		{"ErrPublicURLRelative", "smtp://mail.example", "", "/natter", "absolute"},
		{"ErrPublicURLScheme", "smtp://mail.example", "", "ftp://natter.example", "absolute"},
		{"ErrPublicURLQuery", "smtp://mail.example", "", "https://natter.example/?a=b", "scheme://host"},
		{"ErrFrom", "smtp://mail.example", "not an address", public, "mail-from"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mail.ParseConfig(tt.url, tt.from, tt.public)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "pw") || strings.Contains(err.Error(), "s%40cret") {
				t.Errorf("error %q repeats the password", err)
			}
		})
	}

	t.Run("FromDefault", func(t *testing.T) {
		cfg, err := mail.ParseConfig("smtp://mail.example", "", "https://natter.example:8443/")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := cfg.From.Address, "natter@natter.example"; got != want {
			t.Errorf("from = %q, want %q", got, want)
		}
		if got, want := cfg.PublicURL.String(), "https://natter.example:8443"; got != want {
			t.Errorf("public URL = %q, want %q", got, want)
		}
	})
	t.Run("FromDefaultImpossible", func(t *testing.T) {
		_, err := mail.ParseConfig("smtp://mail.example", "", "https://[::1]:8080")
		if err == nil || !strings.Contains(err.Error(), "mail-from is required") {
			t.Errorf("error %v, want mail-from is required", err)
		}
	})
	t.Run("String", func(t *testing.T) {
		cfg, err := mail.ParseConfig("smtp://bob:hunter2@mail.example", "", public)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{cfg.Server.String(), fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg)} {
			if strings.Contains(s, "hunter2") {
				t.Errorf("%q shows the password", s)
			}
		}
		if got, want := cfg.Server.String(), "smtp://bob@mail.example:587"; got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	})
	t.Run("From", func(t *testing.T) {
		cfg, err := mail.ParseConfig("smtp://mail.example", "Our Site <noreply@example.org>", public)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.From.Address != "noreply@example.org" || cfg.From.Name != "Our Site" {
			t.Errorf("from = %v", cfg.From)
		}
	})
}

func TestConfigLink(t *testing.T) {
	cfg, err := mail.ParseConfig("smtp://mail.example", "", "https://example.org/natter/")
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/verify-email/abc":       "https://example.org/natter/verify-email/abc",
		"/messages?page=2#latest": "https://example.org/natter/messages?page=2#latest",
		"/user/b%C3%B6b":          "https://example.org/natter/user/b%C3%B6b",
	} {
		got, err := cfg.Link(path)
		if err != nil {
			t.Errorf("Link(%q): %v", path, err)
		} else if got != want {
			t.Errorf("Link(%q) = %q, want %q", path, got, want)
		}
	}
	for _, path := range []string{"", "messages", "//evil.example/x", "https://evil.example/x", "javascript:alert(1)"} {
		if got, err := cfg.Link(path); err == nil {
			t.Errorf("Link(%q) = %q, want an error", path, got)
		}
	}
}
