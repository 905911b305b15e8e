package app_test

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"natter/internal/app"
	"natter/internal/natter"
	"natter/internal/store"
)

func TestCreatePost(t *testing.T) {
	e := newEnv(t, store.SQLite, app.Config{})
	ctx := t.Context()
	alice := e.register(t, "alice")

	for _, tt := range []struct {
		name, body string
		want       string // stored body; "" means refused
	}{
		{"OK", "hello world", "hello world"},
		{"OK1Character", "x", "x"},
		{"OK140ASCII", strings.Repeat("a", 140), strings.Repeat("a", 140)},
		{"OK140Emoji", strings.Repeat("😀", 140), strings.Repeat("😀", 140)},
		{"OK140Accented", strings.Repeat("é", 140), strings.Repeat("é", 140)},
		{"OKTrimmed", "  hi  \n", "hi"},
		{"OKCRLFNormalised", "line one\r\nline two", "line one\nline two"},
		{"OK140AfterNormalising", strings.Repeat("a", 70) + "\r\n" + strings.Repeat("b", 69), strings.Repeat("a", 70) + "\n" + strings.Repeat("b", 69)},
		{"OKHTMLKeptAsText", "<script>alert(1)</script>", "<script>alert(1)</script>"},
		{"ErrBlank", "", ""},
		{"ErrOnlySpaces", " \t\r\n ", ""},
		{"Err141ASCII", strings.Repeat("a", 141), ""},
		{"Err141Emoji", strings.Repeat("😀", 141), ""},
		{"ErrNUL", "a\x00b", ""},
		{"ErrInvalidUTF8", "a\xffb", ""},
		{"ErrTruncatedUTF8", "caf\xc3", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := e.Timeline(ctx, app.Position{})
			p, err := e.CreatePost(ctx, alice, tt.body)
			if tt.want == "" {
				wantFields(t, err, "body")
				if after, _ := e.Timeline(ctx, app.Position{}); len(after.Items) != len(before.Items) {
					t.Error("a refused post was stored")
				}
				return
			}
			if err != nil {
				t.Fatalf("CreatePost: %v", err)
			}
			if p.Body != tt.want || p.Author.ID != alice.ID {
				t.Errorf("CreatePost = %+v, want body %q", p, tt.want)
			}
			if tl, _ := e.Timeline(ctx, app.Position{}); tl.Items[0].Body != tt.want {
				t.Errorf("stored %q, want %q", tl.Items[0].Body, tt.want)
			}
		})
	}
}

