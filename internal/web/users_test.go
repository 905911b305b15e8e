package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"natter/internal/app"
)

// A member's profile: avatar, name, about me, last seen, and their posts,
// paginated; the way to message or block them, or to edit one's own.
func TestProfile(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{App: app.Config{PostsPerPage: 3}})
	alice, bob := s.register(t, "alice"), s.register(t, "bob")
	alice.postForm(t, "/edit-profile", url.Values{"username": {"alice"}, "about_me": {"I like trains."}}).wantRedirect("/user/alice")
	for i := 1; i <= 4; i++ {
		alice.post(t, fmt.Sprintf("alice %d", i))
	}
	bob.post(t, "bob 1")

	t.Run("OK", func(t *testing.T) {
		r := bob.page(t, "/user/alice")
		profile := findClass(r.Body, "profile")[0]
		if img := findTag(profile.Inner, "img"); img[0].Attr["src"] != fmt.Sprintf("/avatar/%d", alice.user(t).ID) {
			t.Errorf("avatar %q", img[0].Attr["src"])
		}
		if h1 := findTag(profile.Inner, "h1"); h1[0].Text() != "alice" {
			t.Errorf("heading %q", h1[0].Text())
		}
		r.wantText("I like trains.", "Last seen just now")
		if got, want := r.texts("post-body"), []string{"alice 4", "alice 3", "alice 2"}; !slices.Equal(got, want) {
			t.Errorf("posts %q, want %q", got, want)
		}
		older := r.link("next")
		if !strings.HasPrefix(older, "/user/alice?before=") {
			t.Fatalf("older posts link %q", older)
		}
		for _, path := range []string{older, "/user/alice?page=2"} {
			page2 := bob.page(t, path)
			if got, want := page2.texts("post-body"), []string{"alice 1"}; !slices.Equal(got, want) {
				t.Errorf("%s: posts %q, want %q", path, got, want)
			}
			newer := page2.link("prev")
			if got, want := bob.page(t, newer).texts("post-body"), []string{"alice 4", "alice 3", "alice 2"}; !slices.Equal(got, want) {
				t.Errorf("%s: newer posts (%s) %q, want %q", path, newer, got, want)
			}
		}
		// Someone else's profile offers a message, the conversation and a block.
		if e := r.linkTo("/send-message/alice"); e.Text() != "Send private message" {
			t.Errorf("no Send private message link")
		}
		r.linkTo("/messages/alice")
		r.formTo("/user/alice/block")
		if r.has("/edit-profile") {
			t.Error("bob is offered to edit alice's profile")
		}
	})

	t.Run("OKAnyCase", func(t *testing.T) {
		r := bob.page(t, "/user/ALICE")
		if h1 := findTag(r.Body, "h1"); h1[0].Text() != "alice" {
			t.Errorf("heading %q, want the name as registered", h1[0].Text())
		}
	})

	t.Run("OwnProfile", func(t *testing.T) {
		r := alice.page(t, "/user/alice")
		r.linkTo("/edit-profile")
		if r.has("/send-message/alice") || r.has("/user/alice/block") {
			t.Error("alice is offered to message or block herself")
		}
	})

	t.Run("ErrUnknownUser", func(t *testing.T) {
		r := bob.get(t, "/user/nobody").wantStatus(http.StatusNotFound)
		r.wantText("Page not found", `There is no member called "nobody".`)
		r.byID("message_count") // the whole layout, navbar included
	})

	t.Run("ErrPage", func(t *testing.T) {
		bob.get(t, "/user/alice?page=0").wantStatus(http.StatusBadRequest)
	})

	// The navbar of every page shows who is logged in, linking to their
	// profile.
	t.Run("Navbar", func(t *testing.T) {
		nav := findTag(bob.page(t, "/messages").Body, "nav")[0]
		me := findTag(nav.Inner, "a")
		i := slices.IndexFunc(me, func(e element) bool { return e.Attr["href"] == "/user/bob" })
		if i < 0 || me[i].Text() != "bob" || !strings.Contains(me[i].Inner, fmt.Sprintf(`src="/avatar/%d"`, bob.user(t).ID)) {
			t.Errorf("the navbar does not show bob with his avatar:\n%s", nav.Inner)
		}
	})
}

// linkTo returns the page's first link to href, failing if there is none.
func (r *response) linkTo(href string) element {
	r.t.Helper()
	for _, a := range findTag(r.Body, "a") {
		if a.Attr["href"] == href {
			return a
		}
	}
	r.t.Fatalf("%s: no link to %s", r.Request.URL.RequestURI(), href)
	return element{}
}

// formTo returns the page's POST form to action, failing if there is none.
func (r *response) formTo(action string) element {
	r.t.Helper()
	for _, f := range findTag(r.Body, "form") {
		if f.Attr["action"] == action && f.Attr["method"] == "post" {
			return f
		}
	}
	r.t.Fatalf("%s: no POST form to %s", r.Request.URL.RequestURI(), action)
	return element{}
}

// has reports whether any link or form on the page goes to url.
func (r *response) has(url string) bool {
	for _, e := range elements(r.Body, func(tag string, _ map[string]string) bool { return tag == "a" || tag == "form" }) {
		if e.Attr["href"] == url || e.Attr["action"] == url {
			return true
		}
	}
	return false
}

