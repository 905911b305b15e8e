package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"natter/internal/natter"
)

// postPath is the page of post id, with suffix.
func postPath(id int64, suffix string) string { return fmt.Sprintf("/post/%d%s", id, suffix) }

// postJSON sends a form the way posts.js does, asking for JSON, and
// decodes the answer.
func (m *member) postJSON(t testing.TB, path string, form url.Values) (int, map[string]any) {
	t.Helper()
	req := m.newRequest(t, http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	r := m.do(t, req)
	var v map[string]any
	if err := json.Unmarshal([]byte(r.Body), &v); err != nil {
		t.Fatalf("POST %s: %v\n%s", path, err, r.Body)
	}
	return r.StatusCode, v
}

// Replies: from the post's page without JavaScript, from the timeline with
// it; the author of the post replied to is told, unless it is their own or
// they blocked the replier; the reply says what it answers.
func TestReplies(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice, bob, carol := s.register(t, "alice"), s.register(t, "bob"), s.register(t, "carol")
	alice.post(t, "What should I read?")
	question := newestPost(t, s)

	t.Run("OK", func(t *testing.T) {
		r := bob.postForm(t, postPath(question.ID, "/reply"), url.Values{"body": {"Middlemarch, @alice"}})
		r.wantRedirect(postPath(question.ID, ""))
		reply := newestPost(t, s)
		page := bob.follow(t, r).wantText("Your reply is posted.", "What should I read?", "Middlemarch", "Replies")
		if got := page.texts("post-body"); !slices.Equal(got, []string{"What should I read?", "Middlemarch, @alice"}) {
			t.Errorf("thread shows %q", got)
		}
		// On the timeline: "replying to @alice" with a link to the thread.
		tl := carol.page(t, "/")
		tl.wantText("Replying to @alice")
		tl.linkTo(postPath(question.ID, ""))
		// The question counts its reply.
		if got := tl.texts("reply-count"); !slices.Contains(got, "1") {
			t.Errorf("reply counts on the timeline %q, want a 1", got)
		}
		// alice is told once: a reply, not also a mention.
		want := []string{"bob replied to your post*: Middlemarch, @alice*"}
		if got := centreGroups(alice.page(t, "/activity")); !slices.Equal(got, want) {
			t.Errorf("alice's centre %q, want %q", got, want)
		}
		// The reply's page says what it answers.
		bob.page(t, postPath(reply.ID, "")).wantText("In reply to", "What should I read?")
		// Opening the question reads the reply's entry.
		if _, n := alice.badges(t); n != 1 {
			t.Fatalf("alice's badge %d, want 1", n)
		}
		alice.page(t, postPath(question.ID, ""))
		if _, n := alice.badges(t); n != 0 {
			t.Errorf("alice's badge %d after opening her post, want 0", n)
		}
	})

	t.Run("InPlaceJSON", func(t *testing.T) {
		status, v := carol.postJSON(t, postPath(question.ID, "/reply"), url.Values{"body": {"Anything by Le Guin"}})
		if status != http.StatusOK {
			t.Fatalf("status %d: %v", status, v)
		}
		html, _ := v["html"].(string)
		if !strings.Contains(html, "Anything by Le Guin") || !strings.Contains(html, "Replying to") || !strings.Contains(html, `class="post `) {
			t.Errorf("the reply as rendered: %s", html)
		}
		status, v = carol.postJSON(t, postPath(question.ID, "/reply"), url.Values{"body": {"  "}})
		if status != http.StatusUnprocessableEntity || v["error"] != "Write something first." {
			t.Errorf("an empty reply: %d %v", status, v)
		}
	})

	t.Run("ErrEmptyKeepsTheForm", func(t *testing.T) {
		long := strings.Repeat("x", 141)
		r := bob.postForm(t, postPath(question.ID, "/reply"), url.Values{"body": {long}})
		r.wantStatus(http.StatusUnprocessableEntity)
		if r.fieldValue("body") != long || r.fieldError("body") == "" {
			t.Errorf("the refused reply: value %q, error %q", r.fieldValue("body"), r.fieldError("body"))
		}
	})

	t.Run("OwnPostNotifiesNobody", func(t *testing.T) {
		before := alice.notification(t, "unread_activity_count")
		alice.postForm(t, postPath(question.ID, "/reply"), url.Values{"body": {"Thanks all"}}).wantRedirect(postPath(question.ID, ""))
		if n := alice.notification(t, "unread_activity_count"); n != before {
			t.Errorf("replying to her own post changed alice's count from %v to %v", before, n)
		}
	})

	t.Run("BlockedMemberDoesNotNotify", func(t *testing.T) {
		alice.postForm(t, "/user/carol/block", nil)
		_, before := alice.badges(t)
		carol.postForm(t, postPath(question.ID, "/reply"), url.Values{"body": {"@alice hello?"}}).wantRedirect(postPath(question.ID, ""))
		if _, n := alice.badges(t); n != before {
			t.Errorf("a blocked member's reply took alice's badge from %d to %d", before, n)
		}
	})

	t.Run("ErrNoSuchPost", func(t *testing.T) {
		bob.postForm(t, "/post/999999/reply", url.Values{"body": {"hello"}}).wantStatus(http.StatusNotFound)
		bob.postForm(t, "/post/abc/reply", url.Values{"body": {"hello"}}).wantStatus(http.StatusNotFound)
	})
}

// Likes: once per member, undone with another click, counted on the post;
// the author is told, grouped per post, unless blocked or their own.
func TestLikes(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice, bob, carol, dave := s.register(t, "alice"), s.register(t, "bob"), s.register(t, "carol"), s.register(t, "dave")
	alice.post(t, "Spring is here")
	post := newestPost(t, s)
	likes := func(m *member) (string, string) {
		t.Helper()
		r := m.page(t, postPath(post.ID, ""))
		action, pressed := postPath(post.ID, "/unlike"), "true"
		if !r.has(action) {
			action, pressed = postPath(post.ID, "/like"), "false"
		}
		form := r.formTo(action)
		btn := findTag(form.Inner, "button")[0]
		if btn.Attr["aria-pressed"] != pressed {
			t.Errorf("like button aria-pressed %q with the form to %s", btn.Attr["aria-pressed"], pressed)
		}
		return textOf(findClass(form.Inner, "like-count")[0].Inner), pressed
	}

	t.Run("FormWithoutJavaScript", func(t *testing.T) {
		r := bob.postForm(t, postPath(post.ID, "/like"), nil)
		r.wantStatus(http.StatusSeeOther)
		if n, pressed := likes(bob); n != "1" || pressed != "true" {
			t.Errorf("after bob's like: %s likes, pressed %s", n, pressed)
		}
		// Again: still one.
		bob.postForm(t, postPath(post.ID, "/like"), nil).wantStatus(http.StatusSeeOther)
		if n, _ := likes(carol); n != "1" {
			t.Errorf("a second like by bob counts %s", n)
		}
		// Back to the page the form was on.
		req := bob.newRequest(t, http.MethodPost, postPath(post.ID, "/like"), nil)
		req.Header.Set("Referer", s.URL+"/user/alice?page=1")
		if loc := bob.do(t, req).Header.Get("Location"); loc != "/user/alice?page=1" {
			t.Errorf("the like sent bob to %q", loc)
		}
		host := strings.TrimPrefix(s.URL, "http://")
		for _, ref := range []string{"https://evil.example/", "http://" + host + "//evil.example/x", "http://" + host + "/\\evil.example"} {
			req = bob.newRequest(t, http.MethodPost, postPath(post.ID, "/like"), nil)
			req.Header.Set("Referer", ref)
			loc := bob.do(t, req).Header.Get("Location")
			if !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, "/\\") {
				t.Errorf("the referer %q sent bob to %q, another site", ref, loc)
			}
		}
	})

	t.Run("InPlaceJSON", func(t *testing.T) {
		status, v := carol.postJSON(t, postPath(post.ID, "/like"), nil)
		if status != http.StatusOK || v["liked"] != true || v["likes"] != 2.0 {
			t.Errorf("carol's like: %d %v", status, v)
		}
		status, v = carol.postJSON(t, postPath(post.ID, "/unlike"), nil)
		if status != http.StatusOK || v["liked"] != false || v["likes"] != 1.0 {
			t.Errorf("carol's unlike: %d %v", status, v)
		}
		if status, v = carol.postJSON(t, "/post/999999/like", nil); status != http.StatusNotFound || v["error"] == "" {
			t.Errorf("liking no post: %d %v", status, v)
		}
	})

	t.Run("GroupedPerPost", func(t *testing.T) {
		carol.postForm(t, postPath(post.ID, "/like"), nil)
		dave.postForm(t, postPath(post.ID, "/like"), nil)
		got := centreGroups(alice.page(t, "/activity"))
		if len(got) != 1 || !strings.HasPrefix(got[0], "dave and 2 others liked your post*") {
			t.Errorf("alice's centre %q, want one group of three likers", got)
		}
		// carol's take-back withdrew her first entry: three entries, not
		// four; the post is shown once.
		if strings.Count(got[0], "|") != 2 {
			t.Errorf("alice's likes group %q, want three entries", got)
		}
		alice.page(t, "/activity").wantText("Your post: Spring is here")
		// The post shown once above its likes links its @names as the
		// post does.
		alice.post(t, "Tea, @bob?")
		tea := newestPost(t, s)
		bob.postForm(t, postPath(tea.ID, "/like"), nil)
		if body := alice.page(t, "/activity").Body; !strings.Contains(body, `: <span class="post-body" dir="auto">Tea, <a class="mention user-popup" href="/user/bob"`) {
			t.Errorf("the liked post's @bob is not a link on alice's centre:\n%s", body)
		}
		alice.page(t, postPath(tea.ID, ""))
		if _, n := alice.badges(t); n != 3 {
			t.Errorf("alice's badge %d, want 3", n)
		}
		alice.page(t, postPath(post.ID, ""))
		if _, n := alice.badges(t); n != 0 {
			t.Errorf("alice's badge %d after opening her post, want 0", n)
		}
	})

	t.Run("UnlikeWithdrawsUnread", func(t *testing.T) {
		alice.post(t, "Summer soon")
		summer := newestPost(t, s)
		bob.postForm(t, postPath(summer.ID, "/like"), nil)
		if _, n := alice.badges(t); n != 1 {
			t.Fatalf("alice's badge %d after a like, want 1", n)
		}
		bob.postForm(t, postPath(summer.ID, "/unlike"), nil)
		if _, n := alice.badges(t); n != 0 {
			t.Errorf("alice's badge %d after the like was taken back, want 0", n)
		}
	})

	t.Run("OwnAndBlockedDoNotNotify", func(t *testing.T) {
		alice.post(t, "Autumn")
		autumn := newestPost(t, s)
		alice.postForm(t, postPath(autumn.ID, "/like"), nil)
		alice.postForm(t, "/user/dave/block", nil)
		dave.postForm(t, postPath(autumn.ID, "/like"), nil)
		if _, n := alice.badges(t); n != 0 {
			t.Errorf("alice's badge %d after her own and a blocked member's likes, want 0", n)
		}
		if n, _ := likes(bob); n == "" {
			t.Error("no count shown")
		}
		r := bob.page(t, postPath(autumn.ID, ""))
		if got := r.texts("like-count"); !slices.Equal(got, []string{"2"}) {
			t.Errorf("autumn's likes %q, want both counted", got)
		}
	})
}