func TestCreatePost_RateLimited(t *testing.T) {
	e := newEnv(t, store.SQLite, app.Config{PostPerMember: app.Limit{Events: 2, Per: time.Minute}})
	ctx := t.Context()
	alice, bob := e.register(t, "alice"), e.register(t, "bob")
	for range 2 {
		if _, err := e.CreatePost(ctx, alice, "hi"); err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.CreatePost(ctx, alice, "one too many")
	if le := wantKind(t, err, natter.RateLimited); le.RetryAfter <= 0 {
		t.Errorf("RetryAfter = %v", le.RetryAfter)
	}
	if _, err := e.CreatePost(ctx, bob, "hi"); err != nil {
		t.Errorf("bob limited by alice's posts: %v", err)
	}
	// A new name is not a new allowance.
	renamed, err := e.UpdateProfile(ctx, alice, "alicia", "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.CreatePost(ctx, renamed, "fresh start?")
	wantKind(t, err, natter.RateLimited)
}

func TestTimeline(t *testing.T) {
	e := newEnv(t, store.SQLite, app.Config{PostsPerPage: 2})
	if e.PostsPerPage() != 2 {
		t.Errorf("PostsPerPage() = %d, want 2", e.PostsPerPage())
	}
	ctx := t.Context()
	alice, bob := e.register(t, "alice"), e.register(t, "bob")
	var ids []int64 // of posts a, b, c, d, e
	for i, u := range []natter.Account{alice, bob, alice, bob, alice} {
		p, err := e.CreatePost(ctx, u, string(rune('a'+i)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	a, b, c, d := ids[0], ids[1], ids[2], ids[3]
	for _, tt := range []struct {
		name             string
		pos              app.Position
		want             []string
		hasPrev, hasNext bool
		newer, older     int64 // where the neighbouring pages start
	}{
		{"Newest", app.Position{}, []string{"e", "d"}, false, true, 0, d},
		{"Page1", app.Position{Page: 1}, []string{"e", "d"}, false, true, 0, d},
		{"Page2", app.Position{Page: 2}, []string{"c", "b"}, true, true, c, b},
		{"Page3", app.Position{Page: 3}, []string{"a"}, true, false, a, 0},
		{"PastTheEnd", app.Position{Page: 4}, nil, true, false, 0, 0},
		{"BeforeD", app.Position{Before: d}, []string{"c", "b"}, true, true, c, b},
		{"BeforeB", app.Position{Before: b}, []string{"a"}, true, false, a, 0},
		{"BeforeTheFirst", app.Position{Before: a}, nil, true, false, 0, 0},
		{"AfterA", app.Position{After: a}, []string{"c", "b"}, true, true, c, b},
		{"AfterB", app.Position{After: b}, []string{"d", "c"}, true, true, d, c},
		// Near the top, the newer page is the newest page, full.
		{"AfterC", app.Position{After: c}, []string{"e", "d"}, false, true, 0, d},
		{"AfterTheLast", app.Position{After: ids[4]}, []string{"e", "d"}, false, true, 0, d},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := e.Timeline(ctx, tt.pos)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, post := range p.Items {
				got = append(got, post.Body)
			}
			if !slices.Equal(got, tt.want) || p.HasPrev != tt.hasPrev || p.HasNext != tt.hasNext || p.Newer != tt.newer || p.Older != tt.older || p.Number != 0 {
				t.Errorf("%+v = %q prev %v next %v newer %d older %d number %d; want %q prev %v next %v newer %d older %d number 0",
					tt.pos, got, p.HasPrev, p.HasNext, p.Newer, p.Older, p.Number, tt.want, tt.hasPrev, tt.hasNext, tt.newer, tt.older)
			}
		})
	}
	for _, pos := range []app.Position{{Page: -1}, {Page: app.MaxPage + 1}, {Before: -1}, {Before: b, After: a}} {
		_, err := e.Timeline(ctx, pos)
		wantKind(t, err, natter.Malformed)
	}
}

// Every list reads its position from the same parameters, and refuses the
// same way what is not a position.
func TestParsePosition(t *testing.T) {
	for _, tt := range []struct {
		page, before, after string
		want                app.Position
	}{
		{"", "", "", app.Position{Page: 1}},
		{"1", "", "", app.Position{Page: 1}},
		{"7", "", "", app.Position{Page: 7}},
		{strconv.Itoa(app.MaxPage), "", "", app.Position{Page: app.MaxPage}},
		{"", "42", "", app.Position{Page: 1, Before: 42}},
		{"", "", "42", app.Position{Page: 1, After: 42}},
	} {
		got, err := app.ParsePosition(tt.page, tt.before, tt.after)
		if err != nil || got != tt.want {
			t.Errorf("ParsePosition(%q, %q, %q) = %+v, %v; want %+v", tt.page, tt.before, tt.after, got, err, tt.want)
		}
	}
	for _, tt := range []struct{ page, before, after string }{
		{"abc", "", ""},
		{"0", "", ""},
		{"-1", "", ""},
		{"1.5", "", ""},
		{strconv.Itoa(app.MaxPage + 1), "", ""},
		{"99999999999999999999", "", ""},
		{"", "abc", ""},
		{"", "0", ""},
		{"", "-5", ""},
		{"", "", "x"},
		{"2", "42", ""},
		{"", "42", "43"},
	} {
		_, err := app.ParsePosition(tt.page, tt.before, tt.after)
		if e := wantKind(t, err, natter.Malformed); e.Message == "" {
			t.Errorf("ParsePosition(%q, %q, %q): no message", tt.page, tt.before, tt.after)
		}
	}
	for _, s := range []string{"abc", "0", strconv.Itoa(app.MaxPage + 1)} {
		_, err := app.PageNumber(s)
		wantKind(t, err, natter.Malformed)
	}
}

func TestSegments(t *testing.T) {
	text := func(s string) app.Segment { return app.Segment{Text: s} }
	at := func(name string) app.Segment { return app.Segment{Text: "@" + name, Mention: name} }
	long32, long33 := strings.Repeat("a", 32), strings.Repeat("a", 33)

	for _, tt := range []struct {
		body     string
		segments []app.Segment
		mentions []string
	}{
		{"", nil, nil},
		{"no mentions", []app.Segment{text("no mentions")}, nil},
		{"@bob", []app.Segment{at("bob")}, []string{"bob"}},
		{"hi @bob!", []app.Segment{text("hi "), at("bob"), text("!")}, []string{"bob"}},
		{"mail@bob.com", []app.Segment{text("mail@bob.com")}, nil},
		{"write to mail@bob.com, @bob", []app.Segment{text("write to mail@bob.com, "), at("bob")}, []string{"bob"}},
		{"@@bob", []app.Segment{text("@@bob")}, nil},
		{"@ab", []app.Segment{text("@ab")}, nil},
		{"@abc", []app.Segment{at("abc")}, []string{"abc"}},
		{"@" + long32, []app.Segment{at(long32)}, []string{long32}},
		{"@" + long33, []app.Segment{text("@" + long33)}, nil},
		{"@ bob", []app.Segment{text("@ bob")}, nil},
		{"(@bob_1), @Carol.", []app.Segment{text("("), at("bob_1"), text("), "), at("Carol"), text(".")}, []string{"bob_1", "Carol"}},
		{"@bob's cat", []app.Segment{at("bob"), text("'s cat")}, []string{"bob"}},
		{"line\n@bob", []app.Segment{text("line\n"), at("bob")}, []string{"bob"}},
		{"@Bob @bob @BOB", []app.Segment{at("Bob"), text(" "), at("bob"), text(" "), at("BOB")}, []string{"Bob"}},
		{"@bob @carol @bob", []app.Segment{at("bob"), text(" "), at("carol"), text(" "), at("bob")}, []string{"bob", "carol"}},
		{"你好@bob", []app.Segment{text("你好"), at("bob")}, []string{"bob"}}, // no space needed after CJK text
	} {
		segs := app.Segments(tt.body)
		if !slices.Equal(segs, tt.segments) {
			t.Errorf("Segments(%q) = %+v, want %+v", tt.body, segs, tt.segments)
		}
		if got := app.Mentions(tt.body); !slices.Equal(got, tt.mentions) {
			t.Errorf("Mentions(%q) = %q, want %q", tt.body, got, tt.mentions)
		}
	}
}

var usernameRE = regexp.MustCompile(`^[A-Za-z0-9_]{3,32}$`)

// FuzzSegments: the segments of any body put back together are the body,
// byte for byte, and every mention is a valid username written as "@name".
func FuzzSegments(f *testing.F) {
	for _, seed := range []string{"", "@bob", "hi @bob!", "mail@bob.com", "@@bob", "@ab",
		"@" + strings.Repeat("z", 40), "@a_b @A_B", "\xff@bob\x00", "😀@bob😀", "(@x_1)@y"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var b strings.Builder
		for _, s := range app.Segments(body) {
			if s.Text == "" {
				t.Fatalf("empty segment in %q", body)
			}
			if s.Mention != "" && (s.Text != "@"+s.Mention || !usernameRE.MatchString(s.Mention)) {
				t.Fatalf("bad mention %+v in %q", s, body)
			}
			b.WriteString(s.Text)
		}
		if b.String() != body {
			t.Fatalf("segments of %q join to %q", body, b.String())
		}
		seen := map[string]bool{}
		for _, m := range app.Mentions(body) {
			if !usernameRE.MatchString(m) || seen[strings.ToLower(m)] {
				t.Fatalf("Mentions(%q) has bad or repeated %q", body, m)
			}
			seen[strings.ToLower(m)] = true
		}
	})
}

func TestCreatePost_Mentions(t *testing.T) {
	forEachDialect(t, app.Config{}, func(t *testing.T, e *env) {
		ctx := t.Context()
		alice, bob, carol, dave := e.register(t, "alice"), e.register(t, "bob"), e.register(t, "carol"), e.register(t, "dave")
		if _, err := e.Block(ctx, carol, "alice"); err != nil {
			t.Fatal(err)
		}
		e.pub.take()

		post, err := e.CreatePost(ctx, alice, "@bob @BOB @carol @alice @nobody hi @Dave, mail@bob.com")
		if err != nil {
			t.Fatal(err)
		}
		// bob once, dave once; not carol (blocked alice), not alice herself.
		for _, tt := range []struct {
			u    natter.Account
			want int
		}{{bob, 1}, {carol, 0}, {alice, 0}, {dave, 1}} {
			if got := e.reload(t, tt.u).UnreadActivity; got != tt.want {
				t.Errorf("%s.UnreadActivity = %d, want %d", tt.u.Username, got, tt.want)
			}
		}
		// Notifications come out in the order they were written; which of
		// bob and dave comes first is the store's map order.
		got := e.pub.take()
		slices.Sort(got)
		if want := []string{itoa(bob.ID) + ":unread_activity_count=1", itoa(dave.ID) + ":unread_activity_count=1"}; !slices.Equal(got, want) {
			t.Errorf("published %q, want %q", got, want)
		}
		c, err := e.Activity(ctx, bob, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Groups) != 1 || len(c.Groups[0].Recent) != 1 {
			t.Fatalf("bob's centre = %+v, want one entry", c.Groups)
		}
		if a := c.Groups[0].Recent[0]; a.Kind != natter.ActivityMention || a.PostID != post.ID || a.Actor.ID != alice.ID || !a.Unread {
			t.Errorf("bob's entry = %+v", a)
		}

		t.Run("UnblockedNotifiedAgain", func(t *testing.T) {
			if _, err := e.Unblock(ctx, carol, "alice"); err != nil {
				t.Fatal(err)
			}
			if _, err := e.CreatePost(ctx, alice, "sorry @carol"); err != nil {
				t.Fatal(err)
			}
			wantPublished(t, e, itoa(carol.ID)+":unread_activity_count=1")
		})

		t.Run("NoMentionsNothingPublished", func(t *testing.T) {
			if _, err := e.CreatePost(ctx, bob, "just me, @bob"); err != nil {
				t.Fatal(err)
			}
			wantPublished(t, e)
		})
	})
}
