package web_test

import (
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

// The timeline at / and /index: every member's posts, newest first,
// POSTS_PER_PAGE at a time, with newer/older links by position (?after=,
// ?before=), which cost the same however deep; the seed's ?page=N still
// works up to app.MaxPage.
func TestTimeline(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{App: app.Config{PostsPerPage: 3}})
	alice, bob := s.register(t, "alice"), s.register(t, "bob")
	for i := 1; i <= 7; i++ {
		author := alice
		if i%2 == 0 {
			author = bob
		}
		author.post(t, fmt.Sprintf("post %d", i))
	}
	pages := [][]string{{"post 7", "post 6", "post 5"}, {"post 4", "post 3", "post 2"}, {"post 1"}}

	for _, start := range []string{"/", "/index"} {
		t.Run("Links"+start, func(t *testing.T) {
			// Older down to the end, then newer back to the top.
			path := start
			var visited []string
			for i, want := range pages {
				r := bob.page(t, path)
				if got := r.texts("post-body"); !slices.Equal(got, want) {
					t.Fatalf("page %d (%s): posts %q, want %q", i+1, path, got, want)
				}
				if !strings.HasPrefix(path, start) {
					t.Errorf("page %d is at %s, not under %s", i+1, path, start)
				}
				visited = append(visited, path)
				path = r.link("next")
				if (path == "") != (i == len(pages)-1) {
					t.Fatalf("page %d (%s): older link %q", i+1, visited[i], path)
				}
			}
			for i := len(pages) - 1; i > 0; i-- {
				r := bob.page(t, visited[i])
				newer := r.link("prev")
				if newer == "" {
					t.Fatalf("%s has no newer link", visited[i])
				}
				if got := bob.page(t, newer).texts("post-body"); !slices.Equal(got, pages[i-1]) {
					t.Errorf("newer than %s (%s): posts %q, want %q", visited[i], newer, got, pages[i-1])
				}
			}
			if got := bob.page(t, start).link("prev"); got != "" {
				t.Errorf("the newest page links newer posts: %q", got)
			}
		})
	}

	// The seed's ?page=N: the same pages; its links go on by position.
	for i, want := range pages {
		t.Run(fmt.Sprintf("Page%d", i+1), func(t *testing.T) {
			r := bob.page(t, fmt.Sprintf("/index?page=%d", i+1))
			if got := r.texts("post-body"); !slices.Equal(got, want) {
				t.Errorf("posts %q, want %q", got, want)
			}
			if older := r.link("next"); (older == "") != (i == len(pages)-1) || (older != "" && !strings.HasPrefix(older, "/index?before=")) {
				t.Errorf("older link %q", older)
			}
			if newer := r.link("prev"); (newer == "") != (i == 0) {
				t.Errorf("newer link %q", newer)
			}
		})
	}

	// Past the end is an empty page that says so, with a way back.
	for _, path := range []string{"/?page=4", "/?page=" + strconv.Itoa(app.MaxPage), "/?before=1"} {
		t.Run("PastTheEnd"+path, func(t *testing.T) {
			r := bob.page(t, path)
			r.wantText("No more posts.", "Back to the newest").wantNoText("Be the first")
			if got := r.texts("post-body"); len(got) != 0 {
				t.Errorf("posts %q past the end", got)
			}
			if got := r.link("prev"); got != "/" {
				t.Errorf("newer link %q, want /", got)
			}
		})
	}

	t.Run("Empty", func(t *testing.T) {
		s := newSite(t)
		carol := s.register(t, "carol")
		carol.page(t, "/").wantText("No posts yet. Be the first!")
	})

	// What is not a position is refused with a clear 400, on every list.
	for _, q := range []string{"page=abc", "page=0", "page=-1", "page=" + strconv.Itoa(app.MaxPage+1), "page=1099511627776",
		"before=abc", "before=0", "after=-3", "page=2&before=3"} {
		t.Run("Err"+q, func(t *testing.T) {
			for _, path := range []string{"/", "/index", "/user/alice", "/messages", "/activity"} {
				if (strings.Contains(q, "before") || strings.Contains(q, "after")) && path == "/messages" {
					continue // paged by number
				}
				r := bob.get(t, path+"?"+q).wantStatus(http.StatusBadRequest)
				r.wantText("That is not a page", "natter")
			}
		})
	}
}

