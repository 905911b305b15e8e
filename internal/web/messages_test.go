package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"natter/internal/app"
)

// Sending a private message: the seed's /send-message/{recipient} with its
// field message, its redirect to the recipient's profile and its flash.
func TestSendMessage(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice, bob := s.register(t, "alice"), s.register(t, "bob")

	t.Run("OK", func(t *testing.T) {
		form := alice.page(t, "/send-message/bob")
		form.formTo("/send-message/bob")
		if e := form.byID("message"); e.Tag != "textarea" || e.Attr["name"] != "message" {
			t.Errorf("the form has no message field")
		}
		r := alice.postForm(t, "/send-message/bob", url.Values{"message": {"Hi Bob!"}})
		r.wantRedirect("/messages/bob")
		// The member goes on in the conversation, the message in it.
		alice.follow(t, r).wantText("Your message has been sent.", "Hi Bob!")
		alice.page(t, "/messages/bob").wantNoText("Your message has been sent.") // a flash shows once
		if n, _ := bob.badges(t); n != 1 {
			t.Errorf("bob's badge shows %d, want 1", n)
		}
	})

	// The recipient may be named in any case; the redirect names them as
	// they are registered.
	t.Run("OKRecipientAnyCase", func(t *testing.T) {
		alice.postForm(t, "/send-message/BOB", url.Values{"message": {"Hi again"}}).wantRedirect("/messages/bob")
	})

	t.Run("ErrUnknownRecipient", func(t *testing.T) {
		alice.get(t, "/send-message/nobody").wantStatus(http.StatusNotFound).wantText(`There is no member called "nobody".`)
		alice.postForm(t, "/send-message/nobody", url.Values{"message": {"hello?"}}).wantStatus(http.StatusNotFound)
	})

	for _, tt := range []struct {
		name, to, message, want string
	}{
		{"ErrBlank", "bob", "", "Write a message first."},
		{"ErrWhitespace", "bob", " \r\n ", "Write a message first."},
		{"ErrTooLong", "bob", strings.Repeat("ü", 141), "Keep it to 140 characters (this is 141)."},
		{"ErrToYourself", "alice", "note to self", "You cannot send a message to yourself."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := bob.badges(t)
			r := alice.postForm(t, "/send-message/"+tt.to, url.Values{"message": {tt.message}})
			r.wantStatus(http.StatusUnprocessableEntity)
			if got := r.fieldError("message"); got != tt.want {
				t.Errorf("error %q, want %q", got, tt.want)
			}
			if got := r.fieldValue("message"); got != tt.message {
				t.Errorf("the form holds %q, want the message as typed", got)
			}
			if after, _ := bob.badges(t); after != before {
				t.Errorf("bob's badge went from %d to %d", before, after)
			}
		})
	}
}

// The unread badge, id="message_count", is on every page, hidden when the
// count is 0, so that live updates have somewhere to show.
func TestMessageBadge(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice, bob := s.register(t, "alice"), s.register(t, "bob")
	alice.post(t, "so that the lists are not empty")
	pages := []string{"/", "/index", "/user/alice", "/user/bob", "/edit-profile", "/send-message/alice",
		"/new-message", "/activity", "/logout", "/nowhere"}

	for _, path := range pages {
		r := bob.get(t, path)
		if n := r.badge("message_count"); n != 0 {
			t.Errorf("%s: badge %d, want 0", path, n)
		}
	}
	// The page's script finds each badge by the notification it shows,
	// and announces changes to screen readers.
	r := bob.page(t, "/")
	for id, name := range map[string]string{"message_count": "unread_message_count", "activity_count": "unread_activity_count"} {
		if got := r.byID(id).Attr["data-notification"]; got != name {
			t.Errorf("#%s shows %q, want %q", id, got, name)
		}
	}
	if live := r.byID("live-announcer"); live.Attr["aria-live"] != "polite" {
		t.Errorf("no aria-live region for badge changes")
	}
	alice.send(t, bob, "one")
	alice.send(t, bob, "two")
	for _, path := range pages {
		r := bob.get(t, path)
		if n := r.badge("message_count"); n != 2 {
			t.Errorf("%s: badge %d, want 2", path, n)
		}
	}
	// Sending counts nothing for the sender.
	if n, _ := alice.badges(t); n != 0 {
		t.Errorf("alice's badge %d, want 0", n)
	}
	// The tab says so too, without JavaScript: the count in the title and a
	// dot on the icon; with nothing unread, neither.
	wantTab := func(m *member, title string, dot bool) {
		t.Helper()
		r := m.page(t, "/")
		if got := findTag(r.Body, "title"); len(got) != 1 || got[0].Text() != title {
			t.Errorf("%s's title %v, want %q", m.name, got, title)
		}
		for _, link := range findTag(r.Body, "link") {
			if link.Attr["rel"] == "icon" && strings.Contains(link.Attr["href"], "favicon-unread") != dot {
				t.Errorf("%s's icon %q, want the dot: %v", m.name, link.Attr["href"], dot)
			}
		}
	}
	wantTab(bob, "(2) Home · natter", true)
	wantTab(alice, "Home · natter", false)
}

