package store_test

import (
	"fmt"
	"slices"
	"testing"

	"natter/internal/natter"
	"natter/internal/store"
	"natter/internal/store/storetest"
)

func TestActivity(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		alice, bob, carol := createUser(t, s, "alice"), createUser(t, s, "bob"), createUser(t, s, "carol")

		add := func(u natter.Account, kind string, actor natter.Account, postID, messageID int64) int {
			t.Helper()
			var n int
			mustUpdate(t, s, func(tx natter.Tx) error {
				var err error
				n, err = tx.AddActivity(ctx, u.ID, kind, ref(actor), postID, messageID)
				return err
			})
			return n
		}
		markRead := func(u natter.Account) bool {
			t.Helper()
			var changed bool
			mustUpdate(t, s, func(tx natter.Tx) error {
				var err error
				changed, err = tx.MarkActivityRead(ctx, u.ID)
				return err
			})
			return changed
		}
		list := func(u natter.Account, p natter.Pagination) (out []string) {
			t.Helper()
			acts, err := s.Activity(ctx, u.ID, p)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range acts {
				unread := ""
				if a.Unread {
					unread = " unread"
				}
				out = append(out, fmt.Sprintf("%s by %s: %s%s", a.Kind, a.Actor.Username, a.Body, unread))
			}
			return out
		}

		var post natter.Post
		mustUpdate(t, s, func(tx natter.Tx) error {
			var err error
			post, err = tx.CreatePost(ctx, ref(bob), "hey @alice")
			return err
		})
		msg, _ := send(t, s, carol, alice, "psst")

		t.Run("AddActivityCounts", func(t *testing.T) {
			if n := add(alice, natter.ActivityMention, bob, post.ID, 0); n != 1 {
				t.Errorf("first AddActivity count = %d, want 1", n)
			}
			if n := add(alice, natter.ActivityMessage, carol, 0, msg.ID); n != 2 {
				t.Errorf("second AddActivity count = %d, want 2", n)
			}
			if got := reload(t, s, alice).UnreadActivity; got != 2 {
				t.Errorf("alice.UnreadActivity = %d, want 2", got)
			}
			if got := reload(t, s, bob).UnreadActivity; got != 0 {
				t.Errorf("bob.UnreadActivity = %d, want 0", got)
			}
		})

		t.Run("ListNewestFirstWithBodies", func(t *testing.T) {
			want := []string{"message by carol: psst unread", "mention by bob: hey @alice unread"}
			if got := list(alice, natter.Pagination{Limit: 10}); !slices.Equal(got, want) {
				t.Errorf("Activity = %q, want %q", got, want)
			}
			acts, _ := s.Activity(ctx, alice.ID, natter.Pagination{Limit: 10})
			if acts[0].MessageID != msg.ID || acts[0].PostID != 0 || acts[1].PostID != post.ID || acts[1].MessageID != 0 {
				t.Errorf("ids: %+v", acts)
			}
			if got := list(alice, natter.PageFor(2, 1)); !slices.Equal(got, want[1:]) {
				t.Errorf("page 2 of 1 = %q", got)
			}
			if got := list(bob, natter.Pagination{Limit: 10}); len(got) != 0 {
				t.Errorf("bob's activity = %q, want none", got)
			}
		})

		t.Run("MarkActivityRead", func(t *testing.T) {
			if !markRead(alice) {
				t.Error("MarkActivityRead with unread entries reported no change")
			}
			if got := reload(t, s, alice).UnreadActivity; got != 0 {
				t.Errorf("UnreadActivity after read = %d", got)
			}
			want := []string{"message by carol: psst", "mention by bob: hey @alice"}
			if got := list(alice, natter.Pagination{Limit: 10}); !slices.Equal(got, want) {
				t.Errorf("Activity after read = %q, want %q", got, want)
			}
			if markRead(alice) {
				t.Error("second MarkActivityRead reported a change")
			}
			if markRead(bob) {
				t.Error("MarkActivityRead with no entries reported a change")
			}
		})

		t.Run("NewAfterReadIsUnread", func(t *testing.T) {
			// Another member's entry, with a higher id, does not count for alice.
			add(bob, natter.ActivityMention, carol, post.ID, 0)
			if n := add(alice, natter.ActivityMention, carol, post.ID, 0); n != 1 {
				t.Errorf("count after read = %d, want 1", n)
			}
			want := []string{"mention by carol: hey @alice unread", "message by carol: psst", "mention by bob: hey @alice"}
			if got := list(alice, natter.Pagination{Limit: 10}); !slices.Equal(got, want) {
				t.Errorf("Activity = %q, want %q", got, want)
			}
		})
	})
}
