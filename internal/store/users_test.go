package store_test

import (
	"errors"
	"fmt"
	"maps"
	"testing"
	"time"

	"natter/internal/natter"
	"natter/internal/store"
	"natter/internal/store/storetest"
)

func TestCreateUser(t *testing.T) {
	forEachClocked(t, func(t *testing.T, s *store.Store, c *clock) {
		ctx := t.Context()
		create := func(name, email string) (natter.Account, error) {
			var u natter.Account
			_, err := s.Update(ctx, func(tx natter.Tx) error {
				var err error
				u, err = tx.CreateUser(ctx, name, email, "hash")
				return err
			})
			return u, err
		}

		alice, err := create("Alice_1", "Alice@Example.com")
		if err != nil {
			t.Fatalf("CreateUser: %v", err)
		}

		t.Run("OK", func(t *testing.T) {
			if alice.ID == 0 || alice.Username != "Alice_1" || alice.Email != "Alice@Example.com" {
				t.Errorf("created %+v", alice)
			}
			if !alice.CreatedAt.Equal(c.Now()) || !alice.LastSeen.Equal(c.Now()) {
				t.Errorf("CreatedAt %v, LastSeen %v; want both %v", alice.CreatedAt, alice.LastSeen, c.Now())
			}
			if alice.AboutMe != "" || alice.UnreadMessages != 0 || alice.UnreadActivity != 0 || alice.NotificationSeq != 0 {
				t.Errorf("new member not blank: %+v", alice)
			}
		})

		t.Run("LookupsIgnoreCase", func(t *testing.T) {
			for _, name := range []string{"Alice_1", "alice_1", "ALICE_1"} {
				u, err := s.MemberByName(ctx, name)
				if err != nil || u.ID != alice.ID || u.Username != "Alice_1" {
					t.Errorf("MemberByName(%q) = %+v, %v; want Alice_1 as typed", name, u, err)
				}
				c, err := s.Credentials(ctx, name)
				if err != nil || c.MemberID != alice.ID || c.PasswordHash != "hash" {
					t.Errorf("Credentials(%q) = %v (hash %q), %v; want Alice_1's", name, c, c.PasswordHash, err)
				}
			}
			var inTx natter.Member
			mustUpdate(t, s, func(tx natter.Tx) error {
				var err error
				inTx, err = tx.MemberByName(ctx, "aLiCe_1")
				return err
			})
			if inTx.ID != alice.ID {
				t.Errorf("Tx.MemberByName = %+v", inTx)
			}
			if u, err := s.Account(ctx, alice.ID); err != nil || u != alice {
				t.Errorf("Account = %+v, %v; want %+v", u, err, alice)
			}
		})

		t.Run("ErrNotFound", func(t *testing.T) {
			if _, err := s.MemberByName(ctx, "nobody"); !errors.Is(err, natter.ErrNotFound) {
				t.Errorf("MemberByName(nobody) err = %v", err)
			}
			if _, err := s.Credentials(ctx, "nobody"); !errors.Is(err, natter.ErrNotFound) {
				t.Errorf("Credentials(nobody) err = %v", err)
			}
			if _, err := s.Account(ctx, alice.ID+1000); !errors.Is(err, natter.ErrNotFound) {
				t.Errorf("Account(unknown) err = %v", err)
			}
		})

		t.Run("ErrUsernameTaken", func(t *testing.T) {
			for _, name := range []string{"Alice_1", "alice_1", "ALICE_1"} {
				if _, err := create(name, "other@example.com"); !errors.Is(err, natter.ErrUsernameTaken) {
					t.Errorf("CreateUser(%q) err = %v, want natter.ErrUsernameTaken", name, err)
				}
			}
		})

		t.Run("ErrEmailTaken", func(t *testing.T) {
			for _, email := range []string{"Alice@Example.com", "alice@example.com", "ALICE@EXAMPLE.COM"} {
				if _, err := create("someone", email); !errors.Is(err, natter.ErrEmailTaken) {
					t.Errorf("CreateUser(email %q) err = %v, want natter.ErrEmailTaken", email, err)
				}
			}
		})

		t.Run("MembersNamedInTx", func(t *testing.T) {
			bob := createUser(t, s, "Bob")
			// Read outside first: on SQLite the answers are kept, and the
			// transaction must not be answered from there.
			if _, err := s.MembersNamed(ctx, []string{"bob", "bobby"}); err != nil {
				t.Fatal(err)
			}
			var got map[string]natter.MemberRef
			mustUpdate(t, s, func(tx natter.Tx) error {
				if err := tx.UpdateProfile(ctx, bob.ID, "Bobby", ""); err != nil {
					return err
				}
				var err error
				got, err = tx.MembersNamed(ctx, []string{"bob", "BOB", "bobby", "nobody", "alice_1"})
				return err
			})
			renamed := natter.MemberRef{ID: bob.ID, Username: "Bobby"}
			want := map[string]natter.MemberRef{"bob": renamed, "bobby": renamed, "alice_1": alice.Ref()}
			if !maps.Equal(got, want) {
				t.Errorf("in the renaming transaction, MembersNamed = %v; want %v", got, want)
			}
		})
	})
}