// /messages: the messages received, newest first, paginated; seeing a page
// reads the messages on it (the seed's rule), not those on pages unseen.
func TestReadMessages(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{App: app.Config{PostsPerPage: 3}})
	alice, bob, carol := s.register(t, "alice"), s.register(t, "bob"), s.register(t, "carol")
	alice.send(t, bob, "m1")
	alice.send(t, bob, "m2")
	carol.send(t, bob, "c1")
	alice.send(t, bob, "m3")
	alice.send(t, bob, "m4")
	bob.send(t, alice, "sent by bob") // not received: not listed

	t.Run("ErrBadPageKeepsCount", func(t *testing.T) {
		for _, page := range []string{"0", "-3", "1000001"} {
			bob.get(t, "/messages?page="+page).wantStatus(http.StatusBadRequest)
		}
		if n, _ := bob.badges(t); n != 5 {
			t.Errorf("badge %d after bad pages, want 5", n)
		}
		if n := bob.notification(t, "unread_message_count"); n != 5 {
			t.Errorf("unread_message_count %v, want 5", n)
		}
	})

	t.Run("OK", func(t *testing.T) {
		r := bob.page(t, "/messages")
		if got, want := r.texts("post-body"), []string{"m4", "m3", "c1"}; !slices.Equal(got, want) {
			t.Errorf("messages %q, want %q", got, want)
		}
		// Shown by conversation: alice's row holds m4 and m3, with her
		// avatar and a link to the conversation; carol's holds c1.
		rows := findClass(r.Body, "conversation")
		if len(rows) != 2 {
			t.Fatalf("%d rows, want alice's and carol's", len(rows))
		}
		if img := findTag(rows[0].Inner, "img"); img[0].Attr["src"] != fmt.Sprintf("/avatar/%d", alice.user(t).ID) {
			t.Errorf("the newest row has no avatar of alice")
		}
		// (The row's first link is the avatar's, to the profile.)
		if a := findClass(rows[0].Inner, "conversation-link"); len(a) != 1 || a[0].Attr["href"] != "/messages/alice" || a[0].Text() != "alice" {
			t.Errorf("the newest row's conversation links are %v; want one to alice's conversation", a)
		}
		if got := r.link("next"); got != "/messages?page=2" {
			t.Errorf("older messages link %q", got)
		}
		// Shown as new, which they were until now.
		if n := len(findClass(r.Body, "unread-mark")); n != 3 {
			t.Errorf("%d messages marked new, want 3", n)
		}
		// The page itself already shows them read; m2 and m1, on page
		// 2, were not seen.
		if n := r.badge("message_count"); n != 2 {
			t.Errorf("the messages page shows a badge of %d, want 2", n)
		}
		if n, _ := bob.badges(t); n != 2 {
			t.Errorf("badge %d after reading, want 2", n)
		}
		if n := bob.notification(t, "unread_message_count"); n != 2 {
			t.Errorf("unread_message_count %v after reading, want 2", n)
		}
		if n := len(findClass(bob.page(t, "/messages").Body, "unread-mark")); n != 0 {
			t.Errorf("%d messages marked new on the page seen again, want none", n)
		}
	})

	t.Run("OKPage2", func(t *testing.T) {
		alice.send(t, bob, "m5")
		r := bob.page(t, "/messages?page=2")
		if got, want := r.texts("post-body"), []string{"c1", "m2", "m1"}; !slices.Equal(got, want) {
			t.Errorf("page 2: messages %q, want %q", got, want)
		}
		if got := r.link("prev"); got != "/messages" {
			t.Errorf("newer messages link %q", got)
		}
		// The seed's 500 is gone; page 2 reads m2 and m1, and m5, which
		// arrived on page 1 meanwhile, is still unread.
		if n, _ := bob.badges(t); n != 1 {
			t.Errorf("badge %d after page 2, want 1", n)
		}
	})

	t.Run("Empty", func(t *testing.T) {
		// A member who has written but received nothing sees the
		// conversation begun; one with neither, what to do next.
		carol.page(t, "/messages").wantText("bob · just now You: c1")
		s.register(t, "dave").page(t, "/messages").wantText("No messages yet.", "Write to someone with New message").linkTo("/new-message")
	})
}

