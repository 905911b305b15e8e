package store_test

import (
	"testing"
	"time"

	"natter/internal/natter"
	"natter/internal/store"
	"natter/internal/store/storetest"
)

// A member's post count goes up with each post, in the same transaction,
// and is read with the member (the hover card's "12 posts").
func TestPostCount(t *testing.T) {
	forEachClocked(t, func(t *testing.T, s *store.Store, c *clock) {
		ctx := t.Context()
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		if alice.PostCount != 0 {
			t.Fatalf("new member's PostCount = %d, want 0", alice.PostCount)
		}
		for _, body := range []string{"one", "two"} {
			mustUpdate(t, s, func(tx natter.Tx) error {
				_, err := tx.CreatePost(ctx, ref(alice), body)
				return err
			})
		}
		mustUpdate(t, s, func(tx natter.Tx) error {
			_, err := tx.CreatePost(ctx, ref(bob), "three")
			return err
		})
		if got := reload(t, s, alice).PostCount; got != 2 {
			t.Errorf("alice's PostCount = %d, want 2", got)
		}
		m, err := s.MemberByName(ctx, "bob")
		if err != nil || m.PostCount != 1 {
			t.Errorf("MemberByName(bob) = PostCount %d, %v; want 1", m.PostCount, err)
		}

		t.Run("RolledBack", func(t *testing.T) {
			_, err := s.Update(ctx, func(tx natter.Tx) error {
				if _, err := tx.CreatePost(ctx, ref(bob), "never"); err != nil {
					return err
				}
				return natter.ErrNotFound
			})
			if err == nil {
				t.Fatal("Update committed")
			}
			if got := reload(t, s, bob).PostCount; got != 1 {
				t.Errorf("bob's PostCount after a rollback = %d, want 1", got)
			}
		})
	})
}

func TestSetHideLastSeen(t *testing.T) {
	forEachClocked(t, func(t *testing.T, s *store.Store, c *clock) {
		ctx := t.Context()
		alice := createUser(t, s, "alice")
		if alice.HideLastSeen {
			t.Fatal("a new member hides their last seen time")
		}
		for _, hide := range []bool{true, false} {
			mustUpdate(t, s, func(tx natter.Tx) error { return tx.SetHideLastSeen(ctx, alice.ID, hide) })
			if got := reload(t, s, alice).HideLastSeen; got != hide {
				t.Errorf("after SetHideLastSeen(%v), Account says %v", hide, got)
			}
			if m, err := s.MemberByName(ctx, "alice"); err != nil || m.HideLastSeen != hide {
				t.Errorf("after SetHideLastSeen(%v), MemberByName says %v, %v", hide, m.HideLastSeen, err)
			}
		}
	})
}

// Migration 9 counts the posts members wrote before it.
func TestMigrationPostCount(t *testing.T) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			ctx := t.Context()
			dsn := storetest.DSN(t, d)
			db := storetest.OpenRaw(t, d, dsn)
			exec := func(q string, args ...any) {
				t.Helper()
				if _, err := db.ExecContext(ctx, q, args...); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			migrateBefore(t, d, db, 9)
			now := time.Now().UnixMicro()
			var alice, bob int64
			for _, u := range []struct {
				name string
				id   *int64
			}{{"alice", &alice}, {"bob", &bob}} {
				err := db.QueryRowContext(ctx, `INSERT INTO users (username, username_key, email, email_key, password_hash, created_at, last_seen)
					VALUES ($1, $1, $2, $2, 'x', $3, $3) RETURNING id`, u.name, u.name+"@example.com", now).Scan(u.id)
				if err != nil {
					t.Fatal(err)
				}
			}
			for range 3 {
				exec(`INSERT INTO posts (user_id, body, created_at) VALUES ($1, 'hi', $2)`, alice, now)
			}

			s, err := store.Open(ctx, dsn, store.Options{})
			if err != nil {
				t.Fatalf("migrating: %v", err)
			}
			defer s.Close()
			for id, want := range map[int64]int{alice: 3, bob: 0} {
				a, err := s.Account(ctx, id)
				if err != nil || a.PostCount != want || a.HideLastSeen {
					t.Errorf("Account(%d) = PostCount %d, HideLastSeen %v, %v; want %d, false", id, a.PostCount, a.HideLastSeen, err, want)
				}
			}
		})
	}
}
