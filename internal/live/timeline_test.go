package live_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"natter/internal/live"
)

// Streams that watch the timeline are woken when posts arrive and get the
// newest post ids; other streams hear nothing of posts.
func TestTimelineWatchers(t *testing.T) {
	hub := live.NewHub(5)
	watcher, other := hub.Subscribe(1), hub.Subscribe(2)
	defer other.Close()
	watcher.WatchTimeline()
	if _, ok := watcher.TimelineNews(); ok {
		t.Error("news before any post")
	}

	// news waits for wake-ups until the watcher's news is want.
	news := func(want string) {
		t.Helper()
		timeout := time.After(guard)
		for {
			select {
			case <-watcher.Events():
			case <-timeout:
				t.Fatalf("no news %s", want)
			}
			if got, ok := watcher.TimelineNews(); ok && string(got) == want {
				return
			}
		}
	}
	hub.Posted(5)
	news(`{"recent":[5],"full":false}`)
	if got, ok := watcher.TimelineNews(); ok {
		t.Errorf("the same news twice: %s", got)
	}
	// Posts close together coalesce; order of arrival does not matter.
	hub.Posted(7)
	hub.Posted(3, 5)
	news(`{"recent":[7,5,3],"full":false}`)
	if evs := pending(other); len(evs) != 0 {
		t.Errorf("a stream not watching the timeline was woken: %v", evs)
	}
	// A deleted post leaves the news; one not kept changes nothing.
	hub.Unposted(5)
	news(`{"recent":[7,3],"full":false}`)
	hub.Unposted(4)
	hub.Posted(8)
	news(`{"recent":[8,7,3],"full":false}`)

	if n := hub.Watchers(); n != 1 {
		t.Errorf("%d watchers, want 1", n)
	}
	watcher.Close()
	watcher.WatchTimeline() // too late: it is closed
	if n := hub.Watchers(); n != 0 {
		t.Errorf("%d watchers after Close, want 0", n)
	}
}

// The hub keeps the newest RecentPosts ids, and says when it left older
// ones out.
func TestTimelineKeepsTheNewest(t *testing.T) {
	hub := live.NewHub(5)
	sub := hub.Subscribe(1)
	defer sub.Close()
	sub.WatchTimeline()
	for id := int64(1); id <= live.RecentPosts+10; id++ {
		hub.Posted(id)
	}
	hub.Posted(3) // older than every one kept
	var ids []string
	for id := live.RecentPosts + 10; id > 10; id-- {
		ids = append(ids, fmt.Sprint(id))
	}
	want := `{"recent":[` + strings.Join(ids, ",") + `],"full":true}`
	got, ok := sub.TimelineNews()
	if !ok || string(got) != want {
		t.Errorf("news %s, %v; want %s", got, ok, want)
	}
}
