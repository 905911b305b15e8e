package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// A conversation in the browser: it opens at the newest message, the
// member's own bubbles on the right and the other's on the left, Enter
// sends and Shift+Enter starts a new line (with a hint saying so), and at
// phone width the reply box stays at the bottom of the screen.
func TestConversationChat(t *testing.T) {
	needChromium(t)
	srv := startServer(t)
	erin := srv.seedMember(t, "erin", "")
	bob := newMember(t, srv, "bob")
	bob.register()
	for i := range 25 {
		erin.send("bob", fmt.Sprintf("Message number %d from erin, long enough to take some room.", i+1))
	}
	bob.sendMessage("erin", "Thanks erin, all received.")
	erin.send("bob", "Good!")

	bob.run(desktop.emulate())
	bob.open("/messages/erin")
	// Open at the newest: the last message is in view, the first is not.
	bob.waitFor(`(() => {
		const last = document.querySelector('ol.conversation-thread > li.message:last-child').getBoundingClientRect();
		const first = document.querySelector('ol.conversation-thread > li.message').getBoundingClientRect();
		return last.bottom <= innerHeight && last.top >= 0 && first.bottom < 0;
	})()`)

	// Two sides: bob's bubble ends at the thread's right, erin's starts
	// at its left (each beside an avatar), and they are not in one column.
	var sides struct{ MineRightGap, TheirsLeftGap, MineLeft, TheirsLeft, MineRight, TheirsRight float64 }
	bob.eval(`(() => {
		const thread = document.querySelector('ol.conversation-thread').getBoundingClientRect();
		const mine = document.querySelector('li.message.mine .bubble').getBoundingClientRect();
		const theirs = document.querySelector('li.message.theirs .bubble').getBoundingClientRect();
		return {MineRightGap: thread.right - mine.right, TheirsLeftGap: theirs.left - thread.left,
			MineLeft: mine.left, TheirsLeft: theirs.left, MineRight: mine.right, TheirsRight: theirs.right};
	})()`, &sides)
	if sides.MineRightGap > 40 || sides.TheirsLeftGap > 40 || sides.MineLeft <= sides.TheirsLeft || sides.MineRight <= sides.TheirsRight {
		t.Errorf("bubbles not on two sides: %+v", sides)
	}

	// Shift+Enter is a new line; Enter sends, and the member goes on
	// typing in the conversation.
	bob.waitFor(`!document.getElementById('message-hint').hidden && document.getElementById('message').getAttribute('aria-describedby').includes('message-hint')`)
	if hint := bob.text("#message-hint"); !strings.Contains(hint, "Enter to send") || !strings.Contains(hint, "Shift+Enter") {
		t.Errorf("the hint reads %q", hint)
	}
	bob.run(chromedp.Focus("#message", chromedp.ByQuery),
		chromedp.SendKeys("#message", "Line one", chromedp.ByQuery),
		chromedp.KeyEvent(kb.Enter, chromedp.KeyModifiers(input.ModifierShift)),
		chromedp.SendKeys("#message", "Line two", chromedp.ByQuery))
	var value string
	bob.eval(`document.getElementById('message').value`, &value)
	if value != "Line one\nLine two" {
		t.Fatalf("after Shift+Enter the box holds %q", value)
	}
	if status := bob.navigate(chromedp.KeyEvent(kb.Enter)); status != 200 {
		t.Fatalf("Enter: status %d", status)
	}
	var sent struct {
		Body string
		Mine bool
	}
	// The member goes on typing: the box has the focus again.
	bob.waitFor(`document.readyState === 'complete' && document.activeElement === document.getElementById('message')`)
	bob.eval(`(() => {
		const last = document.querySelector('ol.conversation-thread > li.message:last-child');
		return {Body: last.querySelector('.post-body').textContent, Mine: last.classList.contains('mine')};
	})()`, &sent)
	if sent.Body != "Line one\nLine two" || !sent.Mine {
		t.Errorf("the newest message after Enter: %+v, want bob's two lines", sent)
	}

	// A message arriving live while the newest are in view is shown
	// above the reply box, not under it.
	bob.waitFor(liveJS)
	erin.send("bob", "And one more, live.")
	bob.waitFor(`(() => {
		const last = document.querySelector('ol.conversation-thread > li.message:last-child');
		return last.textContent.includes('And one more, live.') &&
			last.getBoundingClientRect().bottom <= document.getElementById('reply').getBoundingClientRect().top + 1;
	})()`)

	// At phone width the reply box is at the bottom of the screen while
	// the thread scrolls under it, and ends the page when scrolled down.
	bob.run(phone.emulate())
	bob.open("/messages/erin")
	var gaps struct{ Top, End float64 }
	bob.eval(`(() => {
		const gap = () => innerHeight - document.getElementById('reply').getBoundingClientRect().bottom;
		window.scrollTo({top: 0, behavior: 'instant'});
		const top = gap();
		window.scrollTo({top: document.documentElement.scrollHeight, behavior: 'instant'});
		return {Top: top, End: gap()};
	})()`, &gaps)
	if gaps.Top < -1 || gaps.Top > 1 || gaps.End < -1 || gaps.End > 40 {
		t.Errorf("phone: the reply box ends %.0f px above the bottom of the screen scrolled to the top, %.0f px at the end; want 0, and at most the page's margin", gaps.Top, gaps.End)
	}

	// A conversation too short to fill the screen has its box at the
	// bottom all the same, as a phone's messaging apps do.
	srv.seedMember(t, "fay", "").send("bob", "Hi bob!")
	bob.open("/messages/fay")
	var gap float64
	bob.eval(`innerHeight - document.getElementById('reply').getBoundingClientRect().bottom`, &gap)
	if gap < -1 || gap > 40 {
		t.Errorf("phone, a short conversation: the reply box ends %.0f px above the bottom of the screen; want at most the page's margin", gap)
	}
}

