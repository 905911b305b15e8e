package e2e

import (
	"strings"
	"testing"
)

// The character counter counts as the server does: code points, so 100
// emoji are 100 characters of 140 (not 200 UTF-16 units, which the old
// maxlength stopped at 70). Over the limit it says by how much, and the
// form is not sent.
func TestCharacterCounter(t *testing.T) {
	needChromium(t)
	srv := startServer(t)
	alice := newMember(t, srv, "alice")
	alice.register()

	alice.open("/index")
	alice.fill("#body", strings.Repeat("😀", 100))
	alice.waitFor(`document.getElementById('body-counter').textContent === '40 characters left'`)

	alice.fill("#body", strings.Repeat("😀", 141))
	alice.waitFor(`document.getElementById('body-counter').textContent === '1 character too many'`)
	var marked bool
	alice.eval(`window.__samePage = true`, &marked)
	alice.run(chromedpClick(`form[action="/index"] button[type="submit"]`))
	alice.waitFor(`document.getElementById('body-counter').textContent === 'Too long by 1 character: keep it to 140.'`)
	var same, focused, invalid bool
	alice.eval(`window.__samePage === true`, &same)
	alice.eval(`document.activeElement === document.getElementById('body')`, &focused)
	alice.eval(`document.getElementById('body').getAttribute('aria-invalid') === 'true'`, &invalid)
	if !same || !focused || !invalid {
		t.Errorf("a post too long: same page %v, text focused %v, marked invalid %v; want all", same, focused, invalid)
	}

	// 140 emoji are 140 characters: the counter and the server agree.
	alice.fill("#body", strings.Repeat("😀", 140))
	alice.waitFor(`document.getElementById('body-counter').textContent === '0 characters left'`)
	alice.eval(`document.getElementById('body').getAttribute('aria-invalid') === null`, &invalid)
	if !invalid {
		t.Errorf("the text is still marked invalid at 140 characters")
	}
	alice.submit(`form[action="/index"] button[type="submit"]`)
	alice.wantFlash("Your post is now live!")
	if got := alice.text("article .post-body"); got != strings.Repeat("😀", 140) {
		t.Errorf("the post reads %q", got)
	}

	// The same counter on the other texts: messages and about me.
	alice.open("/edit-profile")
	alice.fill("#about_me", strings.Repeat("🏳️‍🌈", 10)) // 4 code points each
	alice.waitFor(`document.getElementById('about_me-counter').textContent === '100 characters left'`)

	// And in the reply form opened in place on the timeline: 100 emoji
	// are typed whole (no maxlength stops them at 70) and leave 40.
	alice.open("/index")
	alice.eval(`window.__samePage = true`, &marked)
	alice.run(chromedpClick(`#timeline article.post a.post-reply`))
	reply := `#timeline form.reply-inline textarea`
	alice.fill(reply, strings.Repeat("😀", 100))
	alice.waitFor(`document.querySelector('#timeline form.reply-inline .form-text').textContent === '40 characters left'`)
	alice.fill(reply, strings.Repeat("😀", 141))
	alice.waitFor(`document.querySelector('#timeline form.reply-inline .form-text').textContent === '1 character too many'`)
	alice.run(chromedpClick(`#timeline form.reply-inline button[type="submit"]`))
	alice.waitFor(`document.querySelector('#timeline form.reply-inline .form-text').textContent === 'Too long by 1 character: keep it to 140.'`)
	alice.eval(`window.__samePage === true && document.querySelectorAll('#timeline article.post').length === 1`, &same)
	if !same {
		t.Errorf("a reply too long was sent")
	}
}

