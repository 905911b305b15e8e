package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"natter/internal/app"
	"natter/internal/deliver"
	"natter/internal/mail"
	"natter/internal/mail/mailtest"
	"natter/internal/natter"
)

var testMailKey = []byte("0123456789abcdef0123456789abcdef")

// mailSite is a site that sends email, through an engine the test steps,
// to mailtest's SMTP server.
type mailSite struct {
	*site
	srv    *mailtest.Server
	engine *deliver.Engine
}

func newMailSite(t *testing.T) *mailSite {
	t.Helper()
	s := &mailSite{site: newSite(t, siteOptions{App: app.Config{MailKey: testMailKey,
		Channels: []app.Channel{{Name: natter.ChannelEmail, Delay: 0}}}})}
	s.srv = mailtest.Start(t)
	cfg, err := mail.ParseConfig(s.srv.URL(), "", "https://natter.example")
	if err != nil {
		t.Fatal(err)
	}
	sender, err := mail.NewSender(cfg)
	if err != nil {
		t.Fatal(err)
	}
	composer, err := mail.NewComposer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	presence := deliver.LocalPresence{Streams: s.hub}
	s.engine, err = deliver.New(deliver.Options{Store: s.store, Presence: presence,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Channels: []deliver.Channel{&deliver.Email{Store: s.store, Presence: presence, Sender: sender, Composer: composer,
			Unsubscribe: func(id int64, list string) string { return app.UnsubscribePath(testMailKey, id, list) }}}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// mails sends what is due and returns every email received so far.
func (s *mailSite) mails(t *testing.T, want int) []*mailtest.Message {
	t.Helper()
	if err := s.engine.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := s.srv.Received()
	if len(got) != want {
		t.Fatalf("%d emails sent, want %d", len(got), want)
	}
	return got
}

var mailLinkRE = regexp.MustCompile(`https://natter\.example(/\S+)`)

func mailLink(t *testing.T, m *mailtest.Message, prefix string) string {
	t.Helper()
	for _, l := range mailLinkRE.FindAllStringSubmatch(m.Text, -1) {
		if strings.HasPrefix(l[1], prefix) {
			return l[1]
		}
	}
	t.Fatalf("no %s link in:\n%s", prefix, m.Text)
	return ""
}

// flash is the notice the page after a redirect shows.
func flash(t *testing.T, m *member, r *response) string {
	t.Helper()
	var alerts []element
	for _, e := range findClass(m.follow(t, r).Body, "flash") {
		if e.Attr["role"] == "status" {
			alerts = append(alerts, e)
		}
	}
	if len(alerts) != 1 {
		t.Fatalf("%d notices after %s: %q", len(alerts), r.Request.URL.Path, alerts)
	}
	return alerts[0].Text()
}

func TestVerifyAddress(t *testing.T) {
	s := newMailSite(t)
	s.browser().page(t, "/register").wantText("We will email you a link to confirm it.")
	bob := s.register(t, "bob")
	bob.page(t, "/settings/account").wantText("We have sent a link to bob@example.com", "Send the link again")
	link := mailLink(t, s.mails(t, 1)[0], "/verify-email/")

	// The link works in a browser that is not logged in: a page, then a
	// button (a mail scanner fetching the link uses nothing up).
	stranger := s.browser()
	stranger.page(t, link).wantText("Is bob@example.com your address?")
	stranger.postForm(t, link, url.Values{}).wantRedirect("/login")
	if u := bob.user(t); u.Email != "bob@example.com" || !u.EmailVerified {
		t.Fatalf("after the link: %+v", u)
	}
	bob.page(t, "/settings/account").wantText("Your address is confirmed.")
	stranger.postForm(t, link, url.Values{}).wantStatus(http.StatusNotFound)
	stranger.get(t, link).wantStatus(http.StatusNotFound).wantText("This link has expired or was already used.")

	// Registering with bob's address answers exactly as a free address
	// does, and mails bob instead.
	eve := s.browser()
	eve.name = "eve"
	r := eve.postForm(t, "/register", url.Values{"username": {"eve"}, "email": {"bob@example.com"},
		"password": {"violet-lantern-42"}, "confirm_password": {"violet-lantern-42"}}).wantRedirect("/")
	eveSays := flash(t, eve, r)
	carl := s.browser()
	r = carl.postForm(t, "/register", url.Values{"username": {"carl"}, "email": {"carl@example.com"},
		"password": {"violet-lantern-42"}, "confirm_password": {"violet-lantern-42"}}).wantRedirect("/")
	carlSays := flash(t, carl, r)
	if strings.ReplaceAll(eveSays, "eve", "X") != strings.ReplaceAll(strings.ReplaceAll(carlSays, "carl@example.com", "bob@example.com"), "carl", "X") {
		t.Errorf("answers differ:\n%q\n%q", eveSays, carlSays)
	}
	// The engine sends in parallel: the two emails arrive in either order.
	to := map[string]*mailtest.Message{}
	for _, m := range s.mails(t, 3)[1:] {
		to[m.To[0]] = m
	}
	if m := to["bob@example.com"]; m == nil || !strings.Contains(m.Header.Get("Subject"), "tried to register") {
		t.Errorf("no \"tried to register\" email to bob: %v", to)
	}
	if m := to["carl@example.com"]; m == nil || !strings.Contains(m.Text, "/verify-email/") {
		t.Errorf("no link to carl: %v", to)
	}
}

func TestResetPassword(t *testing.T) {
	s := newMailSite(t)
	bob := s.register(t, "bob")
	bob.postForm(t, mailLink(t, s.mails(t, 1)[0], "/verify-email/"), url.Values{}).wantRedirect("/settings/account")
	other := bob.login(t)

	guest := s.browser()
	guest.page(t, "/login").wantText("Forgot your password?")
	guest.page(t, "/reset-password").wantText("Send me a link")
	// The same answer for an address nobody has.
	known := guest.postForm(t, "/reset-password", url.Values{"email": {"bob@example.com"}}).wantStatus(http.StatusOK)
	unknown := guest.postForm(t, "/reset-password", url.Values{"email": {"nobody@example.com"}}).wantStatus(http.StatusOK)
	if strings.ReplaceAll(known.Body, "bob@example.com", "X") != strings.ReplaceAll(unknown.Body, "nobody@example.com", "X") {
		t.Error("the answer tells a member's address from another")
	}
	link := mailLink(t, s.mails(t, 2)[1], "/reset-password/")
	guest.page(t, link).wantText("Choose a new password", "For bob.")
	guest.postForm(t, link, url.Values{"password": {"amber-harbour-77"}, "confirm_password": {"amber-harbour-78"}}).
		wantStatus(http.StatusUnprocessableEntity)
	guest.postForm(t, link, url.Values{"password": {"amber-harbour-77"}, "confirm_password": {"amber-harbour-77"}}).
		wantRedirect("/login")
	// Every session of bob's ended; the new password works.
	other.get(t, "/settings/account").wantRedirect("/login?next=%2Fsettings%2Faccount")
	bob.get(t, "/settings/account").wantRedirect("/login?next=%2Fsettings%2Faccount")
	bob.password = "amber-harbour-77"
	bob.login(t)
	if m := s.mails(t, 3)[2]; !strings.Contains(m.Header.Get("Subject"), "was changed") {
		t.Errorf("then %q", m.Header.Get("Subject"))
	}
	// The link worked once.
	guest.get(t, link).wantStatus(http.StatusNotFound)
	guest.postForm(t, link, url.Values{"password": {"violet-lantern-42"}, "confirm_password": {"violet-lantern-42"}}).
		wantStatus(http.StatusNotFound)
}

func TestUnsubscribeOneClick(t *testing.T) {
	s := newMailSite(t)
	bob := s.register(t, "bob")
	u := bob.user(t)
	path := app.UnsubscribePath(testMailKey, u.ID, natter.KindMessage)
	guest := s.browser()
	guest.page(t, path).wantText("Stop these emails?", "no more email about messages")
	if p, _ := s.store.Prefs(context.Background(), u.ID); p.Kind(natter.KindMessage).Email != natter.EmailAway {
		t.Fatal("the page alone unsubscribed")
	}
	// As a mail client does it (RFC 8058): a POST, no session, no
	// confirmation, from another site's origin.
	req, _ := http.NewRequest(http.MethodPost, s.URL+path, strings.NewReader("List-Unsubscribe=One-Click"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://mail.example.org")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	guest.do(t, req).wantStatus(http.StatusOK).wantText("Unsubscribed")
	p, _ := s.store.Prefs(context.Background(), u.ID)
	if p.Kind(natter.KindMessage).Email != natter.EmailNever || p.Kind(natter.KindMention).Email != natter.EmailAway {
		t.Errorf("after unsubscribing: %+v", p.Kinds)
	}
	guest.postForm(t, strings.Replace(path, "message.", "mention.", 1), url.Values{}).wantStatus(http.StatusNotFound)
}

func TestEmailOffSaysSo(t *testing.T) {
	s := newSite(t)
	bob := s.register(t, "bob")
	bob.page(t, "/settings/account").wantText("This site does not send email")
	bob.page(t, "/settings/notifications").wantText("This site does not send email")
	guest := s.browser()
	guest.page(t, "/register").wantText("This site does not send email: your address is not checked.")
	guest.page(t, "/reset-password").wantText("This site does not send email").wantNoText("Send me a link")
	guest.postForm(t, "/reset-password", url.Values{"email": {"bob@example.com"}}).wantStatus(http.StatusNotFound)
	guest.get(t, "/unsubscribe/1.message.x").wantStatus(http.StatusNotFound)
}

func TestDigestSetting(t *testing.T) {
	s := newMailSite(t)
	bob := s.register(t, "bob")
	bob.page(t, "/settings/notifications").wantText("Your email address is not confirmed yet")
	form := url.Values{"email_message": {"away"}, "email_mention": {"away"}, "push_message": {"on"}, "digest": {"weekly"}}
	bob.postForm(t, "/settings/notifications", form).wantRedirect("/settings/notifications")
	if p, _ := s.store.Prefs(context.Background(), bob.user(t).ID); p.Digest != natter.DigestWeekly {
		t.Errorf("digest %q, want weekly", p.Digest)
	}
	form.Set("digest", "hourly")
	bob.postForm(t, "/settings/notifications", form).wantStatus(http.StatusUnprocessableEntity)
}
