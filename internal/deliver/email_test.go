package deliver_test

// The email channel against the fixtures' instance (fixtures_test.go):
// mail.Sender handing email to mailtest's SMTP server, which records every
// message.

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"natter/internal/app"
	"natter/internal/natter"
	"natter/internal/store"
)

func TestEmailAwayMemberAfterDelay(t *testing.T) {
	eachDialect(t, emailOnly, func(t *testing.T, f *fixture) {
		alice, bob := f.member("alice"), f.member("bob")
		f.send(alice, "bob", "lunch at noon?")
		f.drainAfter(emailDelay - time.Second)
		f.expectMails(0) // not yet
		f.drainAfter(time.Second)
		m := f.expectMails(1)[0]
		h := m.Header
		if len(m.To) != 1 || m.To[0] != "bob@example.com" {
			t.Errorf("sent to %q", m.To)
		}
		want := map[string]string{
			"Subject":               "1 new message from alice",
			"Auto-Submitted":        "auto-generated",
			"List-Id":               `"natter.example messages" <messages.natter.example>`,
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		}
		for k, v := range want {
			if got := h.Get(k); got != v {
				t.Errorf("%s = %q, want %q", k, got, v)
			}
		}
		if !regexp.MustCompile(`^<job-\d+-[0-9a-z]+@natter\.example>$`).MatchString(h.Get("Message-Id")) {
			t.Errorf("Message-ID %q", h.Get("Message-Id"))
		}
		if _, err := h.Date(); err != nil {
			t.Errorf("Date: %v", err)
		}
		if h.Get("In-Reply-To") == "" || h.Get("References") != h.Get("In-Reply-To") {
			t.Errorf("threading: In-Reply-To %q, References %q", h.Get("In-Reply-To"), h.Get("References"))
		}
		if !strings.Contains(m.Text, "lunch at noon?") || !strings.Contains(m.HTML, "lunch at noon?") {
			t.Errorf("the message's text is missing:\n%s", m.Text)
		}
		if !strings.Contains(m.Text, "https://natter.example/messages/alice") {
			t.Errorf("no link to the conversation:\n%s", m.Text)
		}
		f.drainAfter(time.Hour)
		f.expectMails(1) // once

		// A second message in the conversation threads with the first.
		f.send(alice, "bob", "or one?")
		f.drainAfter(emailDelay)
		second := f.expectMails(2)[1]
		if second.Header.Get("References") != h.Get("References") {
			t.Errorf("second email's References %q, want %q", second.Header.Get("References"), h.Get("References"))
		}

		// The List-Unsubscribe link unsubscribes bob from message email,
		// with no session: the app is given only the token.
		lu := strings.Trim(h.Get("List-Unsubscribe"), "<>")
		u, err := url.Parse(lu)
		if err != nil || !strings.HasPrefix(u.Path, "/unsubscribe/") || u.Scheme != "https" {
			t.Fatalf("List-Unsubscribe %q", lu)
		}
		if _, err := f.app.Unsubscribe(context.Background(), strings.TrimPrefix(u.Path, "/unsubscribe/")); err != nil {
			t.Fatal(err)
		}
		p, _ := f.store.Prefs(context.Background(), bob.ID)
		if p.Kind(natter.KindMessage).Email != natter.EmailNever || !p.Kind(natter.KindMessage).Push {
			t.Errorf("after unsubscribing: %+v", p.Kind(natter.KindMessage))
		}
		f.send(alice, "bob", "still there?")
		f.drainAfter(emailDelay)
		f.expectMails(2)
		// A forged token is refused.
		if _, err := f.app.Unsubscribe(context.Background(), strings.Replace(strings.TrimPrefix(u.Path, "/unsubscribe/"), "message", "mention", 1)); err == nil {
			t.Error("a token for another list was accepted")
		}
	})
}

func TestEmailReadBeforeDelayIsNeverSent(t *testing.T) {
	eachDialect(t, emailOnly, func(t *testing.T, f *fixture) {
		alice, bob := f.member("alice"), f.member("bob")
		f.send(alice, "bob", "hi")
		f.clock.Advance(emailDelay / 2)
		if _, err := f.app.Conversation(context.Background(), f.account(bob), "alice", 0); err != nil {
			t.Fatal(err)
		}
		f.drainAfter(emailDelay)
		f.expectMails(0)
	})
}

