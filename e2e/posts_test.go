package e2e

import (
	"fmt"
	"strings"
	"testing"
)

// markDocumentJS marks the page, so that a reload would show.
const markDocumentJS = `(window.__sameDocument = true)`

// firstPostID is the id of the first post on the page, from its permalink.
func (tb *tab) firstPostID(within string) string {
	tb.b.t.Helper()
	var href string
	tb.eval(fmt.Sprintf(`document.querySelector(%q).getAttribute('href')`, within+" a.permalink"), &href)
	id, ok := strings.CutPrefix(href, "/post/")
	if !ok {
		tb.b.t.Fatalf("%s: the first post links to %q", tb.name, href)
	}
	return id
}

// What a member does with posts, in the browser: a reply in place from the
// timeline and a like in place, without a reload; an edit; a deletion
// through its confirmation page. Meanwhile the author's open page counts
// the notifications these bring, and loses them when the reply is deleted,
// live.
func TestPostActionsInBrowser(t *testing.T) {
	needChromium(t)
	srv := startServer(t)
	alice := newMember(t, srv, "alice")
	bob := newMember(t, srv, "bob")
	alice.register()
	bob.register()
	bob.post("Tea in the garden at four.")

	// bob keeps a page open; it counts live.
	bob.open("/edit-profile")
	bob.waitFor(`document.documentElement.dataset.liveConnected === 'true'`)
	if got := bob.badge("activity_count"); got != "" {
		t.Fatalf("bob's notification badge shows %q before anything happened", got)
	}

	alice.open("/index")
	var ok bool
	alice.eval(markDocumentJS, &ok)
	teaID := alice.firstPostID("main article.post")
	tea := fmt.Sprintf(`main article.post:has(a.permalink[href="/post/%s"])`, teaID)

	t.Run("ReplyInPlace", func(t *testing.T) {
		alice.run(chromedpClick(tea + " a.post-reply"))
		alice.waitVisible(tea + " form.reply-inline textarea")
		alice.fill(tea+" form.reply-inline textarea", "I'll bring scones.")
		alice.run(chromedpClick(tea + ` form.reply-inline button[type="submit"]`))
		// The reply appears under the post it answers, saying so.
		alice.waitFor(fmt.Sprintf(`(() => { const next = document.querySelector(%q).nextElementSibling;
			return next && next.matches('article.post') && next.textContent.includes("I'll bring scones.") &&
				next.textContent.includes('Replying to @bob'); })()`, tea))
		if got := alice.text(tea + " .reply-count"); got != "1" {
			t.Errorf("the post counts %q replies, want 1", got)
		}
		if alice.has(tea + " form.reply-inline") {
			t.Error("the reply form stayed open")
		}
		// bob hears of it at once.
		bob.waitFor(`document.getElementById('activity_count').textContent.trim() === '1' && !document.getElementById('activity_count').hidden`)
	})

	t.Run("ReplyRefusedKeepsText", func(t *testing.T) {
		alice.b.expect("/post/"+teaID+"/reply", 422)
		alice.run(chromedpClick(tea + " a.post-reply"))
		alice.run(chromedpClick(tea + ` form.reply-inline button[type="submit"]`))
		alice.waitFor(fmt.Sprintf(`document.querySelector(%q).textContent.includes('Write something first.')`, tea+" form.reply-inline .invalid-feedback"))
		alice.run(chromedpClick(tea + " form.reply-inline .reply-cancel"))
		if alice.has(tea + " form.reply-inline") {
			t.Error("Cancel left the reply form open")
		}
	})

	t.Run("LikeInPlace", func(t *testing.T) {
		alice.run(chromedpClick(tea + " form.like-form button"))
		alice.waitFor(fmt.Sprintf(`(() => { const b = document.querySelector(%q);
			return b.getAttribute('aria-pressed') === 'true' && b.querySelector('.like-count').textContent === '1'; })()`, tea+" form.like-form button"))
		bob.waitFor(`document.getElementById('activity_count').textContent.trim() === '2'`)
		// Undone with another click.
		alice.run(chromedpClick(tea + " form.like-form button"))
		alice.waitFor(fmt.Sprintf(`(() => { const b = document.querySelector(%q);
			return b.getAttribute('aria-pressed') === 'false' && b.querySelector('.like-count').textContent === '0'; })()`, tea+" form.like-form button"))
		bob.waitFor(`document.getElementById('activity_count').textContent.trim() === '1'`)
		alice.run(chromedpClick(tea + " form.like-form button"))
		bob.waitFor(`document.getElementById('activity_count').textContent.trim() === '2'`)
		var same bool
		alice.eval(`window.__sameDocument === true`, &same)
		if !same {
			t.Error("alice's page was reloaded: replying and liking should happen in place")
		}
	})

	// The reply is the newest post: first on the timeline.
	alice.open("/index")
	replyID := alice.firstPostID("main article.post")
	alice.b.expect("/post/"+replyID, 410)

	t.Run("Edit", func(t *testing.T) {
		alice.open("/post/" + replyID + "/edit")
		alice.fill("#body", "I'll bring scones and jam.")
		alice.submit(`main form button[type="submit"]`)
		alice.wantFlash("Your post is updated.")
		if got := alice.text("main .thread-post article.post .post-body"); got != "I'll bring scones and jam." {
			t.Errorf("the edited post reads %q", got)
		}
		if !alice.has("main .thread-post article.post .edited-mark") || !alice.has("#versions") {
			t.Error("the edited post shows no edited mark or no earlier versions")
		}
		alice.run(chromedpClick("#versions summary"))
		if got := alice.text("#versions li"); !strings.Contains(got, "I'll bring scones.") {
			t.Errorf("the earlier version reads %q", got)
		}
	})

	t.Run("DeleteWithdrawsLive", func(t *testing.T) {
		alice.open("/post/" + replyID)
		alice.navigate(chromedpClick(`main .thread-post article.post a[href$="/delete"]`))
		if got := alice.text("main h1"); got != "Delete this post?" {
			t.Fatalf("the delete link leads to %q", got)
		}
		alice.submit(`main form button.btn-danger`)
		alice.wantFlash("Your post was deleted.")
		if strings.Contains(alice.text("main"), "scones") {
			t.Error("the timeline still shows the deleted reply")
		}
		// bob's open page loses the reply's notification, live; the
		// like's stays.
		bob.waitFor(`document.getElementById('activity_count').textContent.trim() === '1'`)
		alice.openStatus("/post/"+replyID, 410)
		if got := alice.text("main .post-deleted"); !strings.Contains(got, "deleted") {
			t.Errorf("the deleted post's page says %q", got)
		}
	})
}

