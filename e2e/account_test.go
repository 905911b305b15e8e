package e2e

import (
	"fmt"
	"slices"
	"testing"
)

// A member registers, logs out and in again, posts, pages through the
// timeline and writes an "about me" that the profile then shows.
func TestAccountPostsAndProfile(t *testing.T) {
	needChromium(t)
	srv := startServer(t)
	alice := newMember(t, srv, "alice")

	alice.register()
	if got := alice.text("main h1"); got != "Hi, alice!" {
		t.Errorf("after registering the timeline says %q, want %q", got, "Hi, alice!")
	}
	alice.logout()
	alice.open("/index") // a member's page sends a visitor to log in
	if got := alice.text("main h1"); got != "Log in" {
		t.Errorf("logged out, /index shows %q, want the login page", got)
	}
	alice.login()

	// Six posts with five to a page: two pages, newest first.
	for i := 1; i <= postsPerPage+1; i++ {
		alice.post(fmt.Sprintf("Note number %d from alice", i))
	}
	alice.open("/index")
	want := []string{"Note number 6 from alice", "Note number 5 from alice", "Note number 4 from alice",
		"Note number 3 from alice", "Note number 2 from alice"}
	if got := alice.postBodies(); !slices.Equal(got, want) {
		t.Errorf("timeline page 1 shows %q, want %q", got, want)
	}
	if alice.has(`a[rel="prev"]`) {
		t.Errorf("the first page links to newer posts")
	}
	alice.navigateLink(`a[rel="next"]`, "Older posts")
	if got, want := alice.postBodies(), []string{"Note number 1 from alice"}; !slices.Equal(got, want) {
		t.Errorf("timeline page 2 shows %q, want %q", got, want)
	}
	if alice.has(`a[rel="next"]`) {
		t.Errorf("the last page links to older posts")
	}
	alice.navigateLink(`a[rel="prev"]`, "Newer posts")
	if got := alice.postBodies(); !slices.Equal(got, want) {
		t.Errorf("back on page 1 the timeline shows %q, want %q", got, want)
	}

	// The profile: about me, and the same posts, paged alike.
	alice.editProfile("I collect timetables of trains that no longer run.")
	if got := alice.text("main h1"); got != "alice" {
		t.Errorf("after saving the profile the page is %q, want alice's profile", got)
	}
	if got, want := alice.text(".profile .about-me"), "I collect timetables of trains that no longer run."; got != want {
		t.Errorf("profile says %q about alice, want %q", got, want)
	}
	if got := alice.postBodies(); len(got) != postsPerPage || got[0] != "Note number 6 from alice" {
		t.Errorf("profile page 1 shows %q, want the five newest posts", got)
	}
	alice.navigateLink(`a[rel="next"]`, "Older posts")
	if got, want := alice.postBodies(), []string{"Note number 1 from alice"}; !slices.Equal(got, want) {
		t.Errorf("profile page 2 shows %q, want %q", got, want)
	}
	// The edit form shows what was saved.
	alice.open("/edit-profile")
	var about string
	alice.eval(`document.querySelector('#about_me').value`, &about)
	if about != "I collect timetables of trains that no longer run." {
		t.Errorf("edit-profile form holds %q", about)
	}
}

// postBodies returns the texts of the posts on the page, in order.
func (tb *tab) postBodies() []string {
	tb.b.t.Helper()
	var bodies []string
	tb.eval(`[...document.querySelectorAll('article.post .post-body')].map(p => p.textContent.trim())`, &bodies)
	return bodies
}

// navigateLink follows the link sel, checking its text first.
func (tb *tab) navigateLink(sel, text string) {
	tb.b.t.Helper()
	if got := tb.text(sel); !containsFold(got, text) {
		tb.b.t.Fatalf("%s: link %s says %q, want %q", tb.name, sel, got, text)
	}
	if got := tb.navigate(chromedpClick(sel)); got != 200 {
		tb.b.t.Fatalf("%s: following %s: status %d", tb.name, sel, got)
	}
}
