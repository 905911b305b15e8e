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
	"natter/internal/natter"
)

// /notifications?since=T is the seed's polling endpoint: a JSON list of
// {"name", "data", "timestamp"} changed after T, oldest first. A name holds
// the latest value only.
func TestNotifications(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice, bob := s.register(t, "alice"), s.register(t, "bob")

	r := bob.get(t, "/notifications?since=0").wantStatus(http.StatusOK)
	if strings.TrimSpace(r.Body) != "[]" {
		t.Errorf("a new member's notifications are %s, want []", r.Body)
	}
	if ct, cc := r.Header.Get("Content-Type"), r.Header.Get("Cache-Control"); ct != "application/json" || cc != "no-store" {
		t.Errorf("Content-Type %q, Cache-Control %q", ct, cc)
	}

	alice.send(t, bob, "one")
	alice.post(t, "@bob one")
	first := bob.notifications(t, "0")
	checkNotifications(t, first, "unread_message_count=1", "unread_activity_count=1")
	t1 := now(first)
	checkNotifications(t, bob.notifications(t, t1))
	if got := bob.notifications(t, ""); len(got) != 2 {
		t.Errorf("no since: %v, want everything", got)
	}

	alice.send(t, bob, "two")
	alice.post(t, "@bob two")
	second := bob.notifications(t, t1)
	checkNotifications(t, second, "unread_message_count=2", "unread_activity_count=2")
	if a, b := first[0]["timestamp"].(float64), second[0]["timestamp"].(float64); b <= a {
		t.Errorf("the second change's timestamp %v is not after the first's %v", b, a)
	}
	// Replaced, not added: since=0 still has one entry per name.
	checkNotifications(t, bob.notifications(t, "0"), "unread_message_count=2", "unread_activity_count=2")

	// Reading is a change too: the count drops to 0, and that is news.
	t2 := now(second)
	bob.page(t, "/messages")
	checkNotifications(t, bob.notifications(t, t2), "unread_message_count=0")
	checkNotifications(t, bob.notifications(t, "0"), "unread_activity_count=2", "unread_message_count=0")

	// The sender is told nothing.
	checkNotifications(t, alice.notifications(t, "0"))

	// A page says where its script polls from: a little before it was
	// rendered (transactions stamp notifications when they begin), not
	// since=0 for ever, as the seed's did. And it says which notification
	// its counts are as of, for the stream.
	t.Run("PagesGiveTheirTime", func(t *testing.T) {
		s.clock.Advance(time.Minute)
		pg := bob.page(t, "/")
		body, main := findTag(pg.Body, "body")[0], pg.byID("main")
		since := main.Attr["data-since"]
		if got := bob.notifications(t, since); len(got) != 0 {
			t.Errorf("polling from the page's data-since: %v, want nothing (nothing changed for a minute)", got)
		}
		if seq := body.Attr["data-seq"]; seq != strconv.FormatInt(bob.user(t).NotificationSeq, 10) {
			t.Errorf("data-seq=%q, want bob's notification sequence %d", seq, bob.user(t).NotificationSeq)
		}
		f, _ := strconv.ParseFloat(since, 64)
		if d := s.clock.Now().Sub(time.UnixMicro(int64(f * 1e6))); d < 10*time.Second || d > 12*time.Second {
			t.Errorf("data-since=%q is %v before the page, want 10 s", since, d)
		}
		alice.send(t, bob, "three")
		checkNotifications(t, bob.notifications(t, since), "unread_message_count=1")
		if body.Attr["data-live-url"] != "/events" || body.Attr["data-poll-url"] != "/notifications" {
			t.Errorf("the page does not say where to listen: %v", body.Attr)
		}
	})

	t.Run("ErrSince", func(t *testing.T) {
		for _, since := range []string{"abc", "-1", "NaN", "Inf", "1e300", "0x10", "1,5"} {
			r := bob.get(t, "/notifications?since="+since).wantStatus(http.StatusBadRequest)
			var body map[string]string
			if err := json.Unmarshal([]byte(r.Body), &body); err != nil || !strings.Contains(body["error"], "since") {
				t.Errorf("since=%s: %s, want a JSON error about since", since, r.Body)
			}
		}
	})
}