// The hover card: an HTML fragment with avatar, name, about me and last
// seen, and a message link for anyone but oneself.
func TestPopup(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice, bob := s.register(t, "alice"), s.register(t, "bob")
	alice.postForm(t, "/edit-profile", url.Values{"username": {"alice"}, "about_me": {"I like trains."}}).wantRedirect("/user/alice")

	r := bob.page(t, "/user/Alice/popup")
	if ct := r.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	for _, tag := range []string{"<html", "<head", "<body", "<nav"} {
		if strings.Contains(r.Body, tag) {
			t.Errorf("the popup is a whole page (it has %s), want a fragment", tag)
		}
	}
	r.wantText("alice", "I like trains.", "Last seen just now")
	if img := findTag(r.Body, "img"); len(img) != 1 || img[0].Attr["src"] != fmt.Sprintf("/avatar/%d", alice.user(t).ID) {
		t.Errorf("the popup has no avatar of alice")
	}
	r.linkTo("/user/alice")
	if e := r.linkTo("/send-message/alice"); e.Text() != "Send private message" {
		t.Errorf("message link says %q", e.Text())
	}

	own := alice.page(t, "/user/alice/popup")
	if own.has("/send-message/alice") {
		t.Error("alice's own popup offers to message herself")
	}
	bob.get(t, "/user/nobody/popup").wantStatus(http.StatusNotFound)
}

func TestEditProfile(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice := s.register(t, "alice")
	bob := s.register(t, "bob")

	t.Run("ShowsForm", func(t *testing.T) {
		alice.postForm(t, "/edit-profile", url.Values{"username": {"alice"}, "about_me": {"Hello there"}}).wantRedirect("/user/alice")
		r := alice.page(t, "/edit-profile")
		if r.fieldValue("username") != "alice" || r.fieldValue("about_me") != "Hello there" {
			t.Errorf("the form holds %q, %q, want the current profile", r.fieldValue("username"), r.fieldValue("about_me"))
		}
	})

	t.Run("OKRename", func(t *testing.T) {
		r := bob.postForm(t, "/edit-profile", url.Values{"username": {"Robert"}, "about_me": {strings.Repeat("b", 140)}})
		r.wantRedirect("/user/Robert")
		bob.follow(t, r).wantText("Your changes have been saved.", "Robert", strings.Repeat("b", 140))
		alice.get(t, "/user/bob").wantRedirect("/user/Robert")
		alice.page(t, "/user/robert").wantText("Robert")
		// The new name logs in; the old one stays his (TestRenameKeepsTheOldName).
		bob.name = "Robert"
		bob.login(t)
		s.browser().postForm(t, "/register", url.Values{
			"username": {"bob"}, "email": {"another.bob@example.com"},
			"password": {"long enough"}, "confirm_password": {"long enough"},
		}).wantStatus(http.StatusUnprocessableEntity)
	})

	t.Run("OKChangeCaseOfOwnName", func(t *testing.T) {
		alice.postForm(t, "/edit-profile", url.Values{"username": {"Alice"}, "about_me": {"Hello there"}}).wantRedirect("/user/Alice")
		alice.postForm(t, "/edit-profile", url.Values{"username": {"alice"}, "about_me": {"Hello there"}}).wantRedirect("/user/alice")
	})

	for _, tt := range []struct {
		name, username, aboutMe string
		field, want             string
	}{
		{"ErrTakenUsername", "robert", "", "username", "That username is taken. Please choose another."},
		{"ErrTakenUsernameOtherCase", "ROBERT", "", "username", "That username is taken."},
		{"ErrBlankUsername", " ", "", "username", "Choose a username."},
		{"ErrInvalidUsername", "alice smith", "", "username", "Usernames are 3 to 32 letters, digits or underscores."},
		{"ErrAboutMeTooLong", "alice", strings.Repeat("é", 141), "about_me", "Keep it to 140 characters (this is 141)."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := alice.postForm(t, "/edit-profile", url.Values{"username": {tt.username}, "about_me": {tt.aboutMe}})
			r.wantStatus(http.StatusUnprocessableEntity)
			if got := r.fieldError(tt.field); !strings.Contains(got, tt.want) {
				t.Errorf("error under %s %q, want %q", tt.field, got, tt.want)
			}
			if r.fieldValue("username") != tt.username || r.fieldValue("about_me") != tt.aboutMe {
				t.Errorf("the form lost what was typed")
			}
			// Nothing changed.
			alice.page(t, "/user/alice").wantText("Hello there")
		})
	}
}

// "Last seen" is written at most once a minute, not on every request, and
// never by the polling and streaming endpoints, which are not the member
// doing anything.
func TestLastSeen(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice := s.register(t, "alice")
	first := alice.user(t).LastSeen

	alice.page(t, "/")
	alice.page(t, "/messages")
	if got := alice.user(t).LastSeen; !got.Equal(first) {
		t.Fatalf("two requests within a minute moved last seen from %v to %v", first, got)
	}

	s.clock.Advance(2 * time.Minute)
	alice.notifications(t, "0")
	stream := alice.openStream(t, "")
	stream.close()
	if got := alice.user(t).LastSeen; !got.Equal(first) {
		t.Fatalf("/notifications and /events moved last seen from %v to %v", first, got)
	}

	alice.page(t, "/")
	second := alice.user(t).LastSeen
	if second.Sub(first) < 2*time.Minute {
		t.Fatalf("a request two minutes later left last seen at %v (first %v)", second, first)
	}
	alice.page(t, "/")
	if got := alice.user(t).LastSeen; !got.Equal(second) {
		t.Fatalf("the next request moved last seen again, from %v to %v", second, got)
	}

	// Others see it on the profile.
	profile := s.register(t, "bob").page(t, "/user/alice")
	seen := findClass(profile.Body, "profile")[0]
	if got, want := findTag(seen.Inner, "time")[0].Attr["datetime"], second.UTC().Format(time.RFC3339); got != want {
		t.Errorf("the profile says last seen at %s, want %s", got, want)
	}
}