// Issue 10: with 12 unread, the first page shows 10 and marks those read;
// the badge shows the 2 never seen, on the page, in /notifications and on
// the stream, and the second page reads them.
func TestMessagesPageReadsWhatItShows(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice, bob := s.register(t, "alice"), s.register(t, "bob")
	for i := range 12 {
		alice.send(t, bob, fmt.Sprintf("m%d", i+1))
	}
	stream := bob.openStream(t, strconv.FormatInt(bob.user(t).NotificationSeq, 10))
	r := bob.page(t, "/messages")
	if got := r.texts("post-body"); len(got) != 10 || got[0] != "m12" || got[9] != "m3" {
		t.Errorf("page 1 = %q, want m12 to m3", got)
	}
	if n := r.badge("message_count"); n != 2 {
		t.Errorf("page 1 shows a badge of %d, want 2", n)
	}
	if ev := stream.nextNamed("unread_message_count"); ev.count(t) != 2 {
		t.Errorf("the stream says %v, want 2", ev)
	}
	if n := bob.notification(t, "unread_message_count"); n != 2 {
		t.Errorf("/notifications says %v, want 2", n)
	}
	if n, _ := bob.badges(t); n != 2 {
		t.Errorf("a fresh page's badge %d, want 2", n)
	}
	if got := bob.page(t, "/messages?page=2").texts("badge"); !slices.Contains(got, "2 new") {
		t.Errorf("page 2's badges %q, want alice's 2 new", got)
	}
	if ev := stream.nextNamed("unread_message_count"); ev.count(t) != 0 {
		t.Errorf("after page 2 the stream says %v, want 0", ev)
	}
}

// Reading a conversation lowers the count everywhere at once: the page's
// badge, /notifications, the event stream of another open tab, and every
// later page.
func TestConversationCountsAgree(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice, bob, carol := s.register(t, "alice"), s.register(t, "bob"), s.register(t, "carol")
	alice.send(t, bob, "a1")
	carol.send(t, bob, "c1")
	alice.send(t, bob, "a2")
	carol.post(t, "@bob see this")
	otherTab := bob.openStream(t, strconv.FormatInt(bob.user(t).NotificationSeq, 10))

	r := bob.page(t, "/messages/alice").wantText("a1", "a2")
	if n := r.badge("message_count"); n != 1 {
		t.Errorf("the conversation's badge %d, want 1 (carol's)", n)
	}
	if ev := otherTab.next(); ev.Name != "unread_message_count" || ev.count(t) != 1 {
		t.Errorf("the other tab heard %v, want unread_message_count 1", ev)
	}
	if n := bob.notification(t, "unread_message_count"); n != 1 {
		t.Errorf("/notifications says %v, want 1", n)
	}
	// The centre, which counts no messages, is untouched.
	if m, a := bob.badges(t); m != 1 || a != 1 {
		t.Errorf("badges %d and %d, want 1 and 1", m, a)
	}
	if n := bob.notification(t, "unread_activity_count"); n != 1 {
		t.Errorf("unread_activity_count %v, want 1", n)
	}

	// Replying from the conversation, then reading carol's through the
	// reply's page, keeps them in step too.
	bob.follow(t, bob.postForm(t, "/messages/carol", url.Values{"message": {"hi carol"}}))
	if ev := otherTab.next(); ev.Name != "unread_message_count" || ev.count(t) != 0 {
		t.Errorf("the other tab heard %v, want unread_message_count 0", ev)
	}
	if m, _ := bob.badges(t); m != 0 || bob.notification(t, "unread_message_count") != 0 {
		t.Errorf("badge %d, /notifications %v; want 0, 0", m, bob.notification(t, "unread_message_count"))
	}
	// Opening the mention's post reads the centre's entry, as promptly.
	bob.page(t, fmt.Sprintf("/post/%d", newestPost(t, s).ID))
	if ev := otherTab.next(); ev.Name != "unread_activity_count" || ev.count(t) != 0 {
		t.Errorf("the other tab heard %v, want unread_activity_count 0", ev)
	}
	if _, a := bob.badges(t); a != 0 {
		t.Errorf("activity badge %d, want 0", a)
	}
}

