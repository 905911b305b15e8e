package web_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// Posts, messages and about-me texts refuse bidirectional overrides and
// other invisible control characters, which make text show differently
// from what it says; the form says why and keeps what was typed. Emoji
// sequences, which need the zero-width joiner, are welcome.
func TestInvisibleControlsRefused(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice, bob := s.register(t, "alice"), s.register(t, "bob")
	for _, bad := range []string{
		"see invoice\u202Efdp.exe", // RIGHT-TO-LEFT OVERRIDE
		"a\u2066isolated\u2069b",   // LEFT-TO-RIGHT ISOLATE
		"pay\u200Bpal",             // ZERO WIDTH SPACE
		"bell\x07",                 // a C0 control
		"\uFEFFbom",                // ZERO WIDTH NO-BREAK SPACE
	} {
		r := alice.postForm(t, "/index", url.Values{"body": {bad}})
		r.wantStatus(http.StatusUnprocessableEntity).wantText("invisible control character")
		if r.fieldValue("body") != bad {
			t.Errorf("the refused post lost what was typed")
		}
		alice.postForm(t, "/send-message/bob", url.Values{"message": {bad}}).
			wantStatus(http.StatusUnprocessableEntity).wantText("invisible control character")
		alice.postForm(t, "/edit-profile", url.Values{"username": {"alice"}, "about_me": {bad}}).
			wantStatus(http.StatusUnprocessableEntity).wantText("invisible control character")
	}
	alice.post(t, "family: 👨\u200D👩\u200D👧, two lines\nand a tab\there")
	alice.send(t, bob, "👍🏽 ok")
	// Usernames stay plain ASCII: no look-alikes from other scripts.
	lookalike := "\u0430lice" // a Cyrillic а
	alice.postForm(t, "/edit-profile", url.Values{"username": {lookalike}, "about_me": {""}}).
		wantStatus(http.StatusUnprocessableEntity)
}

// A post reads as its author typed it: line breaks (at most one empty
// line), web addresses as links, and @names as links only while they name
// a member, following renames. Posts are kept rendered (fragments.go), so
// a member who registers or renames later must change what a post that
// was already shown shows.
func TestPostTextReadsRight(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice, bob := s.register(t, "alice"), s.register(t, "bob")
	alice.post(t, "Line one\n\n\n\nLine two: https://go.dev/doc/effective_go.html, @bob @carol")

	body := func(path string) element {
		t.Helper()
		posts := findClass(bob.page(t, path).Body, "post-body")
		if len(posts) == 0 {
			t.Fatalf("%s shows no post", path)
		}
		return posts[0]
	}
	mentions := func(e element) []string {
		var got []string
		for _, a := range findClass(e.Inner, "mention") {
			got = append(got, a.Text()+" → "+a.Attr["href"])
		}
		return got
	}
	for _, path := range []string{"/", "/user/alice", "/post/1"} {
		p := body(path)
		if p.Attr["dir"] != "auto" {
			t.Errorf("%s: the post's dir is %q, want auto", path, p.Attr["dir"])
		}
		if n := strings.Count(p.Inner, "<br>"); n != 2 {
			t.Errorf("%s: %d line breaks, want 2 (one empty line): %s", path, n, p.Inner)
		}
		links := findTag(p.Inner, "a")
		if len(links) == 0 || links[0].Attr["href"] != "https://go.dev/doc/effective_go.html" ||
			links[0].Attr["rel"] != "nofollow noopener ugc" || links[0].Text() != "go.dev/doc/effective_go.html" {
			t.Errorf("%s: the address is not linked as it should be: %s", path, p.Inner)
		}
		if got, want := mentions(p), []string{"@bob → /user/bob"}; !slices.Equal(got, want) {
			t.Errorf("%s: mentions %q, want %q (@carol is nobody yet)", path, got, want)
		}
	}

	// carol registers: @carol names her now, on pages already shown.
	s.register(t, "carol")
	if got, want := mentions(body("/")), []string{"@bob → /user/bob", "@carol → /user/carol"}; !slices.Equal(got, want) {
		t.Errorf("after carol registered: mentions %q, want %q", got, want)
	}
	// bob renames himself: @bob, as written, leads to Robert.
	bob.postForm(t, "/edit-profile", url.Values{"username": {"Robert"}}).wantRedirect("/user/Robert")
	if got, want := mentions(body("/")), []string{"@bob → /user/Robert", "@carol → /user/carol"}; !slices.Equal(got, want) {
		t.Errorf("after bob became Robert: mentions %q, want %q", got, want)
	}
	// ... and the centre's entry of the mention too.
	if got, want := mentions(findClass(bob.page(t, "/activity").Body, "post-body")[0]), []string{"@bob → /user/Robert", "@carol → /user/carol"}; !slices.Equal(got, want) {
		t.Errorf("/activity: mentions %q, want %q", got, want)
	}
}

// Messages and about-me texts keep their line breaks and link addresses
// too; there an @name is text (a message mentions nobody).
func TestMessageAndAboutText(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice, bob := s.register(t, "alice"), s.register(t, "bob")
	alice.send(t, bob, "Look:\nhttps://example.com/x?a=1&b=2 @bob")
	for _, path := range []string{"/messages", "/messages/alice"} {
		p := findClass(bob.page(t, path).Body, "post-body")[0]
		links := findTag(p.Inner, "a")
		if p.Attr["dir"] != "auto" || !strings.Contains(p.Inner, "<br>") || len(links) != 1 || links[0].Attr["href"] != "https://example.com/x?a=1&b=2" {
			t.Errorf("%s: the message reads %s", path, p.Inner)
		}
	}
	alice.postForm(t, "/edit-profile", url.Values{"username": {"alice"}, "about_me": {"Birds.\nhttps://birds.example"}}).wantRedirect("/user/alice")
	for _, path := range []string{"/user/alice", "/user/alice/popup"} {
		p := findClass(bob.page(t, path).Body, "about-me")[0]
		links := findTag(p.Inner, "a")
		if p.Attr["dir"] != "auto" || !strings.Contains(p.Inner, "<br>") || len(links) != 1 || links[0].Attr["href"] != "https://birds.example" {
			t.Errorf("%s: the about-me text reads %s", path, p.Inner)
		}
	}
}

// Every textarea with a limit says it in characters for the page's counter
// (data-max-chars), without maxlength: browsers count that in UTF-16 units
// and would stop a text of emoji at half the limit.
func TestTextareasCountCharacters(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice := s.register(t, "alice")
	s.register(t, "bob")
	for path, name := range map[string]string{"/": "body", "/send-message/bob": "message", "/messages/bob": "message", "/edit-profile": "about_me"} {
		var found bool
		for _, ta := range findTag(alice.page(t, path).Body, "textarea") {
			if ta.Attr["name"] != name {
				continue
			}
			found = true
			if ta.Has("maxlength") || ta.Attr["data-max-chars"] != "140" {
				t.Errorf("%s: textarea %s has maxlength %q, data-max-chars %q; want no maxlength, 140", path, name, ta.Attr["maxlength"], ta.Attr["data-max-chars"])
			}
		}
		if !found {
			t.Errorf("%s: no textarea %s", path, name)
		}
	}
}