func TestEmailOpenPageSendsNothing(t *testing.T) {
	eachDialect(t, emailOnly, func(t *testing.T, f *fixture) {
		alice, bob := f.member("alice"), f.member("bob")
		stream := f.hub.Subscribe(bob.ID)
		f.send(alice, "bob", "hi")
		f.drainAfter(emailDelay)
		f.expectMails(0)
		stream.Close()
		f.drainAfter(time.Hour)
		f.expectMails(0) // the page told bob: the job is done with

		// "Always" emails even with a page open.
		f.setPrefs(bob, func(p *natter.Prefs) {
			p.Kinds[natter.KindMessage] = natter.KindPrefs{Push: true, Email: natter.EmailAlways}
		})
		stream = f.hub.Subscribe(bob.ID)
		defer stream.Close()
		f.send(alice, "bob", "always")
		f.drainAfter(emailDelay)
		f.expectMails(1)
	})
}

func TestEmailGroupsItemsDueTogether(t *testing.T) {
	eachDialect(t, emailOnly, func(t *testing.T, f *fixture) {
		alice, carol := f.member("alice"), f.member("carol")
		f.member("bob")
		f.send(alice, "bob", "one")
		f.send(carol, "bob", "two")
		f.send(alice, "bob", "three")
		f.drainAfter(emailDelay)
		m := f.expectMails(1)[0]
		if got, want := m.Header.Get("Subject"), "3 new messages from alice and carol"; got != want {
			t.Errorf("Subject %q, want %q", got, want)
		}
		for _, s := range []string{"one", "two", "three"} {
			if !strings.Contains(m.Text, s) {
				t.Errorf("the email lacks %q:\n%s", s, m.Text)
			}
		}
		if m.Header.Get("References") != "" {
			t.Errorf("an email about two conversations is threaded: %q", m.Header.Get("References"))
		}
		f.drainAfter(time.Hour)
		f.expectMails(1)
	})
}

// Likes of one post, for a member who wants email about likes, are one
// item naming every liker, newest first, not one item per like.
func TestEmailGroupsLikesOfAPost(t *testing.T) {
	eachDialect(t, emailOnly, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		alice, bob, carol := f.member("alice"), f.member("bob"), f.member("carol")
		f.setPrefs(alice, func(p *natter.Prefs) {
			p.Kinds[natter.KindLike] = natter.KindPrefs{Email: natter.EmailAlways}
		})
		post, err := f.app.CreatePost(ctx, alice, "Spring is here")
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range []natter.Account{bob, carol} {
			if _, err := f.app.Like(ctx, u, post.ID); err != nil {
				t.Fatal(err)
			}
		}
		f.drainAfter(emailDelay)
		m := f.expectMails(1)[0]
		if got, want := m.Header.Get("Subject"), "2 new likes from carol and bob"; got != want {
			t.Errorf("Subject %q, want %q", got, want)
		}
		if got := strings.Count(m.Text, "liked your post"); got != 1 || !strings.Contains(m.Text, "carol and bob liked your post") {
			t.Errorf("the email has %d like items, want one naming carol and bob:\n%s", got, m.Text)
		}
	})
}

// Messages that come one after another go in the email of the first,
// when it is due.
func TestEmailGroupsABurst(t *testing.T) {
	eachDialect(t, emailOnly, func(t *testing.T, f *fixture) {
		alice := f.member("alice")
		f.member("bob")
		for _, body := range []string{"one", "two", "three"} {
			f.send(alice, "bob", body)
			f.clock.Advance(time.Minute)
		}
		f.drainAfter(emailDelay - 3*time.Minute)
		m := f.expectMails(1)[0]
		if got, want := m.Header.Get("Subject"), "3 new messages from alice"; got != want {
			t.Errorf("Subject %q, want %q", got, want)
		}
		f.drainAfter(time.Hour)
		f.expectMails(1)
	})
}

func TestEmailRefusedThenAcceptedIsSentOnce(t *testing.T) {
	eachDialect(t, emailOnly, func(t *testing.T, f *fixture) {
		alice := f.member("alice")
		f.member("bob")
		f.srv.Refuse(1, 451)
		f.send(alice, "bob", "hi")
		f.drainAfter(emailDelay)
		f.expectMails(0)
		f.drainAfter(time.Minute) // past the first back-off
		f.expectMails(1)
		f.drainAfter(time.Hour)
		f.expectMails(1)
	})
}

