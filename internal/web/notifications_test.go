package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
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
	first := bob.notifications(t, "0")
	checkNotifications(t, first, "unread_message_count=1", "unread_activity_count=1")
	t1 := now(first)
	checkNotifications(t, bob.notifications(t, t1))
	if got := bob.notifications(t, ""); len(got) != 2 {
		t.Errorf("no since: %v, want everything", got)
	}

	alice.send(t, bob, "two")
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
		checkNotifications(t, bob.notifications(t, since), "unread_message_count=1", "unread_activity_count=3")
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

// The notification centre lists mentions and message arrivals, newest
// first, unread ones marked, with its own badge and "mark all read".
func TestActivity(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice, bob, carol := s.register(t, "alice"), s.register(t, "bob"), s.register(t, "carol")

	r := bob.page(t, "/activity").wantText("Nothing yet.")
	if r.badge("activity_count") != 0 {
		t.Error("a new member has notifications")
	}

	alice.post(t, "Morning @bob!")
	alice.send(t, bob, "Psst")
	carol.post(t, "@Bob look")

	r = bob.page(t, "/activity")
	var got []string
	for _, e := range findClass(r.Body, "activity") {
		got = append(got, fmt.Sprintf("%s unread=%v", e.Text(), e.HasClass("unread")))
	}
	want := []string{
		"New carol mentioned you · just now @Bob look unread=true",
		"New alice sent you a message · just now Psst unread=true",
		"New alice mentioned you · just now Morning @bob! unread=true",
	}
	if !slices.Equal(got, want) {
		t.Errorf("activity\n%q\nwant\n%q", got, want)
	}
	r.linkTo("/messages/alice")
	if n := r.badge("activity_count"); n != 3 {
		t.Errorf("badge %d, want 3", n)
	}
	if n := bob.notification(t, "unread_activity_count"); n != 3 {
		t.Errorf("unread_activity_count %v, want 3", n)
	}
	// Looking is not reading: the centre stays unread until marked.
	if _, n := bob.badges(t); n != 3 {
		t.Errorf("badge %d after looking, want 3", n)
	}
	if button := findTag(r.formTo("/activity/read").Inner, "button")[0]; button.Has("disabled") {
		t.Error("mark all read is disabled while there is something unread")
	}

	t.Run("MarkAllRead", func(t *testing.T) {
		res := bob.postForm(t, "/activity/read", nil)
		res.wantRedirect("/activity")
		r := bob.follow(t, res)
		for _, e := range findClass(r.Body, "activity") {
			if e.HasClass("unread") {
				t.Errorf("still unread: %s", e.Text())
			}
		}
		if len(findClass(r.Body, "activity")) != 3 {
			t.Error("marking read removed entries")
		}
		if n := r.badge("activity_count"); n != 0 {
			t.Errorf("badge %d after marking read", n)
		}
		if button := findTag(r.formTo("/activity/read").Inner, "button")[0]; !button.Has("disabled") {
			t.Error("mark all read is enabled with nothing unread")
		}
		if n := bob.notification(t, "unread_activity_count"); n != 0 {
			t.Errorf("unread_activity_count %v, want 0", n)
		}
		// The message itself is still unread: the two are counted apart.
		if n, _ := bob.badges(t); n != 1 {
			t.Errorf("message badge %d, want 1", n)
		}
		// Something new is unread again, above the old.
		carol.post(t, "@bob again")
		r = bob.page(t, "/activity")
		if e := findClass(r.Body, "activity"); !e[0].HasClass("unread") || e[1].HasClass("unread") {
			t.Error("only the new entry should be unread")
		}
	})
}
