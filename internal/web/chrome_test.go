package web_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// A visitor who is not logged in gets, at /, a page saying what the site
// is, with the ways in; a member gets the timeline there. /index stays the
// seed's: members only.
func TestFrontPage(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{SiteName: "Elm Street", SiteDescription: "The neighbours' noticeboard: lost ladders, spare sourdough, chess on Thursdays."})
	guest := s.browser()

	r := guest.page(t, "/")
	r.wantText("Elm Street", "The neighbours' noticeboard: lost ladders, spare sourdough, chess on Thursdays.")
	r.linkTo("/login")
	r.linkTo("/register")
	if title := findTag(r.Body, "title"); len(title) != 1 || title[0].Text() != "Welcome · Elm Street" {
		t.Errorf("title %v, want the site's name in it", title)
	}
	if brand := findClass(r.Body, "navbar-brand"); len(brand) != 1 || brand[0].Text() != "Elm Street" {
		t.Errorf("brand %v, want the site's name", brand)
	}
	if _, ok := findID(r.Body, "message_count"); ok {
		t.Error("a visitor's page has a messages badge")
	}
	guest.get(t, "/index").wantRedirect("/login?next=%2Findex")
	// Installed as an app, it is named after the site too.
	guest.get(t, "/manifest.webmanifest").wantStatus(http.StatusOK).wantText(`"name": "Elm Street"`, `"short_name": "Elm Street"`)

	alice := s.register(t, "alice")
	home := alice.page(t, "/")
	// The theme is the browser's (theme.js): no page, and so no kept
	// rendering of a page's top, carries one.
	if strings.Contains(home.Body, "data-bs-theme") || strings.Contains(r.Body, "data-bs-theme") {
		t.Error("a page is rendered with a colour theme")
	}
	if !regexp.MustCompile(`<head>(?s:.)*<script src="/static/theme\.[0-9a-f]+\.js"></script>(?s:.)*</head>`).MatchString(home.Body) {
		t.Error("theme.js is not loaded in <head> without defer")
	}
	home.wantText("Hi, alice!")
	home.wantNoText("The neighbours' noticeboard")
	if title := findTag(home.Body, "title"); len(title) != 1 || title[0].Text() != "Home · Elm Street" {
		t.Errorf("title %v", title)
	}
}

// Without a name or description configured, the site is natter.
func TestFrontPageDefaults(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	r := s.browser().page(t, "/")
	r.wantText("natter", "short posts on a shared timeline")
	if title := findTag(r.Body, "title"); len(title) != 1 || title[0].Text() != "Welcome · natter" {
		t.Errorf("title %v", title)
	}
}

// Logging out says so, on the login page it leads to, once.
func TestLogoutNotice(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice := s.register(t, "alice")
	r := alice.postForm(t, "/logout", nil).wantRedirect("/login")
	alice.follow(t, r).wantText("You have been logged out.")
	alice.page(t, "/login").wantNoText("You have been logged out.")
}

// The navbar's account menu holds the member's profile, the settings and
// logging out (a POST form); it is a <details>, so it opens without
// JavaScript. The badges say what they count to screen readers.
func TestAccountMenu(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice, bob := s.register(t, "alice"), s.register(t, "bob")
	bob.send(t, alice, "Lunch?")
	r := alice.page(t, "/index")
	menus := findClass(r.Body, "account-menu")
	if len(menus) != 1 {
		t.Fatalf("%d account menus, want 1", len(menus))
	}
	menu := menus[0]
	if !strings.HasPrefix(strings.TrimSpace(menu.Inner), "<summary") {
		t.Errorf("the account menu is not a <details> opened by its <summary>:\n%s", menu.Inner)
	}
	for _, href := range []string{"/user/alice", "/settings/account"} {
		if !strings.Contains(menu.Inner, `href="`+href+`"`) {
			t.Errorf("the account menu has no link to %s", href)
		}
	}
	forms := findTag(menu.Inner, "form")
	if len(forms) != 1 || forms[0].Attr["action"] != "/logout" || forms[0].Attr["method"] != "post" {
		t.Errorf("the account menu's forms: %v, want one POST to /logout", forms)
	}
	if _, ok := findID(r.Body, "desktop-notifications"); ok {
		t.Error("the navbar still has the desktop notifications button")
	}
	labels := elements(r.Body, func(_ string, a map[string]string) bool {
		return a["data-notification-label"] == "unread_message_count"
	})
	if len(labels) != 1 || strings.TrimSpace(labels[0].Text()) != "unread message" || labels[0].Has("hidden") {
		t.Errorf("the messages badge's label: %v, want a shown %q", labels, "unread message")
	}
	none := elements(alice.page(t, "/messages").Body, func(_ string, a map[string]string) bool {
		return a["data-notification-label"] == "unread_message_count"
	})
	if len(none) != 1 || !none[0].Has("hidden") {
		t.Errorf("with nothing unread the label %v is not hidden", none)
	}
}

// Error pages offer a way back and say which error they are.
func TestErrorPageWayBack(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice := s.register(t, "alice")
	r := alice.get(t, "/no/such/page").wantStatus(http.StatusNotFound)
	r.wantText("Error 404", "Back to the timeline", "the link may be old")
	r.linkTo("/")
}