// Without JavaScript the same actions are forms: a like posts and comes
// back to the page, a reply is written on the post's page, a deletion is
// confirmed on a page of its own.
func TestPostActionsWithoutJavaScript(t *testing.T) {
	needChromium(t)
	srv := startServer(t)
	bob := srv.seedMember(t, "bob", "")
	bob.post("Scripts off today?")
	alice := newMember(t, srv, "alice")
	alice.disableScripts()
	alice.register()

	post := `main article.post:has(a.permalink[href="/post/1"])`
	alice.submit(post + " form.like-form button")
	if got := alice.text(post + " .like-count"); got != "1" {
		t.Errorf("after the like the count reads %q, want 1", got)
	}
	var pressed string
	alice.eval(`document.querySelector('`+post+` form.like-form button').getAttribute('aria-pressed')`, &pressed)
	if pressed != "true" {
		t.Errorf("the like button is aria-pressed=%q, want true", pressed)
	}

	// Reply: the link leads to the post's page and its form.
	alice.navigate(chromedpClick(post + " a.post-reply"))
	alice.fill("#reply textarea", "Yes, all forms.")
	alice.submit(`#reply button[type="submit"]`)
	alice.wantFlash("Your reply is posted.")
	if got := alice.text("main .thread-replies"); !strings.Contains(got, "Yes, all forms.") {
		t.Errorf("the thread's replies read %q", got)
	}

	// Delete the reply, confirmed on its page.
	alice.navigate(chromedpClick(`main .thread-replies article.post a[href$="/delete"]`))
	alice.submit(`main form button.btn-danger`)
	alice.wantFlash("Your post was deleted.")
	if strings.Contains(alice.text("main"), "Yes, all forms.") {
		t.Error("the deleted reply is still on the timeline")
	}
}
