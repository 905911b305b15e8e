package e2e

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// rect is an element's bounding box in viewport coordinates.
type rect struct{ Left, Top, Right, Bottom, Height float64 }

func (a rect) overlaps(b rect) bool {
	return a.Left < b.Right && b.Left < a.Right && a.Top < b.Bottom && b.Top < a.Bottom
}

// rectOf returns the bounding box of the first element matching sel.
func (tb *tab) rectOf(sel string) rect {
	tb.b.t.Helper()
	var r rect
	tb.eval(`(() => { const r = document.querySelector(`+jsString(sel)+`).getBoundingClientRect();
		return {Left: r.left, Top: r.top, Right: r.right, Bottom: r.bottom, Height: r.height}; })()`, &r)
	return r
}

// The hover card opens on an avatar as on a name, says when the member
// joined and how many posts they have, and never covers the text box the
// member is typing in: above it would, so it goes below.
func TestHoverCardOnAvatar(t *testing.T) {
	needChromium(t)
	srv := startServer(t)
	members := seedTimeline(t, srv)
	alice := newMember(t, srv, "alice")
	alice.register()
	alice.open("/index")

	const card = `.popover.user-popover`
	const avatar = `article.post a.avatar-link[href="/user/dave"]` // the newest post, just under the form
	closeCard := func() {
		alice.run(alice.mouseTo(1270, 790))
		alice.waitFor(`document.querySelectorAll('.popover').length === 0`)
	}

	// No field focused: the card goes above the avatar, as always.
	var ok bool
	alice.eval(`(document.activeElement.blur(), true)`, &ok)
	x, y := alice.centre(avatar)
	alice.run(alice.mouseTo(x, y))
	alice.waitVisible(card)
	text := alice.text(card)
	for _, want := range []string{"dave", "Dave bakes sourdough on Sundays.", "Joined", "1 post", "Last seen"} {
		if !strings.Contains(text, want) {
			t.Errorf("the card says %q, want it to contain %q", text, want)
		}
	}
	tip, av := alice.rectOf(card), alice.rectOf(avatar)
	if tip.Bottom > av.Top {
		t.Errorf("with no field focused the card (%+v) is not above the avatar (%+v)", tip, av)
	}
	if alice.count(card) != 1 {
		t.Errorf("%d cards open, want 1", alice.count(card))
	}
	closeCard()

	// Typing a post: above the avatar the card would cover the text box.
	alice.fill("#body", "Half a thought about sourdough")
	x, y = alice.centre(avatar)
	field, av := alice.rectOf("#body"), alice.rectOf(avatar)
	if av.Top-8-tip.Height >= field.Bottom {
		t.Fatalf("the card (%.0f px) fits between the text box (bottom %.0f) and the avatar (top %.0f): the page no longer tests what it should",
			tip.Height, field.Bottom, av.Top)
	}
	alice.run(alice.mouseTo(x, y))
	alice.waitVisible(card)
	tip = alice.rectOf(card)
	if tip.overlaps(field) {
		t.Errorf("the card %+v covers the focused text box %+v", tip, field)
	}
	if tip.Top < av.Bottom {
		t.Errorf("the card %+v is not below the avatar %+v", tip, av)
	}
	var focused bool
	alice.eval(`document.activeElement.id === 'body'`, &focused)
	if !focused {
		t.Error("showing the card took the focus from the text box")
	}
	closeCard()

	// In the inbox too.
	members["carol"].send("alice", "Chess on Thursday?")
	alice.open("/messages")
	x, y = alice.centre(`li.conversation img.avatar`)
	alice.run(alice.mouseTo(x, y))
	alice.waitVisible(card)
	if text := alice.text(card); !strings.Contains(text, "Carol runs the Thursday chess club.") {
		t.Errorf("the card on the inbox's avatar says %q, want carol's", text)
	}
}