// link returns the href of the page's <a rel=...>, "" if there is none.
func (r *response) link(rel string) string {
	for _, a := range findTag(r.Body, "a") {
		if a.Attr["rel"] == rel {
			return a.Attr["href"]
		}
	}
	return ""
}

// Posting a note: 1 to 140 characters, counted as characters; a refused
// note comes back in the form with the reason.
func TestPost(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice := s.register(t, "alice")

	t.Run("OK", func(t *testing.T) {
		r := alice.postForm(t, "/", url.Values{"body": {"  Hello, natter!  "}})
		r.wantRedirect("/")
		home := alice.follow(t, r).wantText("Your post is now live!")
		if got := home.texts("post-body")[0]; got != "Hello, natter!" {
			t.Errorf("newest post %q", got)
		}
	})

	for _, tt := range []struct {
		name, body string
		want       string // the shown post, "" when the post is refused
		err        string
	}{
		{"OK140Emoji", strings.Repeat("😀", 140), strings.Repeat("😀", 140), ""},
		{"OK140Accented", strings.Repeat("é", 140), strings.Repeat("é", 140), ""},
		// A line break a browser sends as \r\n is one character.
		{"OKCRLFIsOneCharacter", strings.Repeat("x\r\n", 69) + "yz", strings.TrimSpace(strings.Repeat("x ", 69)) + " yz", ""},
		{"ErrBlankBody", "", "", "Write something first."},
		{"ErrWhitespaceBody", " \r\n\t ", "", "Write something first."},
		{"ErrTooLong", strings.Repeat("a", 141), "", "Keep it to 140 characters (this is 141)."},
		{"ErrTooLongEmoji", strings.Repeat("😀", 141), "", "Keep it to 140 characters (this is 141)."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := alice.postForm(t, "/index", url.Values{"body": {tt.body}})
			if tt.err == "" {
				r.wantRedirect("/")
				if got := alice.page(t, "/").texts("post-body")[0]; got != tt.want {
					t.Errorf("newest post %q, want %q", got, tt.want)
				}
				return
			}
			r.wantStatus(http.StatusUnprocessableEntity)
			if got := r.fieldError("body"); got != tt.err {
				t.Errorf("error %q, want %q", got, tt.err)
			}
			if got := r.fieldValue("body"); got != tt.body {
				t.Errorf("the form holds %q, want the text as typed", got)
			}
			// The timeline is still shown under the refused form.
			r.wantText("Timeline", "Hello, natter!")
		})
	}

	// A post is text: markup in it is shown, not obeyed.
	t.Run("HTMLIsText", func(t *testing.T) {
		alice.post(t, `<b>bold</b> & <i>"quoted"</i>`)
		r := alice.page(t, "/")
		if strings.Contains(r.Body, "<b>bold</b>") {
			t.Error("the post's markup reached the page")
		}
		if got := r.texts("post-body")[0]; got != `<b>bold</b> & <i>"quoted"</i>` {
			t.Errorf("the post reads %q", got)
		}
	})
}

// @name in a post links to that member's profile and tells them.
func TestMentions(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice, bob := s.register(t, "alice"), s.register(t, "bob")

	alice.post(t, "Hello @bob, @alice here. Mail me: alice@bob.com")
	post := findClass(bob.page(t, "/").Body, "post-body")[0]
	var mentions []string
	for _, a := range findClass(post.Inner, "mention") {
		mentions = append(mentions, a.Text()+" → "+a.Attr["href"])
	}
	if want := []string{"@bob → /user/bob", "@alice → /user/alice"}; !slices.Equal(mentions, want) {
		t.Errorf("mention links %q, want %q (an email address is no mention)", mentions, want)
	}
	// Bob is told; alice, who mentioned herself, is not.
	if _, n := bob.badges(t); n != 1 {
		t.Errorf("bob's notifications badge %d, want 1", n)
	}
	if n := bob.notification(t, "unread_activity_count"); n != 1 {
		t.Errorf("bob's unread_activity_count %v, want 1", n)
	}
	if _, n := alice.badges(t); n != 0 {
		t.Errorf("alice's notifications badge %d, want 0", n)
	}

	// Names are matched in any case; each member is told once per post.
	alice.post(t, "@BOB @Bob @bob")
	if _, n := bob.badges(t); n != 2 {
		t.Errorf("bob's notifications badge %d, want 2", n)
	}
}

