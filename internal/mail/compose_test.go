package mail_test

import (
	netmail "net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"natter/internal/mail"
)

func newComposer(t *testing.T, cfg mail.Config) *mail.Composer {
	t.Helper()
	c, err := mail.NewComposer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var bob = &netmail.Address{Name: "bob", Address: "bob@example.org"}

func compose(t *testing.T, c *mail.Composer, e mail.Email) mail.Message {
	t.Helper()
	m, err := c.Compose(bob, e)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func testComposer(t *testing.T) *mail.Composer {
	t.Helper()
	cfg, err := mail.ParseConfig("smtp://127.0.0.1:25?tls=none", "", "https://natter.example")
	if err != nil {
		t.Fatal(err)
	}
	return newComposer(t, cfg)
}

// everyEmail holds one of each email, with name as every member-typed field.
func everyEmail(name string) map[string]mail.Email {
	items := []mail.Item{
		{Kind: mail.KindMessage, From: name, Preview: "hello from " + name, Path: "/messages"},
		{Kind: mail.KindMention, From: "alice", Preview: "@bob look", Path: "/index"},
	}
	return map[string]mail.Email{
		"VerifyAddress":       mail.VerifyAddress{Username: name, Path: "/verify-email/TOKEN", ValidFor: 24 * time.Hour},
		"RegistrationAttempt": mail.RegistrationAttempt{Username: name, LoginPath: "/login", ResetPath: "/reset-password"},
		"PasswordReset":       mail.PasswordReset{Username: name, Path: "/reset-password/TOKEN", ValidFor: time.Hour},
		"PasswordChanged":     mail.PasswordChanged{Username: name, ResetPath: "/reset-password"},
		"Notification":        mail.Notification{Username: name, Items: items, Path: "/messages", UnsubscribePath: "/unsubscribe/TOKEN", SettingsPath: "/settings"},
		"Digest":              mail.Digest{Username: name, Period: "weekly", Items: items, Path: "/messages", UnsubscribePath: "/unsubscribe/DIGEST"},
	}
}

var href = regexp.MustCompile(`(?i)\b(?:href|src)\s*=\s*"([^"]*)"`)

func TestComposeEveryEmail(t *testing.T) {
	c := testComposer(t)
	for name, e := range everyEmail("bob") {
		t.Run(name, func(t *testing.T) {
			m := compose(t, c, e)
			if m.To != bob || m.Subject == "" || m.Text == "" || m.HTML == "" {
				t.Fatalf("incomplete message: %+v", m)
			}
			if !strings.Contains(m.Text, "Hello bob,") || !strings.Contains(m.HTML, "Hello bob,") {
				t.Error("the email does not greet its member")
			}
			links := href.FindAllStringSubmatch(m.HTML, -1)
			if len(links) == 0 {
				t.Error("HTML part has no link")
			}
			for _, l := range links {
				if !strings.HasPrefix(l[1], "https://natter.example/") {
					t.Errorf("HTML link %q is not absolute on the public URL", l[1])
				}
			}
			for _, l := range regexp.MustCompile(`\S+://\S+`).FindAllString(m.Text, -1) {
				if !strings.HasPrefix(l, "https://natter.example/") {
					t.Errorf("text link %q is not on the public URL", l)
				}
			}
			// No remote images, scripts, stylesheets or tracking pixels.
			for _, tag := range []string{"<img", "<script", "<link", "<style", "url("} {
				if strings.Contains(strings.ToLower(m.HTML), tag) {
					t.Errorf("HTML part has %q", tag)
				}
			}
			isList := name == "Notification" || name == "Digest"
			if (m.List != nil) != isList {
				t.Errorf("List = %+v; want one only on notifications and digests", m.List)
			}
			if isList && !strings.Contains(m.Text, m.List.Unsubscribe) {
				t.Errorf("text part lacks the unsubscribe link %q", m.List.Unsubscribe)
			}
		})
	}
}

func TestComposeEscaping(t *testing.T) {
	c := testComposer(t)
	const evil = `<script>alert(1)</script>"'&`
	for name, e := range everyEmail("eve" + evil) {
		t.Run(name, func(t *testing.T) {
			m := compose(t, c, e)
			if strings.Contains(m.HTML, "<script") || strings.Contains(m.HTML, "alert(1)</") {
				t.Errorf("HTML part carries the member's markup:\n%s", m.HTML)
			}
			if !strings.Contains(m.HTML, "eve&lt;script&gt;alert(1)&lt;/script&gt;") {
				t.Errorf("HTML part lacks the escaped name:\n%s", m.HTML)
			}
			if !strings.Contains(m.Text, "eve"+evil) {
				t.Errorf("text part does not show the name as typed:\n%s", m.Text)
			}
		})
	}
}

func TestComposeSummary(t *testing.T) {
	c := testComposer(t)
	msg := func(from string) mail.Item {
		return mail.Item{Kind: mail.KindMessage, From: from, Preview: "hi", Path: "/messages"}
	}
	mention := func(from string) mail.Item {
		return mail.Item{Kind: mail.KindMention, From: from, Preview: "hi", Path: "/index"}
	}
	tests := []struct {
		name   string
		items  []mail.Item
		want   string
		listID string
	}{
		{"OneMessage", []mail.Item{msg("bob")}, "1 new message from bob", "messages"},
		{"ThreeFromTwo", []mail.Item{msg("bob"), msg("alice"), msg("bob")}, "3 new messages from bob and alice", "messages"},
		{"ThreePeople", []mail.Item{msg("a"), msg("b"), msg("c")}, "3 new messages from a, b and c", "messages"},
		{"ManyPeople", []mail.Item{msg("a"), msg("b"), msg("c"), msg("d"), msg("e")}, "5 new messages from a, b and 3 others", "messages"},
		{"Mentions", []mail.Item{mention("carol"), mention("dave")}, "2 new mentions from carol and dave", "mentions"},
		{"Mixed", []mail.Item{msg("bob"), mention("carol"), msg("bob")}, "2 new messages and 1 mention from bob and carol", "notifications"},
		{"NameWithLineBreak", []mail.Item{msg("bob\r\nBcc: eve@example.org")}, "1 new message from bob Bcc: eve@example.org", "messages"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := compose(t, c, mail.Notification{Username: "zoe", Items: tt.items, Path: "/messages", UnsubscribePath: "/unsubscribe/T"})
			if m.Subject != tt.want {
				t.Errorf("subject = %q, want %q", m.Subject, tt.want)
			}
			if m.List == nil || m.List.ID != tt.listID {
				t.Errorf("list = %+v, want ID %q", m.List, tt.listID)
			}
		})
	}
	t.Run("LongPreview", func(t *testing.T) {
		long := strings.Repeat("ä", 500)
		m := compose(t, c, mail.Notification{Username: "zoe", Items: []mail.Item{{Kind: mail.KindMessage, From: "bob", Preview: long, Path: "/messages"}}, Path: "/messages", UnsubscribePath: "/u/T"})
		if strings.Contains(m.Text, strings.Repeat("ä", 140)) || !strings.Contains(m.Text, strings.Repeat("ä", 139)+"…") {
			t.Error("a long preview is not cut to 140 characters")
		}
	})
}

func TestComposeErrors(t *testing.T) {
	c := testComposer(t)
	items := []mail.Item{{Kind: mail.KindMessage, From: "bob", Preview: "hi", Path: "/messages"}}
	tests := map[string]mail.Email{
		"ErrNoUsername":       mail.PasswordChanged{ResetPath: "/reset-password"},
		"ErrForeignLink":      mail.VerifyAddress{Username: "bob", Path: "https://evil.example/verify", ValidFor: time.Hour},
		"ErrSchemeRelative":   mail.PasswordReset{Username: "bob", Path: "//evil.example/reset", ValidFor: time.Hour},
		"ErrNoLifetime":       mail.PasswordReset{Username: "bob", Path: "/reset-password/T"},
		"ErrOddLifetime":      mail.PasswordReset{Username: "bob", Path: "/reset-password/T", ValidFor: 90 * time.Second},
		"ErrNoItems":          mail.Notification{Username: "bob", Path: "/messages", UnsubscribePath: "/u/T"},
		"ErrUnknownKind":      mail.Notification{Username: "bob", Items: []mail.Item{{Kind: "poke", From: "a", Path: "/"}}, Path: "/messages", UnsubscribePath: "/u/T"},
		"ErrNoUnsubscribe":    mail.Notification{Username: "bob", Items: items, Path: "/messages"},
		"ErrItemWithoutName":  mail.Notification{Username: "bob", Items: []mail.Item{{Kind: mail.KindMessage, Path: "/"}}, Path: "/messages", UnsubscribePath: "/u/T"},
		"ErrDigestPeriod":     mail.Digest{Username: "bob", Period: "hourly", Items: items, Path: "/messages", UnsubscribePath: "/u/T"},
		"ErrRegistrationLink": mail.RegistrationAttempt{Username: "bob", LoginPath: "/login"},
	}
	for name, e := range tests {
		t.Run(name, func(t *testing.T) {
			if m, err := c.Compose(bob, e); err == nil {
				t.Errorf("no error; composed %q", m.Subject)
			}
		})
	}
	if _, err := c.Compose(nil, mail.PasswordChanged{Username: "bob", ResetPath: "/r"}); err == nil {
		t.Error("composed an email to nobody")
	}
}

func TestComposeLifetimes(t *testing.T) {
	c := testComposer(t)
	for d, want := range map[time.Duration]string{
		time.Hour:        "expires in 1 hour",
		24 * time.Hour:   "expires in 24 hours",
		72 * time.Hour:   "expires in 3 days",
		30 * time.Minute: "expires in 30 minutes",
	} {
		m := compose(t, c, mail.PasswordReset{Username: "bob", Path: "/reset-password/T", ValidFor: d})
		if !strings.Contains(m.Text, want) || !strings.Contains(m.HTML, want) {
			t.Errorf("%v: email does not say %q:\n%s", d, want, m.Text)
		}
	}
}

// Emails name the site as its pages do (-site-name), and by the public
// URL's host when it has no name.
func TestComposeSiteName(t *testing.T) {
	cfg, err := mail.ParseConfig("smtp://127.0.0.1:25?tls=none", "", "https://natter.example")
	if err != nil {
		t.Fatal(err)
	}
	e := everyEmail("carol")["VerifyAddress"]
	if e == nil {
		t.Fatal("no verify email in everyEmail")
	}
	if m := compose(t, newComposer(t, cfg), e); !strings.Contains(m.Text, "address on natter.example by") {
		t.Errorf("without a name the email does not say the host:\n%s", m.Text)
	}
	cfg.SiteName = "Chess Club"
	m := compose(t, newComposer(t, cfg), e)
	if !strings.Contains(m.Text, "address on Chess Club by") || !strings.Contains(m.HTML, "on Chess Club") {
		t.Errorf("the email does not name the site:\n%s\n%s", m.Text, m.HTML)
	}
}
