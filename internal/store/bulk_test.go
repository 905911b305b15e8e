package store_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"natter/internal/natter"
	"natter/internal/store"
	"natter/internal/store/storetest"
)

// The bulk loader serves benchmarks only, but what it writes must look to
// the rest of natter exactly like what the use cases write, and the Store
// it came from must read it at once.
func TestBulkLoader(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		existing := createUser(t, s, "alice")
		l := s.BulkLoader()

		users, err := l.CreateUsers(ctx, "load", 5, "bench-hash")
		if err != nil {
			t.Fatal(err)
		}

		t.Run("CreateUsers", func(t *testing.T) {
			if len(users) != 5 || users[0].Username != store.BulkUsername("load", 0) || users[4].Username != "load0000005" {
				t.Fatalf("users = %+v", users)
			}
			u, err := s.Account(ctx, users[2].ID)
			if err != nil || u.Username != "load0000003" || u.Email != "load0000003@bench.invalid" {
				t.Errorf("Account(%d) = %+v, %v", users[2].ID, u, err)
			}
			if c, err := s.Credentials(ctx, "LOAD0000003"); err != nil || c.MemberID != users[2].ID || c.PasswordHash != "bench-hash" {
				t.Errorf("Credentials(LOAD0000003) = %#v (hash %q), %v", c, c.PasswordHash, err)
			}
			if users, err := l.CreateUsers(ctx, "x", 0, "h"); err != nil || users != nil {
				t.Errorf("zero users = %v, %v", users, err)
			}
			for _, prefix := range []string{"", "Load", "lo ad", "a'b"} {
				if _, err := l.CreateUsers(ctx, prefix, 1, "h"); err == nil {
					t.Errorf("prefix %q accepted", prefix)
				}
			}
			if _, err := l.CreateUsers(ctx, "load", 1, "h"); err == nil {
				t.Error("creating existing names again succeeded")
			}
		})

		t.Run("Sessions", func(t *testing.T) {
			expiry := time.Now().Add(time.Hour).Truncate(time.Microsecond)
			err := l.Sessions(ctx, []store.BulkSession{{Token: "t1", UserID: users[0].ID}, {Token: "t2", UserID: users[1].ID}}, expiry)
			if err != nil {
				t.Fatal(err)
			}
			data, ok, err := s.Sessions().FindCtx(ctx, "t2")
			if err != nil || !ok {
				t.Fatalf("FindCtx(t2) = %v, %v", ok, err)
			}
			deadline, values, err := store.SessionCodec{}.Decode(data)
			if err != nil || values["user_id"] != users[1].ID || !deadline.Equal(expiry) {
				t.Errorf("the session codec decodes %v, %v, %v; want user_id %d (int64), deadline %v", deadline, values, err, users[1].ID, expiry)
			}
		})

		start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		numbered := func(prefix string) []string {
			var out []string
			for i := range 10 {
				out = append(out, fmt.Sprint(prefix, i))
			}
			return out
		}

		t.Run("GeneratePosts", func(t *testing.T) {
			// A page read (and cached) before the load must not hide it.
			if tl, err := s.Timeline(ctx, natter.Window{Limit: 2}); err != nil || len(tl) != 0 {
				t.Fatalf("Timeline before = %+v, %v", tl, err)
			}
			authors := store.IDRange{First: users[0].ID, N: 2}
			if err := l.GeneratePosts(ctx, 0, 7, authors, start, numbered("post ")); err != nil {
				t.Fatal(err)
			}
			tl, err := s.Timeline(ctx, natter.Window{Limit: 2})
			if err != nil || len(tl) != 2 || tl[0].Body != "post 6" || tl[1].Body != "post 5" {
				t.Fatalf("Timeline = %+v, %v", tl, err)
			}
			if !tl[0].CreatedAt.Equal(start.Add(6*time.Second)) || tl[0].Author.ID != users[0].ID {
				t.Errorf("newest post = %+v", tl[0])
			}
			if mine, _ := s.PostsByUser(ctx, users[1].ID, natter.Window{Limit: 10}); len(mine) != 3 {
				t.Errorf("second member has %d posts, want 3", len(mine))
			}
			if err := l.GeneratePosts(ctx, 0, 1, store.IDRange{}, start, numbered("x")); err == nil {
				t.Error("posts without authors accepted")
			}
		})

		t.Run("GenerateMessages", func(t *testing.T) {
			// A conversation that exists before the load keeps its unread
			// count: member 4 has written to member 0, who has not read it.
			m0, err := s.Account(ctx, users[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			m4, err := s.Account(ctx, users[4].ID)
			if err != nil {
				t.Fatal(err)
			}
			send(t, s, m4, m0, "before the load")
			// Message k is from member a = k mod 5 to a+1 (k < 5) or a+2
			// (k >= 5), mod 5.
			members := store.IDRange{First: users[0].ID, N: 5}
			if err := l.GenerateMessages(ctx, 0, 10, members, 2, start, numbered("m")); err != nil {
				t.Fatal(err)
			}
			inbox := func(id int64) (out []string) {
				convs, err := s.Conversations(ctx, id, natter.Window{Limit: 10})
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range convs {
					out = append(out, fmt.Sprintf("%s:%s:%d", c.Peer.Username, c.Last.Body, c.Unread))
				}
				return out
			}
			want := []string{"load0000004:m8:0", "load0000003:m5:0", "load0000005:m4:1", "load0000002:m0:0"}
			if got := inbox(users[0].ID); !slices.Equal(got, want) {
				t.Errorf("first member's inbox = %v, want %v", got, want)
			}
			if got := inbox(existing.ID); len(got) != 0 {
				t.Errorf("alice, outside the range, has conversations: %v", got)
			}
			msgs, err := s.ConversationMessages(ctx, users[2].ID, users[0].ID, 0, 10)
			if err != nil || len(msgs) != 1 || msgs[0].Body != "m5" || !msgs[0].CreatedAt.Equal(start.Add(5*time.Second)) {
				t.Errorf("conversation = %+v, %v", msgs, err)
			}
			if err := l.GenerateMessages(ctx, 0, 1, members, 5, start, numbered("m")); err == nil {
				t.Error("as many peers as members accepted")
			}
		})

		t.Run("Counts", func(t *testing.T) {
			posts, messages, err := l.Counts(ctx)
			if err != nil || posts != 7 || messages != 11 {
				t.Errorf("Counts = %d posts, %d messages, %v; want 7, 11", posts, messages, err)
			}
		})
	})
}