// Conversations: one row per member one has exchanged messages with; a
// conversation shows both sides, oldest first, and reading it reads only it.
func TestConversations(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice, bob, carol := s.register(t, "alice"), s.register(t, "bob"), s.register(t, "carol")
	alice.send(t, bob, "Hi Bob")
	bob.send(t, alice, "Hi Alice")
	alice.send(t, bob, "How are you?")
	carol.send(t, bob, "Hello from Carol")

	t.Run("Conversation", func(t *testing.T) {
		r := bob.page(t, "/messages/Alice")
		// Bubbles: bob's own on one side, alice's on the other, each
		// saying to screen readers who wrote it and when; the last of a
		// run of one side shows the sender's avatar.
		var got []string
		for _, m := range findClass(r.Body, "message") {
			said := findClass(m.Inner, "visually-hidden")[0].Text()
			who, _, _ := strings.Cut(said, ",")
			body := findClass(m.Inner, "post-body")[0]
			if body.Attr["dir"] != "auto" {
				t.Errorf("message %q has no dir=auto", body.Text())
			}
			got = append(got, fmt.Sprintf("%s: %s mine=%v theirs=%v avatar=%s", who, body.Text(), m.HasClass("mine"), m.HasClass("theirs"), findTag(m.Inner, "img")[0].Attr["src"]))
		}
		a, b := fmt.Sprintf("/avatar/%d", alice.user(t).ID), fmt.Sprintf("/avatar/%d", bob.user(t).ID)
		want := []string{
			"alice: Hi Bob mine=false theirs=true avatar=" + a,
			"You: Hi Alice mine=true theirs=false avatar=" + b,
			"alice: How are you? mine=false theirs=true avatar=" + a,
		}
		if !slices.Equal(got, want) {
			t.Errorf("conversation\n%q\nwant\n%q", got, want)
		}
		// One day, today, and each message's full time on hover.
		if days := r.texts("day-separator"); !slices.Equal(days, []string{"Today"}) {
			t.Errorf("day separators %q, want [Today]", days)
		}
		for _, tm := range findClass(r.Body, "message-time") {
			if !strings.HasSuffix(tm.Attr["title"], " UTC") || tm.Attr["datetime"] == "" {
				t.Errorf("a message's time has title %q, datetime %q", tm.Attr["title"], tm.Attr["datetime"])
			}
		}
		// Opening it read alice's messages, not carol's.
		if n := r.badge("message_count"); n != 1 {
			t.Errorf("badge on the conversation %d, want 1", n)
		}
		if n := bob.notification(t, "unread_message_count"); n != 1 {
			t.Errorf("unread_message_count %v, want 1", n)
		}
	})

	t.Run("Reply", func(t *testing.T) {
		r := bob.page(t, "/messages/alice")
		form := r.formTo("/messages/alice")
		if !strings.Contains(form.Inner, `name="message"`) {
			t.Error("the reply box has no message field")
		}
		r = bob.postForm(t, "/messages/alice", url.Values{"message": {"Fine, thanks"}})
		r.wantStatus(http.StatusSeeOther)
		loc := r.Header.Get("Location")
		if !strings.HasPrefix(loc, "/messages/alice#m") {
			t.Fatalf("reply redirects to %q, want the conversation at the new message", loc)
		}
		thread := bob.follow(t, r)
		if m := thread.byID(strings.TrimPrefix(loc, "/messages/alice#")); !m.HasClass("mine") || findClass(m.Inner, "post-body")[0].Text() != "Fine, thanks" {
			t.Errorf("the new message reads %q (mine: %v)", m.Text(), m.HasClass("mine"))
		}
		if n, _ := alice.badges(t); n != 2 {
			t.Errorf("alice's badge %d, want 2", n)
		}
		// Alice sees the whole exchange, her own messages included.
		got := alice.page(t, "/messages/bob").texts("post-body")
		if want := []string{"Hi Bob", "Hi Alice", "How are you?", "Fine, thanks"}; !slices.Equal(got, want) {
			t.Errorf("alice's conversation %q, want %q", got, want)
		}
	})

	t.Run("ErrReply", func(t *testing.T) {
		r := bob.postForm(t, "/messages/alice", url.Values{"message": {"  "}})
		r.wantStatus(http.StatusUnprocessableEntity)
		if got := r.fieldError("message"); got != "Write a message first." {
			t.Errorf("error %q", got)
		}
		r.wantText("Hi Bob", "Fine, thanks") // the thread is still there
	})

	t.Run("ErrNoSuchConversation", func(t *testing.T) {
		bob.get(t, "/messages/nobody").wantStatus(http.StatusNotFound)
		bob.get(t, "/messages/bob").wantStatus(http.StatusNotFound)
		bob.postForm(t, "/messages/nobody", url.Values{"message": {"hi"}}).wantStatus(http.StatusNotFound)
	})

	t.Run("Empty", func(t *testing.T) {
		dave := s.register(t, "dave")
		dave.page(t, "/messages/alice").wantText("No messages yet. You and alice have not written to each other.", "Say hello below")
	})
}

