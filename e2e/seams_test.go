package e2e

import (
	"testing"
)

// What showed at the seams where six branches' pages, templates and CSS
// met, found by looking at every page at phone width: no page is wider
// than the phone, the settings tabs stay one row, the notification
// settings' email choices can be read whole, and a message's line break
// is one line break, not an empty line.
func TestPhoneSeams(t *testing.T) {
	needChromium(t)
	srv := startServer(t)
	alice := srv.seedMember(t, "alice", "Beekeeper, amateur astronomer.")
	bob := srv.seedMember(t, "bob", "")
	bob.post("A long word for narrow screens: supercalifragilisticexpialidocious-unbreakablewordwordword")
	bob.send("alice", "Are you coming on Thursday?\nBring the clock.")

	b := newBrowser(t, srv, "alice")
	tb := b.main
	tb.logIn(alice)
	small := viewport{"small phone", 360, 740, 1, true}
	pages := []string{"/index", "/post/1", "/user/bob", "/edit-profile", "/messages", "/messages/bob",
		"/new-message", "/send-message/bob", "/activity", "/settings/account", "/settings/sessions",
		"/settings/notifications"}
	for _, v := range []viewport{phone, small} {
		tb.run(v.emulate())
		for _, path := range pages {
			tb.open(path)
			where := path + " at " + v.name + " width"
			var wide bool
			tb.eval(`document.documentElement.scrollWidth > document.documentElement.clientWidth`, &wide)
			if wide {
				t.Errorf("%s: the page is wider than the screen", where)
			}
			if !tb.has("main .nav-tabs") {
				continue
			}
			var rows int
			tb.eval(`new Set([...document.querySelectorAll('main .nav-tabs .nav-link')].map(a => Math.round(a.getBoundingClientRect().top))).size`, &rows)
			if rows != 1 {
				t.Errorf("%s: the settings tabs are in %d rows, want 1", where, rows)
			}
		}
	}

	// The email choices: the longest option's text fits its select.
	tb.run(phone.emulate())
	tb.open("/settings/notifications")
	var cut []string
	tb.eval(`(() => {
		const ctx = document.createElement('canvas').getContext('2d');
		return [...document.querySelectorAll('main table select')].filter(s => {
			const cs = getComputedStyle(s);
			ctx.font = cs.font;
			const text = Math.max(...[...s.options].map(o => ctx.measureText(o.text).width));
			return text + parseFloat(cs.paddingLeft) + parseFloat(cs.paddingRight) > s.clientWidth + 0.5;
		}).map(s => s.id);
	})()`, &cut)
	if len(cut) > 0 {
		t.Errorf("at phone width the email choices %v are too narrow for their options", cut)
	}

	// A message of two lines takes two lines in its bubble.
	tb.open("/messages/bob")
	var lines int
	tb.eval(`(() => {
		const p = document.querySelector('.message.theirs .post-body');
		return Math.round(p.getBoundingClientRect().height / parseFloat(getComputedStyle(p).lineHeight));
	})()`, &lines)
	if lines != 2 {
		t.Errorf("a message of two lines takes %d lines in its bubble", lines)
	}
}

// A site with a long name (-site-name) keeps its navbar one row at 360 px,
// logged out and in: the name is truncated, not "Log in" broken in two,
// and no page is wider than the phone.
func TestLongSiteNameNavbar(t *testing.T) {
	needChromium(t)
	srv := startServer(t, "-site-name", "The Elm Street Neighbourhood Association Community Board")
	alice := srv.seedMember(t, "alice", "")
	srv.seedMember(t, "bob", "").send("alice", "Hi!")
	b := newBrowser(t, srv, "alice")
	tb := b.main
	tb.run(viewport{"small phone", 360, 740, 1, true}.emulate())
	check := func(path string) {
		t.Helper()
		tb.open(path)
		checkOneRow(t, tb, path)
		var wide bool
		tb.eval(`document.documentElement.scrollWidth > document.documentElement.clientWidth`, &wide)
		if wide {
			t.Errorf("%s: the page is wider than the screen", path)
		}
	}
	check("/")
	check("/login")
	tb.logIn(alice)
	check("/index")
	check("/messages")
}