func TestEmailOnlyToVerifiedAddresses(t *testing.T) {
	eachDialect(t, emailOnly, func(t *testing.T, f *fixture) {
		alice := f.member("alice")
		f.user("dora", false)
		f.send(alice, "dora", "hi")
		f.drainAfter(emailDelay)
		f.expectMails(0)
	})
}

func TestEmailDailyCap(t *testing.T) {
	eachDialect(t, channels{email: true, maxPerDay: 1}, func(t *testing.T, f *fixture) {
		alice := f.member("alice")
		f.member("bob")
		f.send(alice, "bob", "first")
		f.drainAfter(emailDelay)
		f.expectMails(1)
		f.send(alice, "bob", "second")
		f.drainAfter(emailDelay)
		f.expectMails(1) // capped
		f.drainAfter(12 * time.Hour)
		if m := f.expectMails(2)[1]; !strings.Contains(m.Text, "second") {
			t.Errorf("the next day's email:\n%s", m.Text)
		}
	})
}

// Two instances on one PostgreSQL database (two Stores, two Engines)
// email each member once.
func TestEmailTwoInstancesSendOnce(t *testing.T) {
	f := newFixture(t, store.Postgres, emailOnly)
	other := f.newEngine(instance{store: f.open()})
	alice := f.member("alice")
	const members = 20
	for i := range members {
		m := f.member("m" + string(rune('a'+i)))
		f.send(alice, m.Username, "hello")
		f.send(alice, m.Username, "again")
	}
	f.clock.Advance(emailDelay)
	f.drainTogether(f.engine, other)
	// A job held behind another's email waits a minute, then finds it sent.
	f.drainAfter(2 * time.Minute)
	seen := map[string]int{}
	for _, m := range f.srv.Received() {
		seen[m.To[0]]++
		if s := m.Header.Get("Subject"); s != "2 new messages from alice" {
			t.Errorf("Subject %q", s)
		}
	}
	for i := range members {
		if n := seen["m"+string(rune('a'+i))+"@example.com"]; n != 1 {
			t.Errorf("member %d got %d emails, want 1", i, n)
		}
	}
}

func TestEmailVerifyAddress(t *testing.T) {
	eachDialect(t, emailOnly, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		u, err := f.app.Register(ctx, app.RegisterInput{Username: "erin", Email: "erin@example.com",
			Password: "violet-lantern-42", ConfirmPassword: "violet-lantern-42"}, "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		if u = f.account(u); u.Email != "" || u.PendingEmail != "erin@example.com" || u.EmailVerified {
			t.Fatalf("before the link: %+v", u)
		}
		f.drain()
		m := f.expectMails(1)[0]
		if m.To[0] != "erin@example.com" || m.Header.Get("List-Unsubscribe") != "" {
			t.Errorf("verify email to %q, List-Unsubscribe %q", m.To, m.Header.Get("List-Unsubscribe"))
		}
		token := strings.TrimPrefix(link(t, m, "/verify-email/"), "/verify-email/")
		if _, err := f.app.VerifyEmail(ctx, token); err != nil {
			t.Fatal(err)
		}
		if u = f.account(u); u.Email != "erin@example.com" || u.PendingEmail != "" || !u.EmailVerified {
			t.Fatalf("after the link: %+v", u)
		}
		if _, err := f.app.VerifyEmail(ctx, token); !errors.Is(err, app.ErrBadLink) {
			t.Errorf("second use: %v, want ErrBadLink", err)
		}

		// Registering with erin's address answers the same, and mails erin.
		v, err := f.app.Register(ctx, app.RegisterInput{Username: "mallory", Email: "Erin@example.com",
			Password: "violet-lantern-42", ConfirmPassword: "violet-lantern-42"}, "192.0.2.2")
		if err != nil {
			t.Fatalf("registering with a taken address: %v", err)
		}
		if v = f.account(v); v.PendingEmail != "Erin@example.com" || v.Email != "" {
			t.Errorf("mallory: %+v", v)
		}
		f.drain()
		m = f.expectMails(2)[1]
		if m.To[0] != "erin@example.com" || !strings.Contains(m.Header.Get("Subject"), "tried to register") {
			t.Errorf("to %q: %q", m.To, m.Header.Get("Subject"))
		}
		if strings.Contains(m.Text, "/verify-email/") {
			t.Error("the owner was sent a link that would give the address away")
		}

		// An expired link does not work.
		if _, err := f.app.SendVerification(ctx, f.account(v)); err != nil {
			t.Fatal(err)
		}
		f.drain()
		f.expectMails(3) // erin again, not mallory
		w, _ := f.app.Register(ctx, app.RegisterInput{Username: "walt", Email: "walt@example.com",
			Password: "violet-lantern-42", ConfirmPassword: "violet-lantern-42"}, "192.0.2.3")
		f.drain()
		m = f.expectMails(4)[3]
		f.clock.Advance(natter.VerifyLinkLifetime)
		if _, err := f.app.VerifyEmail(ctx, strings.TrimPrefix(link(t, m, "/verify-email/"), "/verify-email/")); !errors.Is(err, app.ErrBadLink) {
			t.Errorf("expired link: %v", err)
		}
		if f.account(w).EmailVerified {
			t.Error("an expired link verified")
		}
	})
}

