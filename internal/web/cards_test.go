package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The hover card shows when a member joined and how many posts they have.
func TestPopupFacts(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice, bob := s.register(t, "alice"), s.register(t, "bob")
	bob.page(t, "/user/alice/popup").wantText("Joined", "0 posts")
	alice.post(t, "one")
	bob.page(t, "/user/alice/popup").wantText("1 post")
	alice.post(t, "two")
	r := bob.page(t, "/user/alice/popup").wantText("2 posts")
	created := alice.user(t).CreatedAt.UTC()
	r.wantText(created.Format("2 January 2006"))
	bob.page(t, "/user/alice").wantText("2 posts")
}

// A member who hides "last seen" has it hidden from others, on the card and
// the profile, and still sees it themselves; the setting saves, and the
// seed's form without the field shows it again.
func TestHideLastSeen(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice, bob := s.register(t, "alice"), s.register(t, "bob")

	edit := alice.page(t, "/edit-profile")
	if edit.byID("hide_last_seen").Has("checked") {
		t.Fatal("hide_last_seen is ticked for a new member")
	}
	alice.postForm(t, "/edit-profile", url.Values{"username": {"alice"}, "about_me": {"hi"}, "hide_last_seen": {"on"}}).wantRedirect("/user/alice")
	if !alice.user(t).HideLastSeen {
		t.Fatal("the setting was not saved")
	}
	if !alice.page(t, "/edit-profile").byID("hide_last_seen").Has("checked") {
		t.Error("/edit-profile does not show the saved setting")
	}

	for _, path := range []string{"/user/alice", "/user/alice/popup"} {
		bob.page(t, path).wantNoText("Last seen")
		alice.page(t, path).wantText("Last seen", "(hidden from others)")
	}
	// Bob's own is shown to alice.
	alice.page(t, "/user/bob/popup").wantText("Last seen")

	t.Run("RefusedFormKeepsIt", func(t *testing.T) {
		r := alice.postForm(t, "/edit-profile", url.Values{"username": {"a b"}, "about_me": {"hi"}, "hide_last_seen": {"on"}})
		r.wantStatus(http.StatusUnprocessableEntity)
		if !r.byID("hide_last_seen").Has("checked") {
			t.Error("the re-shown form lost the ticked box")
		}
	})

	t.Run("Untick", func(t *testing.T) {
		alice.postForm(t, "/edit-profile", url.Values{"username": {"alice"}, "about_me": {"hi"}}).wantRedirect("/user/alice")
		bob.page(t, "/user/alice/popup").wantText("Last seen")
		bob.page(t, "/user/alice").wantText("Last seen")
	})

	t.Run("RenameKeepsIt", func(t *testing.T) {
		alice.postForm(t, "/edit-profile", url.Values{"username": {"alice"}, "about_me": {"hi"}, "hide_last_seen": {"on"}}).wantRedirect("/user/alice")
		alice.postForm(t, "/settings/account/username", url.Values{"username": {"alicia"}})
		alice.name = "alicia"
		if u := alice.user(t); u.Username != "alicia" || !u.HideLastSeen {
			t.Errorf("after a rename: %s, HideLastSeen %v", u.Username, u.HideLastSeen)
		}
	})
}

