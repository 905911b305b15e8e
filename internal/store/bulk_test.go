package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"slices"
	"testing"
	"time"

	"natter/internal/natter"
	"natter/internal/store"
	"natter/internal/store/storetest"
)

// The bulk loaders serve benchmarks only, but what they write must look to
// the rest of natter exactly like what the use cases write.
func TestBulk(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		existing := createUser(t, s, "alice")

		users, err := s.BulkCreateUsers(ctx, "load", 5, "bench-hash")
		if err != nil {
			t.Fatal(err)
		}

		t.Run("BulkCreateUsers", func(t *testing.T) {
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
			if users, err := s.BulkCreateUsers(ctx, "x", 0, "h"); err != nil || users != nil {
				t.Errorf("zero users = %v, %v", users, err)
			}
			for _, prefix := range []string{"", "Load", "lo ad", "a'b"} {
				if _, err := s.BulkCreateUsers(ctx, prefix, 1, "h"); err == nil {
					t.Errorf("prefix %q accepted", prefix)
				}
			}
			if _, err := s.BulkCreateUsers(ctx, "load", 1, "h"); err == nil {
				t.Error("creating existing names again succeeded")
			}
		})

		t.Run("BulkSessions", func(t *testing.T) {
			expiry := time.Now().Add(time.Hour).Truncate(time.Microsecond)
			err := s.BulkSessions(ctx, []store.BulkSession{{Token: "t1", UserID: users[0].ID}, {Token: "t2", UserID: users[1].ID}}, expiry)
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

		t.Run("BulkPosts", func(t *testing.T) {
			err := s.BulkPosts(ctx, 7, start, func(i int) int64 { return users[i%2].ID }, func(i int) string { return fmt.Sprint("post ", i) })
			if err != nil {
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
		})

		t.Run("BulkMessages", func(t *testing.T) {
			// A conversation that exists before the load keeps its unread count.
			first, err := s.Account(ctx, users[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			send(t, s, first, existing, "before the load")
			pairs := [][2]int64{{users[0].ID, users[1].ID}, {users[1].ID, users[0].ID}, {users[2].ID, users[0].ID}, {users[0].ID, existing.ID}}
			err = s.BulkMessages(ctx, 8, start, func(i int) (int64, int64) { p := pairs[i%4]; return p[0], p[1] },
				func(i int) string { return fmt.Sprint("m", i) })
			if err != nil {
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
			if got, want := inbox(users[0].ID), []string{"alice:m7:0", "load0000003:m6:0", "load0000002:m5:0"}; !slices.Equal(got, want) {
				t.Errorf("first member's inbox = %v, want %v", got, want)
			}
			if got, want := inbox(existing.ID), []string{"load0000001:m7:1"}; !slices.Equal(got, want) {
				t.Errorf("alice's inbox = %v, want %v", got, want)
			}
			msgs, err := s.ConversationMessages(ctx, users[1].ID, users[0].ID, 0, 10)
			if err != nil || len(msgs) != 4 || msgs[0].Body != "m5" || !msgs[0].CreatedAt.Equal(start.Add(5*time.Second)) {
				t.Errorf("conversation = %+v, %v", msgs, err)
			}
		})

		t.Run("Counts", func(t *testing.T) {
			posts, messages, err := s.Counts(ctx)
			if err != nil || posts != 7 || messages != 9 {
				t.Errorf("Counts = %d posts, %d messages, %v; want 7, 9", posts, messages, err)
			}
		})
	})
}

// Benchmarks make a database per run next to the one the admin URL names;
// the URL they get back must name the new database, whatever shape the
// admin URL had.
func TestCreatePostgresDatabase(t *testing.T) {
	base := os.Getenv(storetest.PostgresEnv)
	if base == "" {
		storetest.SkipUnlessRequired(t, "PostgreSQL tests skipped: set %s", storetest.PostgresEnv)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	noPath := *u
	noPath.Path, noPath.RawQuery = "", "sslmode=disable&application_name=natter_test"
	for _, tt := range []struct{ name, admin string }{{"WithPath", base}, {"NoPathWithQuery", noPath.String()}} {
		admin := tt.admin
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			name := fmt.Sprintf("natter_bulk_%d", time.Now().UnixNano())
			dsn, err := store.CreatePostgresDatabase(ctx, admin, name)
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := store.DropPostgresDatabase(context.Background(), admin, name); err != nil {
					t.Errorf("DropPostgresDatabase: %v", err)
				}
			}()
			db, err := sql.Open("pgx", dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var got string
			if err := db.QueryRowContext(ctx, `SELECT current_database()`).Scan(&got); err != nil || got != name {
				t.Errorf("URL %q connects to %q (%v), want %q", dsn, got, err, name)
			}
		})
	}
	if _, err := store.CreatePostgresDatabase(t.Context(), base, "bad; name"); err == nil {
		t.Error("a bad database name was accepted")
	}
}
