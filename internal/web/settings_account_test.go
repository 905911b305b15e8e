package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Changing the password takes the current one and a good new one; it logs
// out every other session, and the new password is the one that works.
func TestChangePassword(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice := s.register(t, "alice")
	other := alice.login(t)
	otherStream := other.openStream(t, "")
	change := func(current, next, confirm string) *response {
		return alice.postForm(t, "/settings/account/password", url.Values{
			"current_password": {current}, "new_password": {next}, "confirm_password": {confirm}})
	}
	r := change("wrong", "a fine new passphrase", "a fine new passphrase").wantStatus(http.StatusUnprocessableEntity)
	if got := r.fieldError("current_password"); got != "That is not your current password." {
		t.Errorf("wrong current password: %q", got)
	}
	r = change(alice.password, "iloveyou", "iloveyou").wantStatus(http.StatusUnprocessableEntity)
	if !strings.Contains(r.fieldError("new_password"), "10,000 most common") {
		t.Errorf("common password: %q", r.fieldError("new_password"))
	}
	r = change(alice.password, "xx-Alice-xx", "xx-Alice-xx").wantStatus(http.StatusUnprocessableEntity)
	if r.fieldError("new_password") != "Your password must not contain your username." {
		t.Errorf("password with the username: %q", r.fieldError("new_password"))
	}
	other.page(t, "/") // nothing refused has logged anyone out

	change(alice.password, "a fine new passphrase", "a fine new passphrase").wantRedirect("/settings/account")
	alice.page(t, "/settings/account").wantText("Your password has been changed. Your other sessions (1) have been logged out.")
	otherStream.wantEnd()
	other.get(t, "/index").wantRedirect("/login?next=%2Findex")
	s.browser().tryLogin(t, "alice", alice.password).wantStatus(http.StatusUnprocessableEntity)
	s.browser().tryLogin(t, "alice", "a fine new passphrase").wantRedirect("/")
}

// Changing the email address takes the current password and an address
// nobody else has; with email off it applies at once.
func TestChangeEmail(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice := s.register(t, "alice")
	s.register(t, "bob")
	change := func(email, password string) *response {
		return alice.postForm(t, "/settings/account/email", url.Values{"email": {email}, "email_current_password": {password}})
	}
	r := change("alice@new.example", "wrong").wantStatus(http.StatusUnprocessableEntity)
	if r.fieldError("email_current_password") != "That is not your current password." || r.fieldValue("email") != "alice@new.example" {
		t.Errorf("wrong password: error %q, value %q", r.fieldError("email_current_password"), r.fieldValue("email"))
	}
	r = change("BOB@example.com", alice.password).wantStatus(http.StatusUnprocessableEntity)
	if r.fieldError("email") != "That email address is already registered." {
		t.Errorf("taken address: %q", r.fieldError("email"))
	}
	change("not an address", alice.password).wantStatus(http.StatusUnprocessableEntity)
	change("alice@new.example", alice.password).wantRedirect("/settings/account")
	if got := alice.user(t).Email; got != "alice@new.example" {
		t.Errorf("email = %q", got)
	}
	alice.page(t, "/settings/account").wantText("Your email address is now alice@new.example.")
}

// A renamed member keeps their old name: the old profile URL, popover and
// @mentions lead to the new name, and nobody else can register or take
// it; the member may take it back.
func TestRenameKeepsTheOldName(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	bob, carol := s.register(t, "bob"), s.register(t, "carol")
	carol.post(t, "hello @bob")
	bob.postForm(t, "/settings/account/username", url.Values{"username": {"robert"}}).wantRedirect("/settings/account")
	bob.name = "robert"

	carol.get(t, "/user/bob?page=1").wantRedirect("/user/robert?page=1")
	if loc := carol.get(t, "/user/bob").Header.Get("Location"); loc != "/user/robert" {
		t.Errorf("/user/bob redirects to %q, want /user/robert", loc)
	}
	if loc := carol.get(t, "/user/BOB/popup").Header.Get("Location"); loc != "/user/robert/popup" {
		t.Errorf("/user/BOB/popup redirects to %q", loc)
	}
	// The old mention still reads @bob, and links to robert.
	timeline := carol.page(t, "/")
	if !strings.Contains(timeline.Body, `href="/user/robert" data-popup="/user/robert/popup">@bob</a>`) {
		t.Fatalf("the old mention does not link robert")
	}
	carol.page(t, "/user/robert").wantText("robert")
	// A new @bob mentions him too.
	carol.post(t, "still @bob to me")
	if _, activity := bob.badges(t); activity != 2 {
		t.Errorf("robert has %d unread notifications, want 2 mentions (one as @bob after the rename)", activity)
	}

	// Nobody else can have it, by registering or renaming.
	r := s.browser().postForm(t, "/register", url.Values{"username": {"Bob"}, "email": {"imposter@example.com"},
		"password": {"a fine passphrase"}, "confirm_password": {"a fine passphrase"}})
	r.wantStatus(http.StatusUnprocessableEntity)
	if r.fieldError("username") != "That username is taken. Please choose another." {
		t.Errorf("registering the old name: %q", r.fieldError("username"))
	}
	carol.postForm(t, "/edit-profile", url.Values{"username": {"bob"}, "about_me": {""}}).wantStatus(http.StatusUnprocessableEntity)
	carol.get(t, "/user/nobody").wantStatus(http.StatusNotFound)

	// Robert may go back to bob; then robert is his old name.
	bob.postForm(t, "/edit-profile", url.Values{"username": {"bob"}, "about_me": {""}}).wantRedirect("/user/bob")
	carol.page(t, "/user/bob")
	if loc := carol.get(t, "/user/robert").Header.Get("Location"); loc != "/user/bob" {
		t.Errorf("/user/robert redirects to %q, want /user/bob", loc)
	}
}