// Editing: the author alone, within natter.EditWindow; "edited" on every
// list, the earlier text on the post's page; newly mentioned members are
// told, the others not again.
func TestEditPost(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice, bob, carol := s.register(t, "alice"), s.register(t, "bob"), s.register(t, "carol")
	alice.post(t, "Lunch wiht @bob?")
	post := newestPost(t, s)
	edit := func(m *member, body string) *response {
		t.Helper()
		return m.postForm(t, postPath(post.ID, "/edit"), url.Values{"body": {body}})
	}

	t.Run("OK", func(t *testing.T) {
		form := alice.page(t, postPath(post.ID, "/edit"))
		if form.fieldValue("body") != "Lunch wiht @bob?" {
			t.Errorf("the edit form holds %q", form.fieldValue("body"))
		}
		alice.page(t, "/").linkTo(postPath(post.ID, "/edit"))
		edit(alice, "Lunch with @bob and @carol?").wantRedirect(postPath(post.ID, ""))
		// carol is newly mentioned; bob was told already.
		if _, n := carol.badges(t); n != 1 {
			t.Errorf("carol's badge %d, want 1 (newly mentioned)", n)
		}
		if _, n := bob.badges(t); n != 1 {
			t.Errorf("bob's badge %d, want 1 (told once)", n)
		}
		page := bob.page(t, postPath(post.ID, "")).wantText("Lunch with @bob and @carol?", "edited", "1 earlier version", "Lunch wiht @bob?")
		// The earlier version's @bob links to him, as the post's does.
		if v := page.byID("versions"); !strings.Contains(v.Inner, `<a class="mention user-popup" href="/user/bob"`) {
			t.Errorf("the earlier version does not link @bob:\n%s", v.Inner)
		}
		bob.page(t, "/").wantText("edited").wantNoText("Lunch wiht")
		// Taking bob out and back in tells him nothing new.
		edit(alice, "Lunch with @carol?").wantRedirect(postPath(post.ID, ""))
		edit(alice, "Lunch with @carol and @bob!").wantRedirect(postPath(post.ID, ""))
		if _, n := bob.badges(t); n != 0 {
			t.Errorf("bob's badge %d after being mentioned again, want 0: he read it and is not told again", n)
		}
		bob.page(t, postPath(post.ID, "")).wantText("3 earlier versions")
	})

	t.Run("ErrNotTheAuthor", func(t *testing.T) {
		bob.get(t, postPath(post.ID, "/edit")).wantStatus(http.StatusForbidden)
		edit(bob, "mine now").wantStatus(http.StatusForbidden)
		bob.page(t, "/").wantNoText("mine now")
		if bob.page(t, "/").has(postPath(post.ID, "/edit")) {
			t.Error("bob is offered to edit alice's post")
		}
	})

	t.Run("ErrInvalidKeepsTheText", func(t *testing.T) {
		long := strings.Repeat("y", 141)
		r := edit(alice, long).wantStatus(http.StatusUnprocessableEntity)
		if r.fieldValue("body") != long || r.fieldError("body") == "" {
			t.Errorf("refused edit: %q, %q", r.fieldValue("body"), r.fieldError("body"))
		}
	})

	t.Run("ErrWindowClosed", func(t *testing.T) {
		s.clock.Advance(natter.EditWindow + time.Second)
		edit(alice, "too late").wantStatus(http.StatusForbidden).wantText("15 minutes")
		alice.get(t, postPath(post.ID, "/edit")).wantStatus(http.StatusForbidden)
		if alice.page(t, "/").has(postPath(post.ID, "/edit")) {
			t.Error("the timeline still offers to edit after the window")
		}
	})
}