// "New message": names suggested as the member types, with their
// avatars, in a list the keyboard moves through; the chosen name opens the
// conversation.
func TestNewMessageSuggestions(t *testing.T) {
	needChromium(t)
	srv := startServer(t)
	for _, name := range []string{"alice", "albert", "alfred", "bob"} {
		srv.seedMember(t, name, "")
	}
	carol := newMember(t, srv, "carol")
	carol.register()
	carol.open("/messages")
	carol.submit(`a[href="/new-message"]`)
	carol.run(chromedp.Focus("#to", chromedp.ByQuery), chromedp.SendKeys("#to", "Al", chromedp.ByQuery))
	names := `[...document.querySelectorAll('#to-suggestions [role="option"]')].map(o => o.textContent).join()`
	carol.waitFor(names + ` === 'albert,alfred,alice' && document.getElementById('to').getAttribute('aria-expanded') === 'true'`)
	var avatars int
	carol.eval(`document.querySelectorAll('#to-suggestions [role="option"] img.avatar').length`, &avatars)
	if avatars != 3 {
		t.Errorf("%d suggestions show an avatar, want 3", avatars)
	}
	carol.run(chromedp.SendKeys("#to", "i", chromedp.ByQuery))
	carol.waitFor(names + ` === 'alice'`)
	// Down picks alice, Enter writes to her.
	carol.run(chromedp.KeyEvent(kb.ArrowDown))
	carol.waitFor(`document.getElementById('to').getAttribute('aria-activedescendant') === 'to-suggestions-0'`)
	if status := carol.navigate(chromedp.KeyEvent(kb.Enter)); status != 200 {
		t.Fatalf("Enter: status %d", status)
	}
	var path string
	carol.eval(`location.pathname`, &path)
	if path != "/messages/alice" {
		t.Errorf("the name led to %s, want /messages/alice", path)
	}
}