// Registrations racing past the pre-check on one name, or on one email,
// still end with one member and the matching sentinel for the others, never
// a raw SQL error.
func TestCreateUser_Race(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		for _, tt := range []struct {
			name        string
			user, email func(i int) string
			want        error
		}{
			{"SameUsername", func(int) string { return "Racer" }, func(i int) string { return fmt.Sprintf("racer%d@example.com", i) }, natter.ErrUsernameTaken},
			{"SameEmail", func(i int) string { return fmt.Sprintf("racer_%d", i) }, func(int) string { return "same@example.com" }, natter.ErrEmailTaken},
		} {
			t.Run(tt.name, func(t *testing.T) {
				const n = 6
				errs := make(chan error, n)
				for i := range n {
					go func() {
						_, err := s.Update(t.Context(), func(tx natter.Tx) error {
							_, err := tx.CreateUser(t.Context(), tt.user(i), tt.email(i), "h")
							return err
						})
						errs <- err
					}()
				}
				created := 0
				for range n {
					switch err := <-errs; {
					case err == nil:
						created++
					case !errors.Is(err, tt.want):
						t.Errorf("CreateUser err = %v, want nil or %v", err, tt.want)
					}
				}
				if created != 1 {
					t.Errorf("%d registrations succeeded, want 1", created)
				}
			})
		}
	})
}

func TestUpdateProfile(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		rename := func(u natter.Account, name, about string) error {
			_, err := s.Update(ctx, func(tx natter.Tx) error {
				return tx.UpdateProfile(ctx, u.ID, name, about)
			})
			return err
		}

		t.Run("OK", func(t *testing.T) {
			if err := rename(alice, "Alicia", "I like tea."); err != nil {
				t.Fatalf("UpdateProfile: %v", err)
			}
			got, err := s.MemberByName(ctx, "alicia")
			if err != nil || got.ID != alice.ID || got.Username != "Alicia" || got.AboutMe != "I like tea." {
				t.Errorf("after rename = %+v, %v", got, err)
			}
			if _, err := s.MemberByName(ctx, "alice"); !errors.Is(err, natter.ErrNotFound) {
				t.Errorf("old name still found: %v", err)
			}
		})

		t.Run("OKOwnNameInOtherCase", func(t *testing.T) {
			if err := rename(alice, "ALICIA", ""); err != nil {
				t.Fatalf("UpdateProfile to own name in capitals: %v", err)
			}
			if got := reload(t, s, alice); got.Username != "ALICIA" {
				t.Errorf("Username = %q, want ALICIA", got.Username)
			}
		})

		t.Run("ErrUsernameTaken", func(t *testing.T) {
			if err := rename(alice, "BOB", "x"); !errors.Is(err, natter.ErrUsernameTaken) {
				t.Fatalf("rename to BOB err = %v, want natter.ErrUsernameTaken", err)
			}
			if got := reload(t, s, alice); got.Username != "ALICIA" || got.AboutMe != "" {
				t.Errorf("refused rename changed the profile: %+v", got)
			}
			if got := reload(t, s, bob); got.Username != "bob" {
				t.Errorf("bob became %q", got.Username)
			}
		})
	})
}

func TestTouchLastSeen(t *testing.T) {
	forEachClocked(t, func(t *testing.T, s *store.Store, c *clock) {
		ctx := t.Context()
		alice := createUser(t, s, "alice")
		joined := alice.LastSeen
		touch := func() time.Time {
			mustUpdate(t, s, func(tx natter.Tx) error { return tx.TouchLastSeen(ctx, alice.ID, time.Minute) })
			return reload(t, s, alice).LastSeen
		}

		c.Advance(30 * time.Second)
		if got := touch(); !got.Equal(joined) {
			t.Errorf("after 30s LastSeen = %v, want unchanged %v", got, joined)
		}
		c.Advance(time.Minute)
		seen := c.Now()
		if got := touch(); !got.Equal(seen) {
			t.Errorf("after 90s LastSeen = %v, want %v", got, seen)
		}
		c.Advance(59 * time.Second)
		if got := touch(); !got.Equal(seen) {
			t.Errorf("59s after the last write LastSeen = %v, want unchanged %v", got, seen)
		}
		c.Advance(2 * time.Second)
		if got := touch(); !got.Equal(c.Now()) {
			t.Errorf("61s after the last write LastSeen = %v, want %v", got, c.Now())
		}
	})
}

// Key is the case-folding under which names and emails are unique.
func TestKey(t *testing.T) {
	if natter.Key("Alice_1") != natter.Key("aLICE_1") {
		t.Error("Key differs by case")
	}
	if natter.Key("alice") == natter.Key("alicia") {
		t.Error("Key folds distinct names together")
	}
}

// Members by the beginning of their name, in any case, by name, at most
// the limit; deleted members and prefixes no name can begin with find
// nobody.
func TestMembersByPrefix(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		for _, name := range []string{"alice", "Alan", "al_x", "albert", "bob", "ala", "alz"} {
			mustUpdate(t, s, func(tx natter.Tx) error {
				_, err := tx.CreateUser(ctx, name, name+"@example.com", "hash")
				return err
			})
		}
		names := func(prefix string, limit int) string {
			t.Helper()
			refs, err := s.MembersByPrefix(ctx, prefix, limit)
			if err != nil {
				t.Fatalf("MembersByPrefix(%q): %v", prefix, err)
			}
			var out []string
			for _, m := range refs {
				out = append(out, m.Username)
			}
			return fmt.Sprint(out)
		}
		for _, tt := range []struct {
			prefix string
			limit  int
			want   string
		}{
			{"al", 10, "[al_x ala Alan albert alice alz]"},
			{"AL", 3, "[al_x ala Alan]"},
			{"ali", 10, "[alice]"},
			{"al_", 10, "[al_x]"},
			{"alice", 10, "[alice]"},
			{"alicex", 10, "[]"},
			{"", 10, "[]"},
			{"a%", 10, "[]"},
			{"al~", 10, "[]"},
			{"é", 10, "[]"},
		} {
			if got := names(tt.prefix, tt.limit); got != tt.want {
				t.Errorf("MembersByPrefix(%q, %d) = %s, want %s", tt.prefix, tt.limit, got, tt.want)
			}
		}
	})
}
