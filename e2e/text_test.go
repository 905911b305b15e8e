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
}
