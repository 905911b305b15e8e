package store_test

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"testing"
	"time"

	"natter/internal/natter"
	"natter/internal/store"
)

// A login lives in its session's row: listed, touched, idle past its
// limit gone (for the session store too), and ended by id.
func TestLogins(t *testing.T) {
	forEachClocked(t, func(t *testing.T, s *store.Store, c *clock) {
		ctx := context.Background()
		alice := createUser(t, s, "alice")
		now := c.Now()
		for _, token := range []string{"tok-a", "tok-b"} {
			if err := s.StartLogin(ctx, token, natter.Login{MemberID: alice.ID, UserAgent: "UA " + token, Address: "192.0.2.1",
				CreatedAt: now, LastActive: now, IdleUntil: now.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
		// The session store writes its data afterwards; the login stays.
		if err := s.Sessions().CommitCtx(ctx, "tok-a", []byte("data"), now.Add(24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if data, ok, err := s.Sessions().FindCtx(ctx, "tok-a"); err != nil || !ok || string(data) != "data" {
			t.Fatalf("FindCtx = %q, %v, %v", data, ok, err)
		}
		l, err := s.Login(ctx, "tok-a")
		if err != nil || l.MemberID != alice.ID || l.UserAgent != "UA tok-a" || l.ID == "" || l.ID == "tok-a" {
			t.Fatalf("Login = %+v, %v", l, err)
		}
		logins, err := s.Logins(ctx, alice.ID)
		if err != nil || len(logins) != 2 {
			t.Fatalf("Logins = %v, %v", logins, err)
		}

		c.Advance(50 * time.Minute)
		if err := s.TouchLogin(ctx, "tok-a", c.Now(), c.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		c.Advance(20 * time.Minute) // tok-b idle past its hour
		if _, ok, _ := s.Sessions().FindCtx(ctx, "tok-b"); ok {
			t.Error("an idle session is still found")
		}
		if _, err := s.Login(ctx, "tok-b"); !errors.Is(err, natter.ErrNotFound) {
			t.Errorf("Login of an idle session: %v", err)
		}
		if _, ok, _ := s.Sessions().FindCtx(ctx, "tok-a"); !ok {
			t.Error("a session used in time was lost")
		}
		if n, err := s.Sessions().DeleteExpired(ctx); err != nil || n != 1 {
			t.Errorf("DeleteExpired = %d, %v; want the idle one", n, err)
		}

		if n, err := s.EndLogins(ctx, alice.ID, l.ID); err != nil || n != 1 {
			t.Fatalf("EndLogins = %d, %v", n, err)
		}
		if _, ok, _ := s.Sessions().FindCtx(ctx, "tok-a"); ok {
			t.Error("an ended session is still found")
		}
	})
}

// A secret is made once and the same for every caller.
func TestSecret(t *testing.T) {
	forEachClocked(t, func(t *testing.T, s *store.Store, c *clock) {
		ctx := context.Background()
		a, err := s.Secret(ctx, "k", 32)
		if err != nil || len(a) != 32 {
			t.Fatalf("Secret = %x, %v", a, err)
		}
		b, err := s.Secret(ctx, "k", 32)
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("second Secret = %x, %v; want %x", b, err, a)
		}
	})
}

// A rename keeps the old name for its member; a deleted account keeps its
// name taken, and its messages a sender.
func TestFormerNamesAndDeletion(t *testing.T) {
	forEachClocked(t, func(t *testing.T, s *store.Store, c *clock) {
		ctx := context.Background()
		bob, carol := createUser(t, s, "bob"), createUser(t, s, "carol")
		mustUpdate(t, s, func(tx natter.Tx) error { return tx.UpdateProfile(ctx, bob.ID, "robert", "") })
		robert := natter.MemberRef{ID: bob.ID, Username: "robert"}
		if named, err := s.MembersNamed(ctx, []string{"BOB"}); err != nil || named["bob"] != robert {
			t.Errorf("MembersNamed(BOB) = %v, %v; want robert", named, err)
		}
		_, err := s.Update(ctx, func(tx natter.Tx) error {
			_, err := tx.CreateUser(ctx, "bob", "x@example.com", "h")
			return err
		})
		if !errors.Is(err, natter.ErrUsernameTaken) {
			t.Errorf("registering a former name: %v", err)
		}
		mustUpdate(t, s, func(tx natter.Tx) error { return tx.UpdateProfile(ctx, bob.ID, "bob", "") })
		if named, err := s.MembersNamed(ctx, []string{"robert"}); err != nil || named["robert"] != bob.Ref() {
			t.Errorf("after renaming back, MembersNamed(robert) = %v, %v; want bob", named, err)
		}
		// Mentions find members by current and former names, in any case.
		named, err := s.MembersNamed(ctx, []string{"Robert", "BOB", "carol", "nobody", "carol"})
		want := map[string]natter.MemberRef{"robert": bob.Ref(), "bob": bob.Ref(), "carol": carol.Ref()}
		if err != nil || !maps.Equal(named, want) {
			t.Errorf("MembersNamed = %v, %v; want %v", named, err, want)
		}

		var post natter.Post
		mustUpdate(t, s, func(tx natter.Tx) error {
			var err error
			if post, err = tx.CreatePost(ctx, bob.Ref(), "hi @carol"); err != nil {
				return err
			}
			if _, _, err := tx.AddActivity(ctx, natter.NewActivity{UserID: carol.ID, Kind: natter.ActivityMention, Actor: bob.Ref(), PostID: post.ID, Window: natter.ActivityWindow}); err != nil {
				return err
			}
			_, _, err = tx.CreateMessage(ctx, bob.Ref(), carol.Ref(), "a message")
			return err
		})
		var counts map[int64]int
		mustUpdate(t, s, func(tx natter.Tx) error {
			var err error
			counts, err = tx.DeleteAccount(ctx, bob.ID)
			return err
		})
		if counts[carol.ID] != 0 || len(counts) != 1 {
			t.Errorf("DeleteAccount counts = %v, want carol at 0", counts)
		}
		// A deleted member's names name nobody (and no kept answer says otherwise).
		if named, err := s.MembersNamed(ctx, []string{"bob", "robert", "carol"}); err != nil || len(named) != 1 {
			t.Errorf("after deletion, MembersNamed = %v, %v; want carol alone", named, err)
		}
		if got := reload(t, s, carol).UnreadActivity; got != 0 {
			t.Errorf("carol's unread activity = %d", got)
		}
		if _, err := s.MemberByName(ctx, "bob"); !errors.Is(err, natter.ErrNotFound) {
			t.Errorf("MemberByName of a deleted member: %v", err)
		}
		if _, err := s.Credentials(ctx, "bob"); !errors.Is(err, natter.ErrNotFound) {
			t.Errorf("Credentials of a deleted member: %v", err)
		}
		posts, msgs, err := s.Writings(ctx, carol.ID)
		if err != nil || len(posts) != 0 || len(msgs) != 1 || msgs[0].Sender.Username != store.DeletedName {
			t.Errorf("carol's writings after bob left: %v, %v, %v", posts, msgs, err)
		}
		_, err = s.Update(ctx, func(tx natter.Tx) error {
			_, err := tx.CreateUser(ctx, "Bob", "bob@example.com", "h")
			return err
		})
		if !errors.Is(err, natter.ErrUsernameTaken) {
			t.Errorf("registering a deleted member's name: %v", err)
		}
	})
}