// checkNotifications checks a /notifications list against "name=data"
// entries in order, and that each object has exactly the seed's three keys.
func checkNotifications(t *testing.T, list []map[string]any, want ...string) {
	t.Helper()
	var got []string
	for _, n := range list {
		var keys []string
		for k := range n {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, []string{"data", "name", "timestamp"}) {
			t.Errorf("notification with keys %q, want name, data, timestamp", keys)
		}
		if ts, ok := n["timestamp"].(float64); !ok || ts < 1e9 {
			t.Errorf("timestamp %v, want seconds since 1970", n["timestamp"])
		}
		got = append(got, fmt.Sprintf("%v=%v", n["name"], n["data"]))
	}
	if !slices.Equal(got, want) && (len(got) != 0 || len(want) != 0) {
		t.Errorf("notifications %q, want %q", got, want)
	}
}

// newestPost is the newest post on the site.
func newestPost(t *testing.T, s *site) natter.Post {
	t.Helper()
	posts, err := s.store.Timeline(t.Context(), natter.Window{Limit: 1})
	if err != nil || len(posts) == 0 {
		t.Fatalf("Timeline = %v, %v", posts, err)
	}
	return posts[0]
}

// centreGroups summarises the centre as shown: each group's summary, with
// "*" when it is unread, and its entries' posts, "*" on the unread ones.
func centreGroups(r *response) (out []string) {
	for _, g := range findClass(r.Body, "activity") {
		line := textOf(findClass(g.Inner, "activity-summary")[0].Inner)
		if g.HasClass("unread") {
			line += "*"
		}
		var entries []string
		for _, e := range findClass(g.Inner, "activity-entry") {
			body := "" // a like's post is shown once, above the entries
			if b := findClass(e.Inner, "post-body"); len(b) > 0 {
				body = textOf(b[0].Inner)
			}
			if e.HasClass("fw-semibold") {
				body += "*"
			}
			entries = append(entries, body)
		}
		out = append(out, line+": "+strings.Join(entries, " | "))
	}
	return out
}

