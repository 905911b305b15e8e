package e2e

import (
	"bytes"
	"context"
	"image/png"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// The README's pictures, taken from a real natter in a real browser: the
// timeline with a popover open, the badge lit by a message that just
// arrived, a conversation and the inbox, and the timeline and a conversation
// at phone width, in the light theme; the conversation, the timeline, the
// phone and its account menu in the dark one; and the front page a visitor
// sees. Under
// NATTER_SCREENSHOTS=1 they go to docs/screenshots/; otherwise they are
// still taken (so this keeps working) but only into a temporary directory.
func TestScreenshots(t *testing.T) {
	needChromium(t)
	dir := t.TempDir()
	if regenerateDocs() {
		dir = filepath.Join(docsDir, "screenshots")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	srv := startServer(t)
	alice := srv.seedMember(t, "alice", "Beekeeper, amateur astronomer, and the street's unofficial weather station.")
	bob := srv.seedMember(t, "bob", "Bob builds birdhouses for the whole street.")
	carol := srv.seedMember(t, "carol", "Carol runs the Thursday chess club at the library. Beginners welcome!")
	dave := srv.seedMember(t, "dave", "Dave bakes sourdough on Sundays and gives away the starter.")
	bob.post("Finished the blue birdhouse today. The tits moved in within the hour.")
	alice.post("Clear skies tonight: Jupiter and three of its moons with the small telescope.")
	dave.post("Who wants some sourdough starter? I have far too much of it again.")
	carol.post("Chess club moves to the library's upstairs room from next week. @alice, can you bring the clock?")
	dave.submit("/post/2/reply", url.Values{"body": {"@alice I saw them too, from the allotment. Wonderful!"}})
	bob.post("Lost: one ladder, green, answers to \"the good ladder\". Last seen near @dave's shed.")
	// Likes, so the pictures show hearts and counts: alice's own among them.
	for _, like := range []struct {
		by   *httpMember
		post string
	}{{carol, "6"}, {dave, "6"}, {alice, "3"}, {bob, "2"}, {carol, "2"}, {alice, "6"}} {
		like.by.submit("/post/"+like.post+"/like", url.Values{})
	}
	bob.send("alice", "Are you coming to the chess club on Thursday?")
	alice.send("bob", "Yes! I'll bring the clock. Do you still have the spare board?")
	bob.send("alice", "I do. See you at seven.")

	b := newBrowser(t, srv, "alice")
	tb := b.main
	tb.logIn(alice)
	tb.run(emulation.SetScrollbarsHidden(true), colourScheme("light"))
	// The one-time suggestion to turn push on, answered: it would be in
	// every picture.
	tb.open("/index")
	var ok bool
	tb.eval(`(localStorage.setItem('natter.pushSuggestion', 'dismissed'), true)`, &ok)

	// The conversation (reading it also clears the badge for the next shot).
	tb.open("/messages/bob")
	tb.screenshot(t, filepath.Join(dir, "conversation.png"), desktop, pageContent)
	// The inbox: carol's question unread under bob's conversation.
	carol.send("alice", "Could you bring the chess clock on Thursday? Ours lost a button.")
	tb.open("/messages")
	tb.screenshot(t, filepath.Join(dir, "inbox.png"), desktop, pageContent)

	// The timeline with bob's popover open over the form, the posts in view.
	tb.open("/index")
	tb.waitFor(`document.documentElement.dataset.liveConnected === 'true'`)
	x, y := tb.position(`article.post a.user-popup[href="/user/bob"]`)
	tb.run(tb.mouseTo(x, y))
	tb.waitVisible(`.popover.user-popover`)
	tb.waitFor(`[...document.querySelectorAll('.popover img')].every(i => i.complete)`)
	tb.screenshot(t, filepath.Join(dir, "timeline-popover.png"), desktop, wholeViewport)
	tb.run(tb.mouseTo(2, 790))
	tb.waitFor(`document.querySelectorAll('.popover').length === 0`)

	// The badge, lit live by a message dave sends now.
	dave.send("alice", "Starter is on your doorstep. Feed it tonight!")
	tb.waitFor(`document.getElementById('message_count').textContent.trim() === '1' && !document.getElementById('message_count').hidden`)
	tb.screenshot(t, filepath.Join(dir, "badge.png"), desktop, navbarOnly)

	// The timeline at phone width.
	phoneHiDPI := phone
	phoneHiDPI.scale = 2
	tb.run(phoneHiDPI.emulate())
	tb.open("/index")
	tb.screenshot(t, filepath.Join(dir, "phone.png"), phoneHiDPI, wholeViewport)
	// A conversation on a phone: the reply box at the bottom.
	tb.open("/messages/bob")
	tb.screenshot(t, filepath.Join(dir, "conversation-phone.png"), phoneHiDPI, wholeViewport)

	// The same in the dark theme (the system's choice, followed).
	tb.run(desktop.emulate(), colourScheme("dark"))
	tb.open("/messages/bob")
	tb.waitFor(`document.documentElement.dataset.bsTheme === 'dark'`)
	tb.screenshot(t, filepath.Join(dir, "conversation-dark.png"), desktop, pageContent)
	tb.open("/index")
	x, y = tb.position(`article.post a.user-popup[href="/user/carol"]`)
	tb.run(tb.mouseTo(x, y))
	tb.waitVisible(`.popover.user-popover`)
	tb.waitFor(`[...document.querySelectorAll('.popover img')].every(i => i.complete)`)
	tb.screenshot(t, filepath.Join(dir, "timeline-dark.png"), desktop, wholeViewport)
	tb.run(tb.mouseTo(2, 790))
	tb.waitFor(`document.querySelectorAll('.popover').length === 0`)
	tb.run(phoneHiDPI.emulate())
	tb.open("/index")
	tb.screenshot(t, filepath.Join(dir, "phone-dark.png"), phoneHiDPI, wholeViewport)
	tb.openAccountMenu()
	tb.screenshot(t, filepath.Join(dir, "phone-menu-dark.png"), phoneHiDPI, wholeViewport)

	// The front page of a visitor, who is not logged in.
	visitor, closeVisitor := b.newProfileTab(desktop)
	defer closeVisitor()
	visitor.run(emulation.SetScrollbarsHidden(true), colourScheme("light"))
	visitor.open("/")
	visitor.screenshot(t, filepath.Join(dir, "front.png"), desktop, pageContent)
}

// What a screenshot shows.
const (
	wholeViewport = iota
	pageContent   // the viewport down to the end of <main>, without empty space
	navbarOnly    // the navbar, where the badges are
)

// screenshot saves part of the viewport as a PNG.
func (tb *tab) screenshot(t *testing.T, path string, v viewport, part int) {
	t.Helper()
	height := float64(v.height)
	switch part {
	case navbarOnly:
		tb.eval(`document.querySelector('header').getBoundingClientRect().bottom`, &height)
	case pageContent:
		var bottom float64
		tb.eval(`document.querySelector('main').getBoundingClientRect().bottom`, &bottom)
		height = min(height, bottom)
	}
	var buf []byte
	tb.run(chromedp.ActionFunc(func(ctx context.Context) error {
		var err error
		buf, err = page.CaptureScreenshot().WithFormat(page.CaptureScreenshotFormatPng).
			WithClip(&page.Viewport{X: 0, Y: 0, Width: float64(v.width), Height: height, Scale: 1}).Do(ctx)
		return err
	}))
	img, err := png.Decode(bytes.NewReader(buf))
	if err != nil {
		t.Fatalf("screenshot %s: %v", path, err)
	}
	if w, want := img.Bounds().Dx(), int(float64(v.width)*v.scale); w != want {
		t.Errorf("screenshot %s is %d pixels wide, want %d", path, w, want)
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
}
