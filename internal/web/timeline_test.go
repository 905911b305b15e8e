package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"natter/internal/app"
)

// A stream whose page shows the timeline (?timeline=1) hears of new posts
// as a "posts" event with the newest ids and no id of its own (the
// member's sequence is untouched); other streams do not.
func TestEventsNewPosts(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice, bob, carol := s.register(t, "alice"), s.register(t, "bob"), s.register(t, "carol")
	watching := bob.openStreamAt(t, "/events?timeline=1", "")
	plain := carol.openStreamAt(t, "/events", "")

	alice.post(t, "first")
	ev := watching.nextNamed("posts")
	if ev.ID != "" || ev.Data != `{"recent":[1],"full":false}` {
		t.Errorf("posts event %v", ev)
	}
	// carol's stream hears of her mention, and of no post.
	alice.post(t, "hello @carol")
	if ev := plain.next(); ev.Name != "unread_activity_count" {
		t.Errorf("a stream not watching the timeline got %v", ev)
	}
	for {
		ev := watching.nextNamed("posts")
		if ev.Data == `{"recent":[2,1],"full":false}` {
			break
		}
		if ev.Data != `{"recent":[1],"full":false}` {
			t.Fatalf("posts event %v", ev)
		}
	}

	// A page rendered before a post whose stream opens after it learns
	// of it at once.
	late := bob.openStreamAt(t, fmt.Sprintf("/events?timeline=1&member=%d", bob.user(t).ID), "")
	if ev := late.next(); ev.Name != "posts" || ev.Data != `{"recent":[2,1],"full":false}` {
		t.Errorf("a new stream starts with %v", ev)
	}
}

// A deleted post stops counting as new on open timelines: the streams
// watching them hear the newest posts without it, so that a page that
// said "1 new post" for it says nothing.
func TestEventsDeletedPost(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice, bob := s.register(t, "alice"), s.register(t, "bob")
	watching := bob.openStreamAt(t, "/events?timeline=1", "")
	alice.post(t, "first")
	alice.post(t, "oops")
	for ev := watching.nextNamed("posts"); ev.Data != `{"recent":[2,1],"full":false}`; ev = watching.nextNamed("posts") {
		if ev.Data != `{"recent":[1],"full":false}` {
			t.Fatalf("posts event %v", ev)
		}
	}
	alice.postForm(t, "/post/2/delete", nil).wantStatus(http.StatusSeeOther)
	if ev := watching.nextNamed("posts"); ev.Data != `{"recent":[1],"full":false}` {
		t.Errorf("after the deletion, posts event %v", ev)
	}
	// A stream opened afterwards never hears of it.
	late := bob.openStreamAt(t, fmt.Sprintf("/events?timeline=1&member=%d", bob.user(t).ID), "")
	if ev := late.next(); ev.Name != "posts" || ev.Data != `{"recent":[1],"full":false}` {
		t.Errorf("a new stream starts with %v", ev)
	}
}

// Only the newest page of the timeline is live ("N new posts" above it);
// an older page stays as it was rendered.
func TestTimelineLivePage(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{App: app.Config{PostsPerPage: 2}})
	alice := s.register(t, "alice")
	for i := range 3 {
		alice.post(t, fmt.Sprintf("post %d", i))
	}
	for path, live := range map[string]bool{"/": true, "/index": true, "/?page=1": true, "/?page=2": false, "/?before=2": false} {
		r := alice.page(t, path)
		_, hasButton := findID(r.Body, "new-posts")
		if got := strings.Contains(r.Body, "data-live-timeline"); got != live || hasButton != live {
			t.Errorf("%s: live %v, new-posts box %v; want %v", path, got, hasButton, live)
		}
	}
}