// Times read naturally ("3 minutes ago"), rendered by the server so that
// they are right without JavaScript; the exact time is in the markup.
func TestTimesReadNaturally(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice := s.register(t, "alice")
	ages := []struct {
		age  time.Duration
		want string
	}{
		{10 * 24 * time.Hour, ""}, // a date: filled in below
		{3 * 24 * time.Hour, "3 days ago"},
		{30 * time.Hour, "yesterday"},
		{2*time.Hour + time.Minute, "2 hours ago"},
		{61 * time.Minute, "1 hour ago"},
		{3*time.Minute + 10*time.Second, "3 minutes ago"},
		{70 * time.Second, "1 minute ago"},
		{10 * time.Second, "just now"},
	}
	for i, a := range ages {
		s.clock.Set(-a.age) // the post is written that long ago
		alice.post(t, fmt.Sprintf("post %d", i))
		if a.want == "" {
			ages[i].want = time.Now().Add(-a.age).UTC().Format("Jan 2, 2006")
		}
	}
	s.clock.Set(0)

	times := findTag(alice.page(t, "/").Body, "time")
	for i, a := range ages {
		tm := times[len(ages)-1-i] // newest first
		if tm.Text() != a.want {
			t.Errorf("a post %v old reads %q, want %q", a.age, tm.Text(), a.want)
		}
		at, err := time.Parse(time.RFC3339, tm.Attr["datetime"])
		if d := time.Since(at) - a.age; err != nil || d < -time.Second || d > time.Minute {
			t.Errorf("a post %v old has datetime=%q", a.age, tm.Attr["datetime"])
		}
		if !strings.HasSuffix(tm.Attr["title"], "UTC") {
			t.Errorf("title %q, want the full time", tm.Attr["title"])
		}
	}
}

// Posts on the timeline and profiles, and received messages, are rendered
// once and kept (fragments.go); what they show still follows a rename and
// the passing of time.
func TestListItemsFollowRenamesAndTime(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice, bob := s.register(t, "alice"), s.register(t, "bob")
	bob.post(t, "Birdhouse number three is up.")
	bob.send(t, alice, "Come and see it.")

	lists := []string{"/", "/user/bob", "/messages"}
	for _, path := range lists {
		alice.page(t, path).wantText("bob · just now")
	}

	bob.postForm(t, "/edit-profile", url.Values{"username": {"Robert"}}).wantRedirect("/user/Robert")
	for _, path := range []string{"/", "/user/robert", "/messages"} {
		r := alice.page(t, path).wantText("Robert · just now")
		if strings.Contains(r.Body, `href="/user/bob"`) {
			t.Errorf("%s still links the old name", path)
		}
	}

	s.clock.Advance(3 * time.Minute)
	for _, path := range []string{"/", "/user/robert", "/messages"} {
		alice.page(t, path).wantText("Robert · 3 minutes ago")
	}
}

// Posting is limited per member; over the limit, the timeline comes back
// with a clear refusal, when to try again, and the post still in the form.
func TestPostRateLimit(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{App: app.Config{PostPerMember: app.Limit{Events: 1, Per: time.Hour}}})
	alice := s.register(t, "alice")
	alice.post(t, "first")
	r := alice.postForm(t, "/index", url.Values{"body": {"second"}})
	r.wantStatus(http.StatusTooManyRequests).wantText("Too many posts. Please try again in", "first")
	wantRetryAfter(t, r)
	if r.fieldValue("body") != "second" {
		t.Errorf("the refused post is not kept in the form: %q", r.fieldValue("body"))
	}
	alice.page(t, "/").wantNoText("second")
}

// wantRetryAfter checks that a refusal says in how many seconds to retry.
func wantRetryAfter(t *testing.T, r *response) {
	t.Helper()
	if n, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || n <= 0 {
		t.Errorf("Retry-After %q, want a number of seconds", r.Header.Get("Retry-After"))
	}
}