// Deleting: a confirmation page that works without JavaScript; the post
// leaves every list at once; its page is a 410 that keeps its replies; its
// notifications leave every centre, the counts drop on /notifications and
// on open streams.
func TestDeletePost(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	alice, bob, carol := s.register(t, "alice"), s.register(t, "bob"), s.register(t, "carol")
	alice.post(t, "Party at mine, @bob and @carol")
	post := newestPost(t, s)
	bob.postForm(t, postPath(post.ID, "/reply"), url.Values{"body": {"Count me in"}})
	reply := newestPost(t, s)
	carol.postForm(t, postPath(reply.ID, "/like"), nil)
	alice.page(t, "/").wantText("Party at mine") // kept in the caches

	// bob is told of the mention, and of carol's like of his reply.
	if _, n := bob.badges(t); n != 2 {
		t.Fatalf("bob's badge %d, want 2", n)
	}
	stream := bob.openStream(t, fmt.Sprint(bob.user(t).NotificationSeq))

	t.Run("ErrNotTheAuthor", func(t *testing.T) {
		bob.get(t, postPath(post.ID, "/delete")).wantStatus(http.StatusForbidden)
		bob.postForm(t, postPath(post.ID, "/delete"), nil).wantStatus(http.StatusForbidden)
	})

	t.Run("Confirm", func(t *testing.T) {
		r := alice.page(t, postPath(post.ID, "/delete")).wantText("Delete this post?", "Party at mine")
		r.formTo(postPath(post.ID, "/delete"))
		alice.page(t, "/").linkTo(postPath(post.ID, "/delete"))
	})

	t.Run("OK", func(t *testing.T) {
		alice.postForm(t, postPath(post.ID, "/delete"), nil).wantRedirect("/")
		for _, path := range []string{"/", "/index", "/user/alice", "/activity"} {
			bob.page(t, path).wantNoText("Party at mine")
		}
		if _, n := bob.badges(t); n != 1 {
			t.Errorf("bob's badge %d after the post went, want 1 (carol's like of his reply)", n)
		}
		if n := bob.notification(t, "unread_activity_count"); n != 1 {
			t.Errorf("bob's unread_activity_count %v, want 1", n)
		}
		if n := carol.notification(t, "unread_activity_count"); n != 0 {
			t.Errorf("carol's unread_activity_count %v, want 0", n)
		}
		if n := stream.nextNamed("unread_activity_count").count(t); n != 1 {
			t.Errorf("bob's stream says %d, want 1", n)
		}
		// The page says so, with a 410, and keeps the reply.
		r := carol.get(t, postPath(post.ID, "")).wantStatus(http.StatusGone)
		r.wantText("This post was deleted", "Count me in").wantNoText("Party at mine")
		// The reply says it answers a deleted post, and is still there.
		carol.page(t, postPath(reply.ID, "")).wantText("A post that was deleted.", "Count me in")
		// Nothing more can be done to it.
		bob.postForm(t, postPath(post.ID, "/reply"), url.Values{"body": {"hello?"}}).wantStatus(http.StatusGone)
		bob.postForm(t, postPath(post.ID, "/like"), nil).wantStatus(http.StatusGone)
		alice.postForm(t, postPath(post.ID, "/edit"), url.Values{"body": {"back"}}).wantStatus(http.StatusGone)
		alice.postForm(t, postPath(post.ID, "/delete"), nil).wantStatus(http.StatusGone)
	})

	t.Run("ReplyDeletedWithdrawsItsNotifications", func(t *testing.T) {
		// bob's reply had a like from carol: bob was told of it.
		if _, n := bob.badges(t); n != 1 {
			t.Fatalf("bob's badge %d, want 1 (carol's like)", n)
		}
		bob.postForm(t, postPath(reply.ID, "/delete"), nil).wantRedirect("/")
		if _, n := bob.badges(t); n != 0 {
			t.Errorf("bob's badge %d after deleting the liked reply, want 0", n)
		}
		if n := stream.nextNamed("unread_activity_count").count(t); n != 0 {
			t.Errorf("bob's stream says %d, want 0", n)
		}
		if got := centreGroups(bob.page(t, "/activity")); len(got) != 0 {
			t.Errorf("bob's centre still lists %q", got)
		}
		carol.get(t, postPath(post.ID, "")).wantStatus(http.StatusGone).wantNoText("Count me in")
	})
}