func TestEmailPasswordReset(t *testing.T) {
	eachDialect(t, emailOnly, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		bob := f.member("bob")
		if err := f.app.StartLogin(ctx, "session-a", bob.ID, false, "test", "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		// Unknown and unverified addresses: the same answer, no email.
		for _, addr := range []string{"nobody@example.com", ""} {
			if err := f.app.RequestPasswordReset(ctx, addr, "192.0.2.9"); err != nil {
				t.Fatalf("%q: %v", addr, err)
			}
		}
		f.drain()
		f.expectMails(0)
		if err := f.app.RequestPasswordReset(ctx, "BOB@example.com", "192.0.2.9"); err != nil {
			t.Fatal(err)
		}
		f.drain()
		m := f.expectMails(1)[0]
		token := strings.TrimPrefix(link(t, m, "/reset-password/"), "/reset-password/")
		if got, err := f.app.ResetAccount(ctx, token); err != nil || got.ID != bob.ID {
			t.Fatalf("ResetAccount: %v, %v", got.ID, err)
		}
		if _, err := f.app.ResetPassword(ctx, token, "violet-lantern-42", "violet-lantern-43"); natter.ErrorOf(err) == nil || natter.ErrorOf(err).Fields["confirm_password"] == "" {
			t.Errorf("mismatched passwords: %v", err)
		}
		if _, err := f.app.ResetPassword(ctx, token, "violet-lantern-42", "violet-lantern-42"); err != nil {
			t.Fatal(err)
		}
		if logins, _ := f.app.Logins(ctx, bob); len(logins) != 0 {
			t.Errorf("%d sessions left after the reset", len(logins))
		}
		if _, err := f.app.Authenticate(ctx, app.LoginInput{Username: "bob", Password: "violet-lantern-42", Addr: "192.0.2.1"}); err != nil {
			t.Errorf("the new password does not work: %v", err)
		}
		f.drain()
		if m := f.expectMails(2)[1]; !strings.Contains(m.Header.Get("Subject"), "was changed") || m.To[0] != "bob@example.com" {
			t.Errorf("then %q to %q", m.Header.Get("Subject"), m.To)
		}
		if _, err := f.app.ResetPassword(ctx, token, "amber-harbour-77", "amber-harbour-77"); !errors.Is(err, app.ErrBadLink) {
			t.Errorf("second use: %v", err)
		}
		// A link an hour old no longer works.
		if err := f.app.RequestPasswordReset(ctx, "bob@example.com", "192.0.2.9"); err != nil {
			t.Fatal(err)
		}
		f.drain()
		m = f.expectMails(3)[2]
		f.clock.Advance(natter.ResetLinkLifetime)
		token = strings.TrimPrefix(link(t, m, "/reset-password/"), "/reset-password/")
		if _, err := f.app.ResetPassword(ctx, token, "amber-harbour-77", "amber-harbour-77"); !errors.Is(err, app.ErrBadLink) {
			t.Errorf("expired link: %v", err)
		}
	})
}