// A post written while the session ended elsewhere is not lost: the
// submit leads to the login page, and after logging in the text is back
// in the form; posting it clears the draft.
func TestDraftRestoredAfterRelogin(t *testing.T) {
	needChromium(t)
	srv := startServer(t)
	alice := newMember(t, srv, "alice")
	// The page's stream and its polling bridge are told the session ended.
	alice.b.expect("/events", http.StatusUnauthorized)
	alice.b.expect("/notifications", http.StatusUnauthorized)
	alice.register()
	alice.open("/index")
	const draft = "A long thought I do not want to type twice."
	alice.fill("#body", draft)

	// Alice, on another device, logs out every other session.
	jar, _ := cookiejar.New(nil)
	other := &httpMember{t: t, srv: srv, name: "alice", hc: &http.Client{Jar: jar, Timeout: 20 * time.Second}}
	other.submit("/login", url.Values{"username": {"alice"}, "password": {password}})
	other.submit("/settings/sessions/logout-others", nil)

	alice.submit(`form[action="/index"] button[type="submit"]`)
	if got := alice.text("main h1"); got != "Log in" {
		t.Fatalf("posting after the session ended shows %q, want the login page", got)
	}
	alice.fill("#username", "alice")
	alice.fill("#password", password)
	alice.submit(`main button[type="submit"]`)
	if got := alice.text("main h1"); got != "Hi, alice!" {
		t.Fatalf("after logging in again the page says %q, want the timeline", got)
	}
	alice.waitFor(`document.querySelector('#body').value === ` + jsString(draft))
	if !alice.has(".draft-note") {
		t.Error("the page does not say the text was restored")
	}

	alice.submit(`form[action="/index"] button[type="submit"]`)
	alice.wantFlash("Your post is now live!")
	if got := alice.text("article.post .post-body"); got != draft {
		t.Errorf("the newest post says %q, want the draft", got)
	}
	alice.open("/index")
	var value string
	alice.eval(`document.querySelector('#body').value`, &value)
	if value != "" || alice.has(".draft-note") {
		t.Errorf("after posting, the form holds %q (note shown: %v), want it empty", value, alice.has(".draft-note"))
	}

	// Logging out on purpose forgets the drafts (the computer may be shared).
	alice.fill("#body", "Not for the next person at this computer")
	alice.logout()
	var left int
	alice.eval(`Object.keys(localStorage).filter(k => k.startsWith('natter-draft:')).length`, &left)
	if left != 0 {
		t.Errorf("%d drafts left in the browser after logging out", left)
	}
}

// A refused form puts the focus on its first field with an error, which
// is described by its hint and its error; the hints were there before.
func TestFocusFirstInvalidField(t *testing.T) {
	needChromium(t)
	srv := startServer(t)
	b := newMember(t, srv, "carol")
	b.b.expect("/register", http.StatusUnprocessableEntity)
	b.open("/register")
	if hint := b.text("#password-hint"); !strings.Contains(hint, "At least 8 characters") {
		t.Errorf("the password hint says %q before any submit", hint)
	}
	if hint := b.text("#username-hint"); !strings.Contains(hint, "letters A–Z") {
		t.Errorf("the username hint says %q before any submit", hint)
	}
	b.fill("#username", "carol")
	b.fill("#email", "carol@example.com")
	b.fill("#password", "short")
	b.fill("#confirm_password", "short")
	if got := b.navigate(chromedpClick(`main button[type="submit"]`)); got != http.StatusUnprocessableEntity {
		t.Fatalf("a short password: status %d, want 422", got)
	}
	b.waitFor(`document.activeElement && document.activeElement.id === 'password'`)
	var describedBy string
	b.run(chromedp.AttributeValue("#password", "aria-describedby", &describedBy, nil, chromedp.ByQuery))
	if ids := strings.Fields(describedBy); len(ids) != 2 || ids[0] != "password-hint" || ids[1] != "password-error" {
		t.Errorf("the refused password is described by %q, want its hint and its error", describedBy)
	}
}