// A member can block another from their profile: the blocked member can no
// longer message them nor notify them by mentions, until unblocked.
func TestBlock(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice, bob, carol := s.register(t, "alice"), s.register(t, "bob"), s.register(t, "carol")

	r := bob.postForm(t, "/user/alice/block", nil)
	r.wantRedirect("/user/alice")
	profile := bob.follow(t, r).wantText("You have blocked alice.", "Blocked")
	profile.formTo("/user/alice/unblock")
	if profile.has("/send-message/alice") {
		t.Error("the profile of a blocked member still offers to message them")
	}

	since := now(bob.notifications(t, "0"))
	r = alice.postForm(t, "/send-message/bob", url.Values{"message": {"let me in"}})
	r.wantStatus(http.StatusForbidden).wantText("bob is not accepting messages from you.")
	if r.fieldValue("message") != "let me in" {
		t.Error("the refused message is not kept in the form")
	}
	alice.postForm(t, "/messages/bob", url.Values{"message": {"let me in"}}).
		wantStatus(http.StatusForbidden).wantText("bob is not accepting messages from you.")
	alice.page(t, "/messages/bob").wantText("bob is not accepting messages from you.")
	alice.post(t, "Hey @bob, look at this")

	// Nothing reached bob: no message, no count, no notification at all.
	if m, a := bob.badges(t); m != 0 || a != 0 {
		t.Errorf("bob's badges %d and %d, want 0 and 0", m, a)
	}
	if got := bob.notifications(t, since); len(got) != 0 {
		t.Errorf("bob was notified: %v", got)
	}
	bob.page(t, "/messages").wantNoText("let me in")
	bob.page(t, "/activity").wantNoText("look at this")

	// The block is bob's alone: carol still reaches him.
	carol.post(t, "Hello @bob")
	if _, a := bob.badges(t); a != 1 {
		t.Errorf("bob's notifications badge %d after carol's mention, want 1", a)
	}

	t.Run("Unblock", func(t *testing.T) {
		r := bob.postForm(t, "/user/alice/unblock", nil)
		r.wantRedirect("/user/alice")
		bob.follow(t, r).wantText("You have unblocked alice.").linkTo("/send-message/alice")
		alice.send(t, bob, "thanks")
		alice.post(t, "@bob thanks")
		if m, a := bob.badges(t); m != 1 || a != 2 {
			t.Errorf("bob's badges %d and %d, want 1 and 2", m, a)
		}
	})

	t.Run("ErrBlockYourself", func(t *testing.T) {
		bob.postForm(t, "/user/bob/block", nil).wantStatus(http.StatusForbidden)
	})
	t.Run("ErrUnknown", func(t *testing.T) {
		bob.postForm(t, "/user/nobody/block", nil).wantStatus(http.StatusNotFound)
	})
}

