package store_test

import (
	"fmt"
	"testing"
	"time"

	"natter/internal/natter"
	"natter/internal/store"
)

func TestPosts(t *testing.T) {
	forEachClocked(t, func(t *testing.T, s *store.Store, c *clock) {
		ctx := t.Context()
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")

		// Five posts, alternating authors, a second apart: p0 is the oldest.
		var posts []natter.Post
		for i := range 5 {
			author := alice
			if i%2 == 1 {
				author = bob
			}
			c.Advance(time.Second)
			mustUpdate(t, s, func(tx natter.Tx) error {
				p, err := tx.CreatePost(ctx, ref(author), fmt.Sprintf("post %d ✓", i))
				posts = append(posts, p)
				return err
			})
		}
		bodies := func(ps []natter.Post) (out []string) {
			for _, p := range ps {
				out = append(out, p.Body)
			}
			return out
		}

		t.Run("CreatePost", func(t *testing.T) {
			p := posts[0]
			if p.ID == 0 || p.Author != ref(alice) || p.Body != "post 0 ✓" || p.CreatedAt.IsZero() {
				t.Errorf("CreatePost = %+v", p)
			}
		})

		t.Run("TimelineNewestFirst", func(t *testing.T) {
			got, err := s.Timeline(ctx, natter.Window{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"post 4 ✓", "post 3 ✓", "post 2 ✓", "post 1 ✓", "post 0 ✓"}
			if fmt.Sprint(bodies(got)) != fmt.Sprint(want) {
				t.Errorf("Timeline = %q, want %q", bodies(got), want)
			}
			if got[0] != posts[4] {
				t.Errorf("Timeline[0] = %+v, want %+v as created", got[0], posts[4])
			}
			if got[1].Author != ref(bob) {
				t.Errorf("Timeline[1].Author = %+v, want bob", got[1].Author)
			}
		})

		t.Run("TimelineWindows", func(t *testing.T) {
			id := func(i int) int64 { return posts[i].ID }
			for _, tt := range []struct {
				name string
				w    natter.Window
				want []string
			}{
				{"Newest", natter.Window{Limit: 3}, []string{"post 4 ✓", "post 3 ✓", "post 2 ✓"}},
				{"Before", natter.Window{Before: id(3), Limit: 2}, []string{"post 2 ✓", "post 1 ✓"}},
				{"BeforeSkip", natter.Window{Before: id(3), Skip: 1, Limit: 2}, []string{"post 1 ✓", "post 0 ✓"}},
				{"BeforeTheFirst", natter.Window{Before: id(0), Limit: 2}, nil},
				{"SkipPastTheEnd", natter.Window{Skip: 5, Limit: 2}, nil},
				// Newer items are the ones nearest the position, still
				// newest first.
				{"After", natter.Window{After: id(1), Limit: 2}, []string{"post 3 ✓", "post 2 ✓"}},
				{"AfterTheLast", natter.Window{After: id(4), Limit: 2}, nil},
			} {
				got, err := s.Timeline(ctx, tt.w)
				if err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(bodies(got)) != fmt.Sprint(tt.want) {
					t.Errorf("%s %+v = %q, want %q", tt.name, tt.w, bodies(got), tt.want)
				}
			}
		})

		t.Run("PostsByUser", func(t *testing.T) {
			got, err := s.PostsByUser(ctx, alice.ID, natter.Window{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"post 4 ✓", "post 2 ✓", "post 0 ✓"}; fmt.Sprint(bodies(got)) != fmt.Sprint(want) {
				t.Errorf("alice's posts = %q, want %q", bodies(got), want)
			}
			got, err = s.PostsByUser(ctx, alice.ID, natter.Window{Before: posts[4].ID, Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"post 2 ✓"}; fmt.Sprint(bodies(got)) != fmt.Sprint(want) {
				t.Errorf("alice's post before post 4 = %q, want %q", bodies(got), want)
			}
			got, err = s.PostsByUser(ctx, alice.ID, natter.Window{After: posts[0].ID, Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"post 2 ✓"}; fmt.Sprint(bodies(got)) != fmt.Sprint(want) {
				t.Errorf("alice's post after post 0 = %q, want %q", bodies(got), want)
			}
			got, err = s.PostsByUser(ctx, bob.ID, natter.Window{Skip: 1, Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"post 1 ✓"}; fmt.Sprint(bodies(got)) != fmt.Sprint(want) {
				t.Errorf("bob's second post = %q, want %q", bodies(got), want)
			}
			carol := createUser(t, s, "carol")
			if got, err := s.PostsByUser(ctx, carol.ID, natter.Window{Limit: 10}); err != nil || len(got) != 0 {
				t.Errorf("carol's posts = %+v, %v; want none", got, err)
			}
		})

		t.Run("RenameShowsNewName", func(t *testing.T) {
			mustUpdate(t, s, func(tx natter.Tx) error { return tx.UpdateProfile(ctx, bob.ID, "Robert", "") })
			got, _ := s.Timeline(ctx, natter.Window{Limit: 2})
			if got[1].Author.Username != "Robert" {
				t.Errorf("author after rename = %q, want Robert", got[1].Author.Username)
			}
		})
	})
}
