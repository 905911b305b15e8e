package store_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"natter/internal/natter"
	"natter/internal/store"
	"natter/internal/store/storetest"
)

// centre summarises a member's notification centre, newest group first:
// "mention: carol,bob (3 entries, 2 actors, 1 unread) [p3* p2 p1]", the
// starred posts unread.
func centre(t *testing.T, s *store.Store, u natter.Account, before int64, limit int) (out []string) {
	t.Helper()
	groups, err := s.ActivityGroups(t.Context(), u.ID, before, limit, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups {
		var actors, posts []string
		for _, a := range g.Recent {
			if !slices.Contains(actors, a.Actor.Username) {
				actors = append(actors, a.Actor.Username)
			}
			star := ""
			if a.Unread {
				star = "*"
			}
			posts = append(posts, a.Body+star)
		}
		out = append(out, fmt.Sprintf("%s: %s (%d entries, %d actors, %d unread) [%s]",
			g.Kind, strings.Join(actors, ","), g.Entries, g.Actors, g.Unread, strings.Join(posts, " ")))
	}
	return out
}

func TestActivity(t *testing.T) {
	forEachClocked(t, func(t *testing.T, s *store.Store, clock *clock) {
		ctx := t.Context()
		alice, bob, carol := createUser(t, s, "alice"), createUser(t, s, "bob"), createUser(t, s, "carol")

		post := func(author natter.Account, body string) natter.Post {
			t.Helper()
			var p natter.Post
			mustUpdate(t, s, func(tx natter.Tx) error {
				var err error
				p, err = tx.CreatePost(ctx, ref(author), body)
				return err
			})
			return p
		}
		mention := func(u, actor natter.Account, p natter.Post) (natter.Activity, int) {
			t.Helper()
			var a natter.Activity
			var n int
			mustUpdate(t, s, func(tx natter.Tx) error {
				var err error
				a, n, err = tx.AddActivity(ctx, natter.NewActivity{UserID: u.ID, Kind: natter.ActivityMention,
					Actor: ref(actor), PostID: p.ID, Window: natter.ActivityWindow})
				return err
			})
			return a, n
		}
		read := func(fn func(tx natter.Tx) (int, bool, error)) (int, bool) {
			t.Helper()
			var left int
			var changed bool
			mustUpdate(t, s, func(tx natter.Tx) error {
				var err error
				left, changed, err = fn(tx)
				return err
			})
			return left, changed
		}
		unread := func(a natter.Activity) bool {
			t.Helper()
			u, err := s.ActivityUnread(ctx, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			return u
		}

		// Within the window, mentions of alice form one group, however
		// many posts and whoever wrote them.
		p1, p2, p3 := post(bob, "p1"), post(carol, "p2"), post(bob, "p3")
		a1, n := mention(alice, bob, p1)
		if n != 1 || a1.ID == 0 || a1.GroupID == 0 || !a1.Unread {
			t.Errorf("first mention = %+v, count %d; want an unread entry in a group, count 1", a1, n)
		}
		clock.Advance(time.Hour)
		a2, _ := mention(alice, carol, p2)
		clock.Advance(natter.ActivityWindow - 2*time.Hour)
		a3, n := mention(alice, bob, p3)
		if n != 3 || a2.GroupID != a1.GroupID || a3.GroupID != a1.GroupID {
			t.Errorf("count %d, groups %d %d %d; want 3 entries in one group", n, a1.GroupID, a2.GroupID, a3.GroupID)
		}
		mention(bob, carol, p2) // bob's own centre is his
		want := []string{"mention: bob,carol (3 entries, 2 actors, 3 unread) [p3* p2* p1*]"}
		if got := centre(t, s, alice, 0, 10); !slices.Equal(got, want) {
			t.Errorf("alice's centre = %q\nwant %q", got, want)
		}

		// Once the group's first entry is a window old, the next starts a
		// group of its own, and it is the newest.
		clock.Advance(2 * time.Hour)
		p4 := post(carol, "p4")
		a4, n := mention(alice, carol, p4)
		if n != 4 || a4.GroupID == a1.GroupID {
			t.Errorf("after the window: count %d, group %d (the first was %d); want 4 in a new group", n, a4.GroupID, a1.GroupID)
		}
		want = []string{
			"mention: carol (1 entries, 1 actors, 1 unread) [p4*]",
			"mention: bob,carol (3 entries, 2 actors, 3 unread) [p3* p2* p1*]",
		}
		if got := centre(t, s, alice, 0, 10); !slices.Equal(got, want) {
			t.Errorf("alice's centre = %q\nwant %q", got, want)
		}

		t.Run("PagedByKey", func(t *testing.T) {
			first, err := s.ActivityGroups(ctx, alice.ID, 0, 1, 10)
			if err != nil || len(first) != 1 || first[0].LastID != a4.ID {
				t.Fatalf("first page = %+v, %v; want the newest group, last id %d", first, err, a4.ID)
			}
			if got := centre(t, s, alice, first[0].LastID, 1); !slices.Equal(got, want[1:]) {
				t.Errorf("page before %d = %q, want %q", first[0].LastID, got, want[1:])
			}
			if got := centre(t, s, alice, a3.ID, 10); len(got) != 0 {
				t.Errorf("page before the oldest group's newest entry = %q, want none", got)
			}
		})

		t.Run("PostPageReadsItsEntries", func(t *testing.T) {
			left, changed := read(func(tx natter.Tx) (int, bool, error) { return tx.MarkPostActivityRead(ctx, alice.ID, p2.ID) })
			if !changed || left != 3 {
				t.Errorf("MarkPostActivityRead = %d, %v; want 3 left, changed", left, changed)
			}
			if unread(a2) || !unread(a1) {
				t.Errorf("after opening p2: a2 unread %v, a1 unread %v", unread(a2), unread(a1))
			}
			if got := centre(t, s, alice, 0, 10)[1]; got != "mention: bob,carol (3 entries, 2 actors, 2 unread) [p3* p2 p1*]" {
				t.Errorf("the group after opening p2 = %q", got)
			}
			if got := reload(t, s, bob).UnreadActivity; got != 1 {
				t.Errorf("bob's count = %d, want 1 (alice's reading is hers)", got)
			}
			if _, changed := read(func(tx natter.Tx) (int, bool, error) { return tx.MarkPostActivityRead(ctx, alice.ID, p2.ID) }); changed {
				t.Error("opening p2 again reported a change")
			}
		})

		t.Run("MarkAllReadStopsAtWhatWasShown", func(t *testing.T) {
			// The page showed entries up to a3; a4 arrived meanwhile.
			left, changed := read(func(tx natter.Tx) (int, bool, error) { return tx.MarkActivityRead(ctx, alice.ID, a3.ID) })
			if !changed || left != 1 {
				t.Errorf("MarkActivityRead(up to a3) = %d, %v; want 1 left, changed", left, changed)
			}
			if !unread(a4) || unread(a3) || unread(a1) {
				t.Errorf("unread: a4 %v a3 %v a1 %v; want only a4", unread(a4), unread(a3), unread(a1))
			}
			want := []string{
				"mention: carol (1 entries, 1 actors, 1 unread) [p4*]",
				"mention: bob,carol (3 entries, 2 actors, 0 unread) [p3 p2 p1]",
			}
			if got := centre(t, s, alice, 0, 10); !slices.Equal(got, want) {
				t.Errorf("alice's centre = %q\nwant %q", got, want)
			}
			if _, changed := read(func(tx natter.Tx) (int, bool, error) { return tx.MarkActivityRead(ctx, alice.ID, a3.ID) }); changed {
				t.Error("marking the same entries again reported a change")
			}
			left, changed = read(func(tx natter.Tx) (int, bool, error) { return tx.MarkActivityRead(ctx, alice.ID, a4.ID) })
			if !changed || left != 0 || reload(t, s, alice).UnreadActivity != 0 {
				t.Errorf("MarkActivityRead(up to a4) = %d, %v; want 0 left, changed", left, changed)
			}
		})

		if _, err := s.ActivityUnread(ctx, 1<<40); !errors.Is(err, natter.ErrNotFound) {
			t.Errorf("ActivityUnread(no such entry) = %v, want ErrNotFound", err)
		}
	})
}

// Mentions arriving while their member reads them, on the centre and on
// posts' pages: however the transactions interleave, the member's count,
// the groups' counts and the entries' own read state agree.
func TestActivityCountersUnderConcurrency(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		bob := createUser(t, s, "bob")
		actors := []natter.Account{createUser(t, s, "alice"), createUser(t, s, "carol"), createUser(t, s, "dave")}
		const each = 30
		var posts []natter.Post
		for _, a := range actors {
			mustUpdate(t, s, func(tx natter.Tx) error {
				p, err := tx.CreatePost(ctx, ref(a), "@bob")
				posts = append(posts, p)
				return err
			})
		}

		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for i, a := range actors {
			wg.Go(func() {
				for range each {
					_, err := s.Update(ctx, func(tx natter.Tx) error {
						_, _, err := tx.AddActivity(ctx, natter.NewActivity{UserID: bob.ID, Kind: natter.ActivityMention,
							Actor: ref(a), PostID: posts[i].ID, Window: natter.ActivityWindow})
						return err
					})
					if err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Go(func() {
			for i := range each {
				_, err := s.Update(ctx, func(tx natter.Tx) error {
					if i%2 == 0 {
						_, _, err := tx.MarkPostActivityRead(ctx, bob.ID, posts[i%len(posts)].ID)
						return err
					}
					groups, err := s.ActivityGroups(ctx, bob.ID, 0, 1, 1)
					if err != nil || len(groups) == 0 {
						return err
					}
					_, _, err = tx.MarkActivityRead(ctx, bob.ID, groups[0].LastID)
					return err
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("transaction: %v", err)
		}

		groups, err := s.ActivityGroups(ctx, bob.ID, 0, 100, 10*each)
		if err != nil {
			t.Fatal(err)
		}
		var entries, groupUnread, unread int
		for _, g := range groups {
			entries += g.Entries
			groupUnread += g.Unread
			if len(g.Recent) != g.Entries || g.Actors != len(actors) {
				t.Errorf("group %d: %d entries listed of %d, %d actors; want all, %d", g.ID, len(g.Recent), g.Entries, g.Actors, len(actors))
			}
			n := 0
			for _, a := range g.Recent {
				if a.Unread {
					n++
				}
			}
			if n != g.Unread {
				t.Errorf("group %d counts %d unread, holds %d", g.ID, g.Unread, n)
			}
			unread += n
		}
		if len(groups) != 1 || entries != len(actors)*each {
			t.Errorf("%d groups of %d entries, want one of %d", len(groups), entries, len(actors)*each)
		}
		if got := reload(t, s, bob).UnreadActivity; got != unread || got != groupUnread {
			t.Errorf("bob's count is %d, his groups count %d, his entries %d unread", got, groupUnread, unread)
		}
	})
}