// Posts, edits and replies through the XSS corpus of TestHTMLInjection:
// every page that shows them escapes them.
func TestPostActionsHTMLInjection(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	mallory, bob := s.register(t, "mallory"), s.register(t, "bob")
	payloads := []string{`<script>alert(1)</script>`, `"><img src=x onerror=alert(1)>`, `'><svg onload=alert(1)>`, `javascript:alert(1)`}
	text := strings.Join(payloads, " ")
	bob.post(t, "hello")
	post := newestPost(t, s)
	mallory.postForm(t, postPath(post.ID, "/reply"), url.Values{"body": {"first"}})
	reply := newestPost(t, s)
	mallory.postForm(t, postPath(reply.ID, "/edit"), url.Values{"body": {text + " @bob"}}).wantRedirect(postPath(reply.ID, ""))
	mallory.postForm(t, postPath(reply.ID, "/edit"), url.Values{"body": {"second " + text}}).wantRedirect(postPath(reply.ID, ""))
	_, v := mallory.postJSON(t, postPath(post.ID, "/reply"), url.Values{"body": {text}})
	check := func(t *testing.T, where, body string) {
		t.Helper()
		for _, p := range payloads[:3] {
			if strings.Contains(body, p) {
				t.Errorf("%s: the raw payload %s is in it", where, p)
			}
		}
		if regexp.MustCompile(`(?i)(href|src|action)\s*=\s*["']?\s*javascript:`).MatchString(body) {
			t.Errorf("%s: a javascript: URL is in it", where)
		}
	}
	check(t, "the reply as JSON", v["html"].(string))
	for _, path := range []string{"/", postPath(post.ID, ""), postPath(reply.ID, ""), "/user/mallory", "/activity"} {
		r := bob.page(t, path)
		check(t, path, r.Body)
	}
	bob.page(t, postPath(reply.ID, "")).wantText(text)
	check(t, "the edit form", mallory.page(t, postPath(reply.ID, "/edit")).Body)
	check(t, "the delete page", mallory.page(t, postPath(reply.ID, "/delete")).Body)
	long := text + strings.Repeat("!", 141)
	check(t, "a refused edit", mallory.postForm(t, postPath(reply.ID, "/edit"), url.Values{"body": {long}}).wantStatus(http.StatusUnprocessableEntity).Body)
	check(t, "a refused reply", mallory.postForm(t, postPath(post.ID, "/reply"), url.Values{"body": {long}}).wantStatus(http.StatusUnprocessableEntity).Body)
}
