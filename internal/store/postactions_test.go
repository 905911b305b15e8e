package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"natter/internal/natter"
	"natter/internal/store"
	"natter/internal/store/storetest"
)

func TestPostActions(t *testing.T) {
	forEachClocked(t, func(t *testing.T, s *store.Store, c *clock) {
		ctx := t.Context()
		alice, bob, carol := createUser(t, s, "alice"), createUser(t, s, "bob"), createUser(t, s, "carol")
		var parent, reply, other natter.Post
		mustUpdate(t, s, func(tx natter.Tx) error {
			var err error
			if parent, err = tx.CreatePost(ctx, ref(alice), "hello"); err != nil {
				return err
			}
			if reply, err = tx.CreatePost(ctx, ref(bob), "hi alice"); err != nil {
				return err
			}
			if err := tx.AttachReply(ctx, reply.ID, parent.ID); err != nil {
				return err
			}
			other, err = tx.CreatePost(ctx, ref(carol), "unrelated")
			return err
		})
		post := func(id int64) natter.Post {
			t.Helper()
			p, err := s.Post(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}

		t.Run("Reply", func(t *testing.T) {
			if p := post(parent.ID); p.Replies != 1 || p.ReplyTo != 0 {
				t.Errorf("parent = %+v, want 1 reply", p)
			}
			r := post(reply.ID)
			if r.ReplyTo != parent.ID || r.ReplyToAuthor != ref(alice) {
				t.Errorf("reply = %+v, want it to answer alice's post", r)
			}
			got, err := s.Replies(ctx, parent.ID, 0, 10)
			if err != nil || len(got) != 1 || got[0].ID != reply.ID {
				t.Errorf("Replies = %+v, %v; want the reply", got, err)
			}
			tl, err := s.Timeline(ctx, natter.Window{Limit: 10})
			if err != nil || tl[1].ReplyTo != parent.ID || tl[1].ReplyToAuthor.Username != "alice" {
				t.Errorf("Timeline shows the reply as %+v, %v", tl[1], err)
			}
		})

		t.Run("LikeCountsOnce", func(t *testing.T) {
			for i, want := range []struct {
				like    bool
				changed bool
				likes   int
			}{{true, true, 1}, {true, false, 1}, {false, true, 0}, {false, false, 0}, {true, true, 1}} {
				mustUpdate(t, s, func(tx natter.Tx) error {
					f := tx.Unlike
					if want.like {
						f = tx.Like
					}
					changed, n, err := f(ctx, bob.ID, parent.ID)
					if changed != want.changed || n != want.likes {
						t.Errorf("step %d: changed %v, %d likes; want %v, %d", i, changed, n, want.changed, want.likes)
					}
					return err
				})
			}
			if p := post(parent.ID); p.Likes != 1 {
				t.Errorf("Likes = %d, want 1", p.Likes)
			}
			liked, err := s.Liked(ctx, bob.ID, []int64{parent.ID, reply.ID, other.ID})
			if err != nil || !liked[parent.ID] || liked[reply.ID] || liked[other.ID] {
				t.Errorf("Liked = %v, %v; want the parent only", liked, err)
			}
			// The lists show the new count: the cached first page is forgotten.
			tl, err := s.Timeline(ctx, natter.Window{Limit: 10})
			if err != nil || tl[2].Likes != 1 {
				t.Errorf("Timeline shows %d likes, %v; want 1", tl[2].Likes, err)
			}
		})

		t.Run("EditKeepsVersions", func(t *testing.T) {
			c.Advance(time.Minute)
			mustUpdate(t, s, func(tx natter.Tx) error { return tx.EditPost(ctx, parent.ID, "hello @carol") })
			c.Advance(time.Minute)
			mustUpdate(t, s, func(tx natter.Tx) error { return tx.EditPost(ctx, parent.ID, "hello @carol!") })
			p := post(parent.ID)
			if p.Body != "hello @carol!" || !p.EditedAt.Equal(c.Now()) {
				t.Errorf("edited = %+v", p)
			}
			vs, err := s.PostVersions(ctx, parent.ID)
			if err != nil || len(vs) != 2 || vs[0].Body != "hello @carol" || vs[1].Body != "hello" ||
				!vs[1].WrittenAt.Equal(parent.CreatedAt) || !vs[0].WrittenAt.Equal(c.Now().Add(-time.Minute)) {
				t.Errorf("PostVersions = %+v, %v", vs, err)
			}
			mustUpdate(t, s, func(tx natter.Tx) error {
				bodies, err := tx.PostBodies(ctx, parent.ID)
				if len(bodies) == 3 {
					slices.Sort(bodies[1:])
				}
				if fmt.Sprint(bodies) != "[hello @carol! hello hello @carol]" {
					t.Errorf("PostBodies = %q", bodies)
				}
				return err
			})
		})

		t.Run("WithdrawActivity", func(t *testing.T) {
			// alice is told of bob's reply and of bob's and carol's likes;
			// carol of a mention in the reply.
			mustUpdate(t, s, func(tx natter.Tx) error {
				for _, na := range []natter.NewActivity{
					{UserID: alice.ID, Kind: natter.ActivityReply, Actor: ref(bob), PostID: reply.ID, Subject: parent.ID},
					{UserID: alice.ID, Kind: natter.ActivityLike, Actor: ref(bob), PostID: parent.ID, Subject: parent.ID},
					{UserID: alice.ID, Kind: natter.ActivityLike, Actor: ref(carol), PostID: parent.ID, Subject: parent.ID},
					{UserID: carol.ID, Kind: natter.ActivityMention, Actor: ref(bob), PostID: reply.ID},
				} {
					na.Window = time.Hour
					if _, _, err := tx.AddActivity(ctx, na); err != nil {
						return err
					}
				}
				return nil
			})
			// carol takes back her like.
			mustUpdate(t, s, func(tx natter.Tx) error {
				gone, err := tx.WithdrawActivity(ctx, parent.ID, natter.ActivityLike, carol.ID)
				if len(gone) != 1 || gone[0].UserID != alice.ID || gone[0].Unread != 1 || gone[0].Left != 2 {
					t.Errorf("unlike withdrew %+v, want one of alice's, 2 left", gone)
				}
				return err
			})
			groups, err := s.ActivityGroups(ctx, alice.ID, 0, 10, 3)
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range groups {
				if g.Kind == natter.ActivityLike && (g.Entries != 1 || g.Actors != 1 || g.Unread != 1) {
					t.Errorf("likes group after unlike = %+v, want bob's alone", g)
				}
			}
			// The reply goes: alice's reply entry and carol's mention.
			mustUpdate(t, s, func(tx natter.Tx) error {
				if err := tx.DeletePost(ctx, reply.ID); err != nil {
					return err
				}
				gone, err := tx.WithdrawActivity(ctx, reply.ID, "", 0)
				if len(gone) != 2 || gone[0].UserID != alice.ID || gone[0].Left != 1 || fmt.Sprint(gone[0].Kinds) != "[reply]" ||
					gone[1].UserID != carol.ID || gone[1].Left != 0 || fmt.Sprint(gone[1].Kinds) != "[mention]" {
					t.Errorf("delete withdrew %+v", gone)
				}
				return err
			})
			if a := reload(t, s, alice); a.UnreadActivity != 1 {
				t.Errorf("alice's unread = %d, want 1 (bob's like)", a.UnreadActivity)
			}
			if c := reload(t, s, carol); c.UnreadActivity != 0 {
				t.Errorf("carol's unread = %d, want 0", c.UnreadActivity)
			}
			groups, err = s.ActivityGroups(ctx, carol.ID, 0, 10, 3)
			if err != nil || len(groups) != 0 {
				t.Errorf("carol's centre = %+v, %v; want empty groups gone", groups, err)
			}
		})

		t.Run("DeletedPost", func(t *testing.T) {
			r := post(reply.ID)
			if !r.Deleted || r.Body != "" || r.Likes != 0 {
				t.Errorf("deleted reply = %+v, want emptied and marked", r)
			}
			if p := post(parent.ID); p.Replies != 0 {
				t.Errorf("parent counts %d replies after the reply's deletion", p.Replies)
			}
			tl, err := s.Timeline(ctx, natter.Window{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range tl {
				if p.ID == reply.ID {
					t.Errorf("the timeline still shows the deleted post")
				}
			}
			mine, err := s.PostsByUser(ctx, bob.ID, natter.Window{Limit: 10})
			if err != nil || len(mine) != 0 {
				t.Errorf("bob's profile shows %+v, %v", mine, err)
			}
			// The parent deleted: a reply to it still says what it answers.
			var r2 natter.Post
			mustUpdate(t, s, func(tx natter.Tx) error {
				var err error
				if r2, err = tx.CreatePost(ctx, ref(carol), "late reply"); err != nil {
					return err
				}
				if err := tx.AttachReply(ctx, r2.ID, parent.ID); err != nil {
					return err
				}
				return tx.DeletePost(ctx, parent.ID)
			})
			if got := post(r2.ID); got.ReplyTo != parent.ID {
				t.Errorf("reply to a deleted post = %+v", got)
			}
			if vs, err := s.PostVersions(ctx, parent.ID); err != nil || len(vs) != 0 {
				t.Errorf("a deleted post keeps versions %+v, %v", vs, err)
			}
			if liked, err := s.Liked(ctx, bob.ID, []int64{parent.ID}); err != nil || liked[parent.ID] {
				t.Errorf("a deleted post keeps likes: %v, %v", liked, err)
			}
		})

		t.Run("DeleteAccountWithRepliesAndLikes", func(t *testing.T) {
			var p natter.Post
			mustUpdate(t, s, func(tx natter.Tx) error {
				var err error
				if p, err = tx.CreatePost(ctx, ref(alice), "still here"); err != nil {
					return err
				}
				r, err := tx.CreatePost(ctx, ref(carol), "answer")
				if err != nil {
					return err
				}
				if err := tx.AttachReply(ctx, r.ID, p.ID); err != nil {
					return err
				}
				if _, _, err = tx.Like(ctx, carol.ID, p.ID); err != nil {
					return err
				}
				_, _, err = tx.AddActivity(ctx, natter.NewActivity{UserID: alice.ID, Kind: natter.ActivityLike,
					Actor: ref(carol), PostID: p.ID, Subject: p.ID, Window: time.Hour})
				return err
			})
			unread := reload(t, s, alice).UnreadActivity
			mustUpdate(t, s, func(tx natter.Tx) error {
				counts, err := tx.DeleteAccount(ctx, carol.ID)
				if counts[alice.ID] != unread-1 {
					t.Errorf("DeleteAccount counts %v, want alice's down by carol's like to %d", counts, unread-1)
				}
				return err
			})
			if got := post(p.ID); got.Likes != 0 || got.Replies != 0 {
				t.Errorf("after carol's account went, %+v still counts her", got)
			}
			if _, err := s.Post(ctx, other.ID); !errors.Is(err, natter.ErrNotFound) {
				t.Errorf("carol's post after her account went: %v", err)
			}
		})
	})
}

// A post with 100,000 likes reads as fast as one with none: the count is a
// column of its row. Compare the two sub-benchmarks.
func BenchmarkPostLikes(b *testing.B) {
	ctx := context.Background()
	s := storetest.Open(b, store.SQLite, store.Options{})
	l := s.BulkLoader()
	users, err := l.CreateUsers(ctx, "liker", 100_000, "x")
	if err != nil {
		b.Fatal(err)
	}
	var plain, popular natter.Post
	_, err = s.Update(ctx, func(tx natter.Tx) error {
		var err error
		if popular, err = tx.CreatePost(ctx, users[0], "everyone likes this"); err != nil {
			return err
		}
		plain, err = tx.CreatePost(ctx, users[0], "nobody likes this")
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := l.GenerateLikes(ctx, popular.ID, store.IDRange{First: users[0].ID, N: len(users)}, time.Now()); err != nil {
		b.Fatal(err)
	}
	for _, bb := range []struct {
		name  string
		post  natter.Post
		likes int
	}{{"Likes0", plain, 0}, {"Likes100k", popular, 100_000}} {
		b.Run(bb.name, func(b *testing.B) {
			for b.Loop() {
				p, err := s.Post(ctx, bb.post.ID)
				if err != nil || p.Likes != bb.likes {
					b.Fatalf("Post = %+v, %v", p, err)
				}
				// A page of the timeline from just above the post.
				if _, err := s.Timeline(ctx, natter.Window{Before: bb.post.ID + 1, Limit: 11}); err != nil {
					b.Fatal(err)
				}
				if _, err := s.Liked(ctx, users[1].ID, []int64{bb.post.ID}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