// A member reading the timeline sees "N new posts" as others post, live,
// and loads them in place: no reload, the newest on top.
func TestNewPostsLive(t *testing.T) {
	alice, bob := timelineReaders(t)

	// bob's stream starts on a page without the timeline; coming to the
	// timeline makes the worker open it again, for posts.
	bob.open("/messages")
	bob.waitFor(`document.documentElement.dataset.liveConnected === 'true'`)
	bob.open("/")
	bob.waitFor(`document.documentElement.dataset.liveConnected === 'true'`)
	var ok bool
	bob.eval(`window.__samePage = true`, &ok)
	if bob.has(`#new-posts button:not([hidden])`) {
		t.Fatalf("bob's timeline offers new posts before any")
	}

	alice.post("Hello from alice")
	bob.waitFor(`document.querySelector('#new-posts button:not([hidden])')?.textContent === '1 new post'`)
	alice.post("And again, @bob")
	bob.waitFor(`document.querySelector('#new-posts button:not([hidden])')?.textContent === '2 new posts'`)

	bob.run(chromedpClick(`#new-posts button`))
	bob.waitFor(`document.querySelectorAll('#timeline article.post').length === 3`)
	bob.waitFor(`document.querySelector('#new-posts button').hidden`)
	var bodies []string
	bob.eval(`[...document.querySelectorAll('#timeline .post-body')].map(p => p.textContent.trim())`, &bodies)
	if want := []string{"And again, @bob", "Hello from alice", "bob was here first"}; strings.Join(bodies, "|") != strings.Join(want, "|") {
		t.Errorf("bob's timeline after loading: %q, want %q", bodies, want)
	}
	var same bool
	bob.eval(`window.__samePage === true`, &same)
	if !same {
		t.Errorf("bob's page was reloaded; new posts must load in place")
	}
	// The loaded post's mention links like any other.
	if !bob.has(`#timeline article.post a.mention[href="/user/bob"]`) {
		t.Errorf("the loaded post's @bob is not a link")
	}
}

// "N new posts" counts only posts the page does not show: not a reply the
// member just wrote in place, and not a post deleted since it was counted.
func TestNewPostsSkipsOwnReplyAndDeleted(t *testing.T) {
	alice, bob := timelineReaders(t)
	bob.open("/")
	bob.waitFor(`document.documentElement.dataset.liveConnected === 'true'`)
	var ok bool
	bob.eval(`(window.__samePage = true) && (document.addEventListener('natter:posts', (e) => { window.__recent = e.detail.recent; }), true)`, &ok)

	// bob replies to his own post in place: the reply shows under it, and
	// when the stream announces it, it is not "1 new post".
	bob.run(chromedpClick(`#timeline article.post a.post-reply`))
	bob.fill(`#timeline form.reply-inline textarea`, "and still here")
	bob.run(chromedpClick(`#timeline form.reply-inline button[type="submit"]`))
	bob.waitFor(`document.querySelectorAll('#timeline article.post').length === 2 && window.__recent?.length === 2`)
	if bob.has(`#new-posts button:not([hidden])`) {
		t.Errorf("bob's own reply, shown in place, counts as %q", bob.text(`#new-posts button`))
	}

	// alice posts, bob is told; alice deletes it, and bob is told no more.
	alice.post("oops, wrong post")
	bob.waitFor(`document.querySelector('#new-posts button:not([hidden])')?.textContent === '1 new post'`)
	alice.open("/index")
	oops := alice.firstPostID("main article.post")
	alice.open("/post/" + oops + "/delete")
	alice.submit(`main form button.btn-danger`)
	alice.wantFlash("Your post was deleted.")
	bob.waitFor(`document.querySelector('#new-posts button').hidden`)
	var same bool
	bob.eval(`window.__samePage === true`, &same)
	if !same {
		t.Errorf("bob's page was reloaded")
	}
}

// timelineReaders starts natter with alice registered in a browser, and bob,
// who wrote "bob was here first", logged in in a browser of his own.
func timelineReaders(t *testing.T) (alice *member, bob *tab) {
	t.Helper()
	needChromium(t)
	srv := startServer(t)
	alice = newMember(t, srv, "alice")
	alice.register()
	seeded := srv.seedMember(t, "bob", "")
	seeded.post("bob was here first")
	bob = newBrowser(t, srv, "bob").main
	bob.logIn(seeded)
	return alice, bob
}
