package web_test

import (
	"net/http"
	"net/url"
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