// The notification centre groups mentions (not messages: they have their own
// badge), newest group first, each entry linking to its post, with its own
// badge and "mark all read".
func TestActivity(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{App: app.Config{PostsPerPage: 2}})
	alice, bob, carol, dave := s.register(t, "alice"), s.register(t, "bob"), s.register(t, "carol"), s.register(t, "dave")

	r := bob.page(t, "/activity").wantText("Nothing yet.")
	if r.badge("activity_count") != 0 {
		t.Error("a new member has notifications")
	}
	if button := findTag(r.formTo("/activity/read").Inner, "button")[0]; !button.Has("disabled") {
		t.Error("mark all read is enabled with nothing to mark")
	}

	alice.post(t, "Morning @bob!")
	morning := newestPost(t, s)
	alice.send(t, bob, "Psst")
	carol.post(t, "@Bob look")
	look := newestPost(t, s)

	r = bob.page(t, "/activity")
	want := []string{"carol and alice mentioned you*: @Bob look* | Morning @bob!*"}
	if got := centreGroups(r); !slices.Equal(got, want) {
		t.Errorf("centre\n%q\nwant\n%q", got, want)
	}
	r.linkTo(fmt.Sprintf("/post/%d", morning.ID))
	r.linkTo(fmt.Sprintf("/post/%d", look.ID))
	// Every post's time links to its page: on the timeline, on profiles.
	bob.page(t, "/").linkTo(fmt.Sprintf("/post/%d", look.ID))
	bob.page(t, "/user/alice").linkTo(fmt.Sprintf("/post/%d", morning.ID))
	if r.has("/messages/alice") {
		t.Error("the centre lists a message")
	}
	if n := r.badge("activity_count"); n != 2 {
		t.Errorf("badge %d, want 2", n)
	}
	if n := bob.notification(t, "unread_activity_count"); n != 2 {
		t.Errorf("unread_activity_count %v, want 2", n)
	}
	// Looking is not reading: the centre stays unread until marked.
	if _, n := bob.badges(t); n != 2 {
		t.Errorf("badge %d after looking, want 2", n)
	}

	t.Run("ManyActors", func(t *testing.T) {
		dave.post(t, "@bob hi")
		r := bob.page(t, "/activity")
		want := "dave and 2 others mentioned you*: @bob hi* | @Bob look* | Morning @bob!*"
		if got := centreGroups(r); len(got) != 1 || got[0] != want {
			t.Errorf("centre %q, want [%q]", got, want)
		}
	})

	t.Run("PostPageReadsItsEntries", func(t *testing.T) {
		r := bob.page(t, fmt.Sprintf("/post/%d", look.ID)).wantText("@Bob look", "carol")
		if n := r.badge("activity_count"); n != 2 {
			t.Errorf("the post's page shows a badge of %d, want 2", n)
		}
		if n := bob.notification(t, "unread_activity_count"); n != 2 {
			t.Errorf("unread_activity_count %v, want 2", n)
		}
		want := "dave and 2 others mentioned you*: @bob hi* | @Bob look | Morning @bob!*"
		if got := centreGroups(bob.page(t, "/activity")); len(got) != 1 || got[0] != want {
			t.Errorf("centre %q, want [%q]", got, want)
		}
		// Another member opening it reads nothing of bob's.
		alice.page(t, fmt.Sprintf("/post/%d", look.ID))
		if _, n := bob.badges(t); n != 2 {
			t.Errorf("bob's badge %d after alice opened the post, want 2", n)
		}
	})

	t.Run("MarkAllReadStopsAtWhatWasShown", func(t *testing.T) {
		shown := bob.page(t, "/activity")
		newest := findTag(shown.formTo("/activity/read").Inner, "input")[0].Attr["value"]
		if button := findTag(shown.formTo("/activity/read").Inner, "button")[0]; button.Has("disabled") {
			t.Error("mark all read is disabled while there is something unread")
		}
		// A mention arrives while the page is open.
		carol.post(t, "@bob meanwhile")
		res := bob.postForm(t, "/activity/read", url.Values{"newest": {newest}})
		res.wantRedirect("/activity")
		r := bob.follow(t, res)
		want := "carol and 2 others mentioned you*: @bob meanwhile* | @bob hi | @Bob look"
		if got := centreGroups(r); len(got) != 1 || got[0] != want {
			t.Errorf("centre %q, want [%q]", got, want)
		}
		if n := r.badge("activity_count"); n != 1 {
			t.Errorf("badge %d after marking read, want 1 (the mention that came later)", n)
		}
		if n := bob.notification(t, "unread_activity_count"); n != 1 {
			t.Errorf("unread_activity_count %v, want 1", n)
		}
		// The message is still unread: the two are counted apart.
		if n, _ := bob.badges(t); n != 1 {
			t.Errorf("message badge %d, want 1", n)
		}
		// Marking again, with what this page showed, reads the rest.
		newest = findTag(r.formTo("/activity/read").Inner, "input")[0].Attr["value"]
		r = bob.follow(t, bob.postForm(t, "/activity/read", url.Values{"newest": {newest}}))
		if n := r.badge("activity_count"); n != 0 {
			t.Errorf("badge %d after marking all read, want 0", n)
		}
		if button := findTag(r.formTo("/activity/read").Inner, "button")[0]; !button.Has("disabled") {
			t.Error("mark all read is enabled with nothing unread")
		}
	})

	t.Run("NewGroupAfterTheWindow", func(t *testing.T) {
		s.clock.Advance(natter.ActivityWindow + time.Minute)
		dave.post(t, "@bob later")
		r := bob.page(t, "/activity")
		got := centreGroups(r)
		if len(got) != 2 || got[0] != "dave mentioned you*: @bob later*" || !strings.HasPrefix(got[1], "carol and 2 others mentioned you:") {
			t.Errorf("centre %q; want dave's new group above the old one", got)
		}
		// Two groups a page: paged by key, the older one is on the next.
		s.clock.Advance(natter.ActivityWindow + time.Minute)
		// A day has passed for alice, idle: her session has ended.
		alice.login(t).post(t, "@bob latest")
		r = bob.page(t, "/activity")
		if got := centreGroups(r); len(got) != 2 || !strings.HasPrefix(got[1], "dave mentioned you") {
			t.Errorf("page 1 = %q", got)
		}
		older := r.link("next")
		if !strings.HasPrefix(older, "/activity?before=") {
			t.Fatalf("next page link %q, want /activity?before=", older)
		}
		r = bob.page(t, older)
		if got := centreGroups(r); len(got) != 1 || !strings.HasPrefix(got[0], "carol and 2 others") {
			t.Errorf("page 2 = %q", got)
		}
		if r.link("prev") != "/activity" || r.link("next") != "" {
			t.Errorf("page 2 links: prev %q next %q", r.link("prev"), r.link("next"))
		}
	})

	t.Run("ErrBadKeys", func(t *testing.T) {
		for _, q := range []string{"abc", "-1", "1.5"} {
			bob.get(t, "/activity?before="+url.QueryEscape(q)).wantStatus(http.StatusBadRequest)
		}
		for _, v := range []string{"", "abc", "0"} {
			bob.postForm(t, "/activity/read", url.Values{"newest": {v}}).wantStatus(http.StatusBadRequest)
		}
		for _, p := range []string{"/post/abc", "/post/0", "/post/999999"} {
			bob.get(t, p).wantStatus(http.StatusNotFound)
		}
	})
}