// Deleting the account takes the password; it removes the member's posts
// and keeps the messages they exchanged in the other member's
// conversation, anonymised; the name stays taken and nobody can log in to
// it. Before that, the export holds everything they wrote.
func TestDeleteAndExport(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice, bob := s.register(t, "alice"), s.register(t, "bob")
	alice.postForm(t, "/edit-profile", url.Values{"username": {"alice"}, "about_me": {"I like tea"}}).wantRedirect("/user/alice")
	alice.post(t, "first post by alice, hi @bob")
	alice.post(t, "second post by alice")
	bob.post(t, "bob's own post")
	alice.send(t, bob, "alice to bob")
	bob.send(t, alice, "bob to alice")

	r := alice.get(t, "/settings/account/export").wantStatus(http.StatusOK)
	if !strings.Contains(r.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("Content-Disposition = %q", r.Header.Get("Content-Disposition"))
	}
	var export struct {
		Profile struct {
			Username string
			AboutMe  string `json:"about_me"`
		}
		Posts []struct{ Body string }
		Sent  []struct{ To, Body string }   `json:"messages_sent"`
		Recv  []struct{ From, Body string } `json:"messages_received"`
	}
	if err := json.Unmarshal([]byte(r.Body), &export); err != nil {
		t.Fatalf("export: %v\n%s", err, r.Body)
	}
	if export.Profile.AboutMe != "I like tea" || len(export.Posts) != 2 || export.Posts[0].Body != "first post by alice, hi @bob" ||
		len(export.Sent) != 1 || export.Sent[0].To != "bob" || export.Sent[0].Body != "alice to bob" ||
		len(export.Recv) != 1 || export.Recv[0].From != "bob" || export.Recv[0].Body != "bob to alice" {
		t.Errorf("export does not hold what alice wrote:\n%s", r.Body)
	}
	if strings.Contains(r.Body, "bob's own post") {
		t.Error("the export holds another member's post")
	}
	if _, activity := bob.badges(t); activity != 1 {
		t.Fatalf("bob has %d unread notifications, want 1 (a mention; messages have their own badge)", activity)
	}

	alice.postForm(t, "/settings/account/delete", url.Values{"delete_current_password": {"wrong"}}).
		wantStatus(http.StatusUnprocessableEntity)
	other := alice.login(t)
	alice.postForm(t, "/settings/account/delete", url.Values{"delete_current_password": {alice.password}}).wantRedirect("/login")

	alice.get(t, "/index").wantRedirect("/login?next=%2Findex")
	other.get(t, "/index").wantRedirect("/login?next=%2Findex")
	s.browser().tryLogin(t, "alice", alice.password).wantStatus(http.StatusUnprocessableEntity)
	bob.get(t, "/user/alice").wantStatus(http.StatusNotFound)
	timeline := bob.page(t, "/")
	timeline.wantNoText("post by alice").wantText("bob's own post")
	// The mention's notification went with the post; the message stays
	// (on its own badge).
	if messages, activity := bob.badges(t); activity != 0 || messages != 1 {
		t.Errorf("bob has %d unread notifications and %d messages after the deletion, want 0 and 1", activity, messages)
	}
	bob.page(t, "/messages").wantText("alice to bob", "[deleted]").wantNoText("alice to bob from alice")
	r = s.browser().postForm(t, "/register", url.Values{"username": {"alice"}, "email": {"alice@example.com"},
		"password": {"a fine passphrase"}, "confirm_password": {"a fine passphrase"}})
	r.wantStatus(http.StatusUnprocessableEntity)
	if r.fieldError("username") == "" || r.fieldError("email") != "" {
		t.Errorf("after deletion: username %q (want taken), email %q (want free)", r.fieldError("username"), r.fieldError("email"))
	}
}