// now returns the newest timestamp of a /notifications list, as the seed's
// page keeps it for its next poll ("0" when the list is empty).
func now(list []map[string]any) string {
	since := 0.0
	for _, n := range list {
		since = max(since, n["timestamp"].(float64))
	}
	return fmt.Sprint(since)
}

// Sending is limited per member; over the limit, a clear refusal and nothing
// sent.
func TestSendRateLimit(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{App: app.Config{SendPerMember: app.Limit{Events: 2, Per: time.Hour}}})
	alice, bob, carol := s.register(t, "alice"), s.register(t, "bob"), s.register(t, "carol")
	alice.send(t, bob, "one")
	alice.send(t, bob, "two")

	r := alice.postForm(t, "/send-message/bob", url.Values{"message": {"three"}})
	r.wantStatus(http.StatusTooManyRequests).wantText("Too many messages. Please try again in")
	wantRetryAfter(t, r)
	if r.fieldValue("message") != "three" {
		t.Error("the refused message is not kept in the form")
	}
	alice.postForm(t, "/messages/bob", url.Values{"message": {"three"}}).wantStatus(http.StatusTooManyRequests)

	if n, _ := bob.badges(t); n != 2 {
		t.Errorf("bob's badge %d, want 2", n)
	}
	bob.page(t, "/messages").wantNoText("three")
	// Others are not limited by alice's sending.
	carol.send(t, bob, "from carol")
}

// Nobody sees or counts another member's messages or notifications,
// whatever URL they try.
func TestIsolation(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice, bob, carol := s.register(t, "alice"), s.register(t, "bob"), s.register(t, "carol")
	alice.send(t, bob, "secret for bob")
	bob.send(t, alice, "secret for alice")
	alice.post(t, "a public post for @bob")
	secrets := []string{"secret for bob", "secret for alice"}
	msgID := func() int64 {
		r := bob.page(t, "/messages/alice")
		var id int64
		fmt.Sscanf(findClass(r.Body, "message")[0].Attr["id"], "m%d", &id)
		return id
	}()

	for _, path := range []string{
		"/messages", "/messages?page=2", "/new-message",
		"/messages/alice", "/messages/bob", "/messages/Alice",
		fmt.Sprintf("/messages/alice?before=%d", msgID+1), fmt.Sprintf("/messages/bob?before=%d", msgID+10),
		"/activity", "/user/alice", "/user/bob", "/user/alice/popup", "/",
	} {
		r := carol.page(t, path).wantNoText(secrets...)
		if path != "/user/alice/popup" && (r.badge("message_count") != 0 || r.badge("activity_count") != 0) {
			t.Errorf("%s: carol's badges count someone else's", path)
		}
	}
	for _, path := range []string{"/messages/alice", "/messages/bob"} {
		carol.page(t, path).wantText("No messages yet.")
	}
	carol.page(t, "/activity").wantText("Nothing yet.")
	for _, q := range []string{"since=0", "since=0&user=bob", fmt.Sprintf("since=0&user_id=%d", bob.user(t).ID)} {
		r := carol.get(t, "/notifications?"+q).wantStatus(http.StatusOK)
		if strings.TrimSpace(r.Body) != "[]" {
			t.Errorf("/notifications?%s for carol: %s", q, r.Body)
		}
	}
	// Carol's own stream carries only her own notifications, whatever id
	// she resumes from: bob's unread count (2 and up) never shows on it.
	for _, last := range []string{"", "0", "-1", "1000"} {
		stream := carol.openStream(t, last)
		alice.send(t, bob, "another secret")
		alice.send(t, carol, "for carol")
		for {
			n := stream.nextNamed("unread_message_count").count(t)
			if n > 1 {
				t.Fatalf("Last-Event-ID %q: carol's stream says %d unread messages, want her own 1", last, n)
			}
			if n == 1 {
				break
			}
		}
		carol.page(t, "/messages") // read, for the next round
		stream.close()
	}
	// Nothing carol did read anything of bob's.
	if n, _ := bob.badges(t); n != 4 {
		t.Errorf("bob's badge %d, want 4", n)
	}
}

