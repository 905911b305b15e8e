package e2e

import (
	"strings"
	"testing"
)

// With JavaScript off, every form still works and every page load shows
// the right counts: natter renders them on the server.
func TestWithoutJavaScript(t *testing.T) {
	needChromium(t)
	srv := startServer(t)
	alice := newMember(t, srv, "alice")
	bob := newMember(t, srv, "bob")
	alice.disableScripts()
	bob.disableScripts()

	alice.register()
	var mode string
	alice.eval(`document.documentElement.dataset.liveMode || 'none'`, &mode)
	if mode != "none" {
		t.Fatalf("natter.js ran (live mode %q) although JavaScript is off", mode)
	}
	alice.post("Posted with JavaScript switched off.")
	if got := alice.postBodies(); len(got) != 1 || got[0] != "Posted with JavaScript switched off." {
		t.Errorf("alice's timeline shows %q", got)
	}
	bob.register()
	if got := bob.postBodies(); len(got) != 1 {
		t.Errorf("bob's timeline shows %q, want alice's post", got)
	}

	// A message: the badge shows 1 on bob's next page load, and is gone
	// after he has read it.
	alice.sendMessage("bob", "Hello bob, no scripts here.")
	bob.open("/index")
	if got := bob.badge("message_count"); got != "1" {
		t.Errorf("after alice's message bob's badge shows %q, want 1", got)
	}
	if got := bob.badge("activity_count"); got != "" {
		t.Errorf("after alice's message bob's notification badge shows %q, want it hidden (messages count once)", got)
	}
	bob.open("/messages")
	if got := bob.text("main .inbox-list .conversation"); !strings.Contains(got, "alice") || !strings.Contains(got, "Hello bob, no scripts here.") {
		t.Errorf("bob's messages page shows %q", got)
	}
	if got := bob.badge("message_count"); got != "" {
		t.Errorf("on the messages page the badge shows %q, want it hidden", got)
	}
	bob.open("/index")
	if got := bob.badge("message_count"); got != "" {
		t.Errorf("after reading, bob's badge shows %q, want it hidden", got)
	}

	// The reply box of a conversation.
	bob.open("/messages/alice")
	bob.fill("#message", "Hi alice, none here either.")
	bob.submit(`#reply button[type="submit"]`)
	if got := bob.text("main .conversation-thread"); !strings.Contains(got, "Hello bob, no scripts here.") || !strings.Contains(got, "Hi alice, none here either.") {
		t.Errorf("the conversation shows %q, want both messages", got)
	}
	alice.open("/index")
	if got := alice.badge("message_count"); got != "1" {
		t.Errorf("after bob's reply alice's badge shows %q, want 1", got)
	}
	alice.open("/messages/bob")
	alice.open("/index")
	if got := alice.badge("message_count"); got != "" {
		t.Errorf("after reading the conversation alice's badge shows %q, want it hidden", got)
	}

	// The notification centre's "Mark all read".
	alice.post("Thanks @bob, and no scripts.")
	bob.open("/activity")
	if got := bob.text("main .activity"); !strings.Contains(got, "alice mentioned you") || !strings.Contains(got, "Thanks @bob") {
		t.Errorf("bob's notifications show %q", got)
	}
	bob.submit(`form[action="/activity/read"] button`)
	if got := bob.badge("activity_count"); got != "" {
		t.Errorf("after 'Mark all read' the notification badge shows %q, want it hidden", got)
	}

	// The profile form, and blocking.
	bob.editProfile("I read the web with scripts off.")
	if got := bob.text(".profile .about-me"); got != "I read the web with scripts off." {
		t.Errorf("bob's profile says %q", got)
	}
	alice.open("/user/bob")
	if got := alice.text(".profile .about-me"); got != "I read the web with scripts off." {
		t.Errorf("alice sees bob's profile say %q", got)
	}
	alice.submit(`form[action="/user/bob/block"] button`)
	alice.wantFlash("You have blocked bob.")
	alice.submit(`form[action="/user/bob/unblock"] button`)
	alice.wantFlash("You have unblocked bob.")

	// Logging out and in again.
	alice.logout()
	alice.login()
}