func TestEmailDigest(t *testing.T) {
	eachDialect(t, emailOnly, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		alice, bob := f.member("alice"), f.member("bob")
		f.setPrefs(bob, func(p *natter.Prefs) {
			p.Digest = natter.DigestDaily
			p.Kinds[natter.KindMessage] = natter.KindPrefs{Push: true, Email: natter.EmailNever}
		})
		f.send(alice, "bob", "are you there?")
		owe := func(want int) {
			t.Helper()
			n, err := f.store.OweDigests(ctx)
			if err != nil || n != want {
				t.Fatalf("OweDigests: %d, %v; want %d", n, err, want)
			}
			f.drain()
		}
		f.clock.Advance(25 * time.Hour)
		owe(0) // due, but bob was here less than a week ago
		f.clock.Advance(7 * 24 * time.Hour)
		owe(1)
		m := f.expectMails(1)[0]
		if got, want := m.Header.Get("Subject"), "Your daily digest from natter.example: 1 new message from alice"; got != want {
			t.Errorf("Subject %q, want %q", got, want)
		}
		if !strings.Contains(m.Text, "are you there?") || !strings.Contains(m.Header.Get("List-Unsubscribe"), "/unsubscribe/") {
			t.Errorf("digest:\n%s\n%v", m.Text, m.Header)
		}
		owe(0) // the next is a day away
		f.clock.Advance(24 * time.Hour)
		owe(1)
		f.expectMails(2)
		// Its unsubscribe link turns the digest off, and nothing else.
		u, _ := url.Parse(strings.Trim(m.Header.Get("List-Unsubscribe"), "<>"))
		if _, err := f.app.Unsubscribe(ctx, strings.TrimPrefix(u.Path, "/unsubscribe/")); err != nil {
			t.Fatal(err)
		}
		if p, _ := f.store.Prefs(ctx, bob.ID); p.Digest != "" || p.Kind(natter.KindMention).Email != natter.EmailAway {
			t.Errorf("after unsubscribing: digest %q, mentions %q", p.Digest, p.Kind(natter.KindMention).Email)
		}
		f.clock.Advance(24 * time.Hour)
		owe(0)
	})
}

// The server takes an email and the connection drops before its answer:
// natter cannot know it arrived, and does not send it again.
func TestEmailUnansweredIsNotSentTwice(t *testing.T) {
	eachDialect(t, emailOnly, func(t *testing.T, f *fixture) {
		alice := f.member("alice")
		f.member("bob")
		f.srv.HangUp(1)
		f.send(alice, "bob", "hi")
		f.drainAfter(emailDelay)
		f.expectMails(1)
		f.drainAfter(time.Hour)
		f.expectMails(1)
		// The next one goes as usual.
		f.send(alice, "bob", "again")
		f.drainAfter(emailDelay)
		f.expectMails(2)
	})
}

// finishHook is the engine's store, running before once just before the
// engine's first FinishJob.
type finishHook struct {
	*store.Store
	before func()
	once   sync.Once
}

func (h *finishHook) FinishJob(ctx context.Context, job natter.Job) error {
	h.once.Do(h.before)
	return h.Store.FinishJob(ctx, job)
}

// A message owed between the email channel deleting a sent email's jobs
// and the engine finishing its job is emailed in its turn: on SQLite its
// job gets the sent one's id, and finishing that job once deleted it.
func TestEmailOwedAsTheLastIsFinished(t *testing.T) {
	eachDialect(t, emailOnly, func(t *testing.T, f *fixture) {
		alice, bob := f.member("alice"), f.member("bob")
		f.send(alice, "bob", "the first")
		hook := &finishHook{Store: f.store, before: func() { f.send(alice, "bob", "the second") }}
		f.engine = f.newEngine(instance{jobs: hook})
		f.drainAfter(emailDelay)
		if m := f.expectMails(1)[0]; !strings.Contains(m.Text, "the first") || strings.Contains(m.Text, "the second") {
			t.Fatalf("first email:\n%s", m.Text)
		}
		f.drainAfter(emailDelay)
		if m := f.expectMails(2)[1]; !strings.Contains(m.Text, "the second") || m.To[0] != bob.Email {
			t.Fatalf("second email to %q:\n%s", m.To, m.Text)
		}
	})
}