// The inbox, /messages: the seed's page of received messages shown by
// conversation, a row per member with their messages of the page; on the
// first page a conversation whose newest message is the member's own shows
// it, and one nobody has answered yet has its row too.
func TestInbox(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice, bob, carol, dave := s.register(t, "alice"), s.register(t, "bob"), s.register(t, "carol"), s.register(t, "dave")
	alice.send(t, bob, "Hi Bob")
	carol.send(t, bob, "Hello from Carol")
	alice.send(t, bob, "How are you?")
	bob.send(t, carol, "Hi Carol!")
	bob.send(t, dave, "Welcome, Dave")

	rows := func(r *response) []string {
		var got []string
		for _, row := range findClass(r.Body, "conversation") {
			got = append(got, fmt.Sprintf("%s unread=%v", row.Text(), row.HasClass("unread")))
		}
		return got
	}
	r := bob.page(t, "/messages")
	want := []string{
		"dave · just now You: Welcome, Dave unread=false",
		"carol · just now 1 new You: Hi Carol! Hello from Carol New unread=true",
		"alice · just now 2 new How are you? New Hi Bob New unread=true",
	}
	if got := rows(r); !slices.Equal(got, want) {
		t.Errorf("inbox\n%q\nwant\n%q", got, want)
	}
	for _, peer := range []*member{alice, carol, dave} {
		r.linkTo("/messages/" + peer.name)
	}
	r.linkTo("/new-message")
	// The page read what it showed.
	if n := r.badge("message_count"); n != 0 {
		t.Errorf("badge %d after the inbox, want 0", n)
	}
	if got := rows(bob.page(t, "/messages")); got[2] != "alice · just now How are you? Hi Bob unread=false" {
		t.Errorf("alice's row seen again: %q", got[2])
	}
	// A row is kept by what it shows: as time passes, its time says so.
	s.clock.Advance(3 * time.Hour)
	if got := rows(bob.page(t, "/messages")); got[0] != "dave · 3 hours ago You: Welcome, Dave unread=false" {
		t.Errorf("dave's row 3 hours later: %q", got[0])
	}

	t.Run("OldAddress", func(t *testing.T) {
		r := bob.get(t, "/conversations").wantStatus(http.StatusMovedPermanently)
		if loc := r.Header.Get("Location"); loc != "/messages" {
			t.Errorf("/conversations redirects to %q", loc)
		}
	})

	t.Run("PastTheEnd", func(t *testing.T) {
		bob.page(t, "/messages?page=7").wantText("No more messages").linkTo("/messages")
	})
}

// "New message": a field for a name, sent by GET, that opens the
// conversation with that member, or says why not.
func TestNewMessage(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice := s.register(t, "alice")
	s.register(t, "Bob")

	r := alice.page(t, "/new-message")
	if forms := findTag(r.Body, "form"); !slices.ContainsFunc(forms, func(f element) bool {
		return f.Attr["action"] == "/new-message" && f.Attr["method"] == "get"
	}) {
		t.Errorf("no GET form to /new-message")
	}
	if to := r.byID("to"); to.Attr["name"] != "to" || to.Attr["data-member-suggest"] != "/members/suggest" {
		t.Errorf("the field: %v", to.Attr)
	}
	for _, name := range []string{"Bob", "bob", "  @BOB "} {
		alice.get(t, "/new-message?to="+url.QueryEscape(name)).wantRedirect("/messages/Bob")
	}
	for _, tt := range []struct {
		name, to string
		status   int
		want     string
	}{
		{"ErrUnknown", "nobody", http.StatusNotFound, `There is no member called "nobody".`},
		{"ErrBlank", " ", http.StatusUnprocessableEntity, "Write the name of the member to write to."},
		{"ErrYourself", "Alice", http.StatusUnprocessableEntity, "You cannot send a message to yourself."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := alice.get(t, "/new-message?to="+url.QueryEscape(tt.to)).wantStatus(tt.status)
			if got := r.fieldError("to"); !strings.HasPrefix(got, tt.want) {
				t.Errorf("error %q, want %q", got, tt.want)
			}
			if got := r.fieldValue("to"); got != tt.to {
				t.Errorf("the field holds %q, want %q as typed", got, tt.to)
			}
		})
	}
}

