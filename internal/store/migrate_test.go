package store_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"natter/internal/natter"
	"natter/internal/store"
	"natter/internal/store/storetest"
)

// Migration 4 on a database that has lived under migrations 1 and 2:
// messages unread by the old counters are the unread ones, message entries
// leave the notification centre, each remaining entry is a group of its own,
// read as activity_read_id said, and the counters match.
func TestMigrationCentre(t *testing.T) {
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
			insert := func(q string, args ...any) int64 {
				t.Helper()
				var id int64
				if err := db.QueryRowContext(ctx, q+" RETURNING id", args...).Scan(&id); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
				return id
			}
			migrateBefore(t, d, db, 3)

			now := time.Now().UnixMicro()
			user := `INSERT INTO users (username, username_key, email, email_key, password_hash, created_at, last_seen)
				VALUES ($1, $1, $2, $2, 'x', $3, $3)`
			alice, bob := insert(user, "alice", "alice@example.com", now), insert(user, "bob", "bob@example.com", now)
			msg := `INSERT INTO messages (sender_id, recipient_id, body, created_at) VALUES ($1, $2, $3, $4)`
			m1 := insert(msg, bob, alice, "m1", now)
			m2 := insert(msg, bob, alice, "m2", now)
			m3 := insert(msg, bob, alice, "m3", now)
			toBob := insert(msg, alice, bob, "to bob", now)
			// Alice read m1 (and the centre up to its first entry) before
			// m2 and m3 came.
			exec(`INSERT INTO conversations (user_id, peer_id, last_message_id, unread) VALUES ($1, $2, $3, 2), ($2, $1, $3, 0)`, alice, bob, toBob)
			post := insert(`INSERT INTO posts (user_id, body, created_at) VALUES ($1, 'hi @alice', $2)`, bob, now)
			entry := `INSERT INTO activity (user_id, kind, actor_id, post_id, message_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)`
			readMention := insert(entry, alice, "mention", bob, post, nil, now)
			insert(entry, alice, "message", bob, nil, m2, now)
			insert(entry, alice, "message", bob, nil, m3, now)
			unreadMention := insert(entry, alice, "mention", bob, post, nil, now)
			exec(`UPDATE users SET unread_messages = 2, unread_activity = 3, activity_read_id = $1 WHERE id = $2`, readMention, alice)

			s, err := store.Open(ctx, dsn, store.Options{})
			if err != nil {
				t.Fatalf("migrating: %v", err)
			}
			defer s.Close()
			if v, err := s.SchemaVersion(ctx); err != nil || v < 4 {
				t.Fatalf("schema version %d, %v; want 4 or later", v, err)
			}
			for id, want := range map[int64]bool{m1: false, m2: true, m3: true, toBob: false} {
				if got, err := s.MessageUnread(ctx, id); err != nil || got != want {
					t.Errorf("message %d unread = %v, %v; want %v", id, got, err, want)
				}
			}
			acc, err := s.Account(ctx, alice)
			if err != nil {
				t.Fatal(err)
			}
			if acc.UnreadMessages != 2 || acc.UnreadActivity != 1 {
				t.Errorf("alice's counts: %d messages, %d activity; want 2, 1", acc.UnreadMessages, acc.UnreadActivity)
			}
			groups, err := s.ActivityGroups(ctx, alice, 0, 10, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(groups) != 2 || groups[0].LastID != unreadMention || groups[0].Unread != 1 || groups[1].LastID != readMention || groups[1].Unread != 0 {
				t.Fatalf("alice's centre = %+v; want the two mentions, the newer unread", groups)
			}
			for _, g := range groups {
				if g.Kind != natter.ActivityMention || g.Entries != 1 || g.Actors != 1 || len(g.Recent) != 1 || g.Recent[0].PostID != post {
					t.Errorf("group %+v; want one mention of the post", g)
				}
			}

			// The store carries on from there: a new group numbers after
			// the migrated ones, and reading keeps the counts.
			var added natter.Activity
			_, err = s.Update(ctx, func(tx natter.Tx) error {
				var err error
				added, _, err = tx.AddActivity(context.Background(), natter.NewActivity{UserID: alice, Kind: natter.ActivityMention,
					Actor: natter.MemberRef{ID: bob}, PostID: post, Subject: post})
				if err != nil {
					return err
				}
				_, _, err = tx.MarkConversationRead(ctx, alice, bob)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if added.GroupID <= unreadMention {
				t.Errorf("new group %d, want one numbered after the migrated ones", added.GroupID)
			}
			if acc, _ := s.Account(ctx, alice); acc.UnreadMessages != 0 || acc.UnreadActivity != 2 {
				t.Errorf("alice's counts: %d messages, %d activity; want 0, 2", acc.UnreadMessages, acc.UnreadActivity)
			}
		})
	}
}

// migrateBefore applies d's migrations numbered below version to db by
// hand, and records them, as on a database that lived under them before
// natter moved on: store.Open then runs the rest.
func migrateBefore(t *testing.T, d store.Dialect, db *sql.DB, version int) {
	t.Helper()
	ctx := t.Context()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`)
	files, err := filepath.Glob(filepath.Join("migrations", string(d), "*.sql"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files { // in order: the names start with the version
		name := filepath.Base(f)
		v, err := strconv.Atoi(name[:4])
		if err != nil {
			t.Fatal(err)
		}
		if v >= version {
			break
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		exec(string(b))
		exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, 0)`, v, name)
	}
}