// Forms say their rules before a submit fails, tied to their fields.
func TestFormHints(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice := s.register(t, "alice")
	for _, tt := range []struct {
		who    *member
		path   string
		fields []string
		want   string
	}{
		{s.browser(), "/register", []string{"username"}, "letters A–Z, digits 0–9 and underscores"},
		{s.browser(), "/register", []string{"password"}, "At least 8 characters"},
		{alice, "/settings/account", []string{"new_password"}, "At least 8 characters"},
		{alice, "/settings/account", []string{"username"}, "3 to 32 characters"},
		{alice, "/edit-profile", []string{"username"}, "3 to 32 characters"},
	} {
		r := tt.who.page(t, tt.path)
		for _, f := range tt.fields {
			hint := r.byID(f + "-hint")
			if !strings.Contains(hint.Text(), tt.want) {
				t.Errorf("%s: #%s-hint says %q, want %q", tt.path, f, hint.Text(), tt.want)
			}
			if ids := strings.Fields(r.byID(f).Attr["aria-describedby"]); !contains(ids, f+"-hint") {
				t.Errorf("%s: #%s is described by %q, not its hint", tt.path, f, ids)
			}
		}
	}

	// After a failure the field is described by its hint and its error.
	r := s.browser().postForm(t, "/register", url.Values{"username": {"a b"}, "email": {"ab@example.com"},
		"password": {"violet-lantern-42"}, "confirm_password": {"violet-lantern-42"}})
	r.wantStatus(http.StatusUnprocessableEntity)
	if ids := strings.Fields(r.byID("username").Attr["aria-describedby"]); !contains(ids, "username-hint") || !contains(ids, "username-error") {
		t.Errorf("a refused username is described by %q, want its hint and its error", ids)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// A form sent after the session ended leads, through the login, back to
// the page that had it (where the browser restores what was typed); a
// failed submit shows the text again.
func TestLostSessionReturnsToTheForm(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice := s.register(t, "alice")
	s.register(t, "bob")
	guest := s.browser()
	for _, page := range []string{"/index", "/messages/bob", "/edit-profile"} {
		req := guest.newRequest(t, http.MethodPost, page, strings.NewReader(url.Values{"body": {"kept"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Referer", s.URL+page)
		guest.do(t, req).wantRedirect("/login?next=" + url.QueryEscape(page))
	}
	// A Referer from elsewhere is not followed.
	req := guest.newRequest(t, http.MethodPost, "/index", strings.NewReader("body=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Referer", "https://elsewhere.example/index")
	guest.do(t, req).wantRedirect("/login")

	t.Run("RefusedKeepsText", func(t *testing.T) {
		long := strings.Repeat("x", 141)
		r := alice.postForm(t, "/index", url.Values{"body": {long}}).wantStatus(http.StatusUnprocessableEntity)
		if r.fieldValue("body") != long {
			t.Error("a refused post lost its text")
		}
		r = alice.postForm(t, "/send-message/bob", url.Values{"message": {long}}).wantStatus(http.StatusUnprocessableEntity)
		if r.fieldValue("message") != long {
			t.Error("a refused message lost its text")
		}
		r = alice.postForm(t, "/messages/bob", url.Values{"message": {long}}).wantStatus(http.StatusUnprocessableEntity)
		if r.fieldValue("message") != long {
			t.Error("a refused reply lost its text")
		}
	})
}

// Every list says what to do when it is empty, and a page past its end
// says so with a way back.
func TestEmptyStates(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice, bob := s.register(t, "alice"), s.register(t, "bob")
	for _, tt := range []struct {
		who      *member
		path     string
		want     string
		wantLink string
	}{
		{alice, "/user/alice", "You have not posted yet.", "/index"},
		{alice, "/user/bob", "bob has not posted yet.", "/send-message/bob"},
		{alice, "/activity", "When someone mentions you in a post (@alice)", "/index"},
		{alice, "/activity?before=1", "No more notifications: this is past the oldest one.", "/activity"},
		{alice, "/settings/sessions", "This browser is your only session.", ""},
		{alice, "/settings/notifications", "None yet.", ""},
	} {
		r := tt.who.page(t, tt.path)
		states := findClass(r.Body, "empty-state")
		if len(states) != 1 || !strings.Contains(states[0].Text(), tt.want) {
			t.Errorf("%s: empty state %q, want %q", tt.path, r.texts("empty-state"), tt.want)
			continue
		}
		if tt.wantLink != "" && !strings.Contains(states[0].Inner, `href="`+tt.wantLink+`"`) {
			t.Errorf("%s: the empty state links nowhere useful: %s", tt.path, states[0].Inner)
		}
	}

	bob.post(t, "one")
	r := alice.page(t, "/user/bob")
	if len(findClass(r.Body, "empty-state")) != 0 {
		t.Error("a profile with posts shows an empty state")
	}
	older := r.link("next")
	if older != "" {
		t.Fatalf("one post has an older page: %s", older)
	}
	r = alice.page(t, "/user/bob?page=2")
	r.wantText("No more posts: this is past the oldest one.")
	r.linkTo("/user/bob")
	// With a second session, sessions offer to log it out instead.
	alice.login(t)
	if len(findClass(alice.page(t, "/settings/sessions").Body, "empty-state")) != 0 {
		t.Error("two sessions, and the page says this is the only one")
	}
}