// The suggestions of the "New message" field: members by the beginning
// of their name, in any case, the asking member aside, at most
// app.SuggestLimit; JSON, for members only, limited per member.
func TestSuggestMembers(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{App: app.Config{LookupPerMember: app.Limit{Events: 8, Per: time.Hour}}})
	alan := s.register(t, "alan")
	for _, name := range []string{"Alice", "albert", "bob"} {
		s.register(t, name)
	}
	suggest := func(m *member, prefix string) []map[string]string {
		t.Helper()
		r := m.get(t, "/members/suggest?prefix="+url.QueryEscape(prefix)).wantStatus(http.StatusOK)
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		var list []map[string]string
		if err := json.Unmarshal([]byte(r.Body), &list); err != nil {
			t.Fatalf("%s: %v", r.Body, err)
		}
		return list
	}
	got := suggest(alan, "AL")
	var names []string
	for _, m := range got {
		names = append(names, m["username"])
	}
	if want := []string{"albert", "Alice"}; !slices.Equal(names, want) {
		t.Errorf("suggestions for AL: %q, want %q (alan asks: not himself)", names, want)
	}
	if got[0]["avatar"] == "" || !strings.HasPrefix(got[0]["avatar"], "/avatar/") {
		t.Errorf("a suggestion's avatar %q", got[0]["avatar"])
	}
	for _, prefix := range []string{"", "zz", "a%", "<script>"} {
		if got := suggest(alan, prefix); len(got) != 0 {
			t.Errorf("suggestions for %q: %v, want none", prefix, got)
		}
	}
	if r := s.browser().get(t, "/members/suggest?prefix=a"); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("a visitor's lookup: status %d, want 401", r.StatusCode)
	}

	t.Run("AtMostTheLimit", func(t *testing.T) {
		s := newSite(t)
		var asker *member
		for i := range app.SuggestLimit + 2 {
			asker = s.register(t, fmt.Sprintf("user%02d", i))
		}
		if got := suggest(asker, "user"); len(got) != app.SuggestLimit || got[0]["username"] != "user00" {
			t.Errorf("%d suggestions from %v, want %d from user00", len(got), got, app.SuggestLimit)
		}
	})

	t.Run("ErrRateLimited", func(t *testing.T) {
		// alan has used 5 of his 8 lookups above.
		for range 3 {
			suggest(alan, "b")
		}
		r := alan.get(t, "/members/suggest?prefix=b").wantStatus(http.StatusTooManyRequests)
		wantRetryAfter(t, r)
	})
}

// A conversation the member's own message ends ("You: ...") has a row on
// the first page while that page holds every message received after it;
// once they fill the page and more are on the next, its time is past
// where the first page reaches, and it has no row (later pages are the
// received messages alone).
func TestInboxOwnLastMessage(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice, bob, dave := s.register(t, "alice"), s.register(t, "bob"), s.register(t, "dave")
	bob.send(t, dave, "Welcome, Dave")
	for i := range 10 {
		alice.send(t, bob, fmt.Sprintf("a%d", i))
	}
	if got := bob.page(t, "/messages").texts("conversation-link"); !slices.Equal(got, []string{"alice", "dave"}) {
		t.Errorf("one page of messages: rows %q, want alice's and dave's", got)
	}
	alice.send(t, bob, "a10")
	r := bob.page(t, "/messages")
	if got := r.texts("conversation-link"); !slices.Equal(got, []string{"alice"}) {
		t.Errorf("with a second page: rows %q, want alice's alone", got)
	}
	if got := r.link("next"); got != "/messages?page=2" {
		t.Errorf("older messages link %q", got)
	}
}
