package store_test

import (
	"context"
	"database/sql"
	"regexp"
	"strings"
	"testing"

	"natter/internal/store"
	"natter/internal/store/storetest"
)

// The lists must stay fast however large the tables grow: each of their
// queries is served by an index, never by reading a whole table or sorting
// a member's whole history. SQLite says how it runs a query with EXPLAIN
// QUERY PLAN, and its planner needs no statistics to pick these plans, so an
// empty database shows what a large one does.
//
// The SQL is copied from the store's files: when a query there changes,
// change it here too.
func TestQueryPlans(t *testing.T) {
	dsn := storetest.DSN(t, store.SQLite)
	s, err := store.Open(t.Context(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	for _, tt := range []struct {
		name  string
		query string
		args  []any
		// uses are plan lines that must appear.
		uses []string
		// pkScan is the table the plan may SCAN: walking the primary key
		// newest first, stopped by LIMIT after a page.
		pkScan string
		// sortOK says why a sort is bounded, when the plan has one.
		sortOK string
	}{
		{
			name: "Timeline",
			query: `SELECT p.id, p.body, p.created_at, u.id, u.username
				FROM posts p JOIN users u ON u.id = p.user_id
				ORDER BY p.id DESC LIMIT $1 OFFSET $2`,
			args:   []any{11, 0},
			uses:   []string{"SCAN p", "SEARCH u USING INTEGER PRIMARY KEY"},
			pkScan: "p",
		},
		{
			name: "PostsByUser",
			query: `SELECT p.id, p.body, p.created_at, u.id, u.username
				FROM posts p JOIN users u ON u.id = p.user_id
				WHERE p.user_id = $3
				ORDER BY p.id DESC LIMIT $1 OFFSET $2`,
			args: []any{11, 0, 1},
			uses: []string{"SEARCH p USING INDEX posts_user_id (user_id=?)"},
		},
		{
			name: "MessagesReceived",
			query: `SELECT m.id, m.body, m.created_at, m.unread, s.id, s.username, r.id, r.username
				FROM messages m JOIN users s ON s.id = m.sender_id JOIN users r ON r.id = m.recipient_id
				WHERE m.recipient_id = $1
				ORDER BY m.id DESC LIMIT $2 OFFSET $3`,
			args: []any{1, 11, 0},
			uses: []string{"SEARCH m USING COVERING INDEX messages_received (recipient_id=?)"},
		},
		{
			name: "Conversations",
			query: `SELECT c.unread, m.id, m.body, m.created_at, m.unread, s.id, s.username, r.id, r.username
				FROM conversations c
				JOIN messages m ON m.id = c.last_message_id
				JOIN users s ON s.id = m.sender_id JOIN users r ON r.id = m.recipient_id
				WHERE c.user_id = $1
				ORDER BY c.last_message_id DESC LIMIT $2 OFFSET $3`,
			args: []any{1, 11, 0},
			uses: []string{"SEARCH c USING INDEX conversations_recent (user_id=?)", "SEARCH m USING INTEGER PRIMARY KEY"},
		},
		{
			name: "ConversationMessages",
			query: `SELECT m.id, m.body, m.created_at, m.unread, s.id, s.username, r.id, r.username
				FROM (
					SELECT * FROM (SELECT id FROM messages WHERE sender_id = $1 AND recipient_id = $2 AND id < $3
						ORDER BY id DESC LIMIT $4) a
					UNION ALL
					SELECT * FROM (SELECT id FROM messages WHERE sender_id = $2 AND recipient_id = $1 AND id < $3
						ORDER BY id DESC LIMIT $4) b
				) ids
				JOIN messages m ON m.id = ids.id JOIN users s ON s.id = m.sender_id JOIN users r ON r.id = m.recipient_id
				ORDER BY m.id DESC LIMIT $4`,
			args:   []any{1, 2, 1 << 40, 51},
			uses:   []string{"SEARCH messages USING COVERING INDEX messages_pair (sender_id=? AND recipient_id=? AND id<?)"},
			sortOK: "each side is at most LIMIT rows",
		},
		{
			name: "NotificationsAfter",
			query: `SELECT user_id, seq, name, data, created_at FROM notifications
				WHERE user_id = $1 AND seq > $2 ORDER BY seq`,
			args: []any{1, 0},
			uses: []string{"SEARCH notifications USING INDEX notifications_seq (user_id=? AND seq>?)"},
		},
		{
			name: "NotificationsSince",
			query: `SELECT user_id, seq, name, data, created_at FROM notifications
				WHERE user_id = $1 AND created_at > $2 ORDER BY created_at, seq`,
			args:   []any{1, 0},
			uses:   []string{"SEARCH notifications USING INDEX notifications_time (user_id=? AND created_at>?)"},
			sortOK: "a member has one row per notification name",
		},
		{
			name:  "MarkMessagesRead",
			query: `UPDATE messages SET unread = FALSE WHERE id = $1 AND recipient_id = $2 AND unread RETURNING sender_id`,
			args:  []any{1, 1},
			uses:  []string{"SEARCH messages USING INTEGER PRIMARY KEY (rowid=?)"},
		},
		{
			name:  "MarkConversationRead",
			query: `UPDATE messages INDEXED BY messages_unread SET unread = FALSE WHERE recipient_id = $1 AND sender_id = $2 AND unread`,
			args:  []any{1, 2},
			uses:  []string{"SEARCH messages USING INDEX messages_unread (recipient_id=? AND sender_id=?)"},
		},
		{
			name: "ActivityGroups",
			query: `SELECT id, kind, subject_id, last_id, entries, actors, unread FROM activity_groups
				WHERE user_id = $1 AND last_id < $2
				ORDER BY last_id DESC LIMIT $3`,
			args: []any{1, 1 << 40, 11},
			uses: []string{"SEARCH activity_groups USING INDEX activity_groups_recent (user_id=? AND last_id<?)"},
		},
		{
			name: "GroupEntries",
			query: `SELECT a.id, a.group_id, a.kind, a.created_at, actor.id, actor.username,
					COALESCE(a.post_id, 0), COALESCE(p.body, ''), a.unread
				FROM activity a
				JOIN users actor ON actor.id = a.actor_id
				LEFT JOIN posts p ON p.id = a.post_id
				WHERE a.group_id = $1 AND a.id <= $2
				ORDER BY a.id DESC LIMIT $3`,
			args: []any{1, 1 << 40, 5},
			uses: []string{"SEARCH a USING INDEX activity_group (group_id=? AND id<?)", "SEARCH p USING INTEGER PRIMARY KEY"},
		},
		{
			name: "AddActivityFindsItsGroup",
			query: `SELECT id FROM activity_groups
				WHERE user_id = $1 AND kind = $2 AND subject_id = $3 AND first_at > $4
				ORDER BY first_at DESC LIMIT 1`,
			args: []any{1, "mention", 0, 0},
			uses: []string{"SEARCH activity_groups USING COVERING INDEX activity_groups_open (user_id=? AND kind=? AND subject_id=? AND first_at>?)"},
		},
		{
			name:  "AddActivityCountsActors",
			query: `SELECT count(*) FROM activity WHERE group_id = $1 AND actor_id = $2`,
			args:  []any{1, 1},
			uses:  []string{"SEARCH activity USING COVERING INDEX activity_group_actor (group_id=? AND actor_id=?)"},
		},
		{
			name:  "MarkActivityRead",
			query: `UPDATE activity SET unread = FALSE WHERE user_id = $1 AND unread AND id <= $2 RETURNING group_id`,
			args:  []any{1, 1 << 40},
			uses:  []string{"SEARCH activity USING INDEX activity_unread (user_id=?)"},
		},
		{
			name:  "MarkPostActivityRead",
			query: `UPDATE activity SET unread = FALSE WHERE user_id = $1 AND unread AND post_id = $2 RETURNING group_id`,
			args:  []any{1, 1},
			uses:  []string{"SEARCH activity USING INDEX activity_unread (user_id=? AND post_id=?)"},
		},
		{
			name: "Post",
			query: `SELECT p.id, p.body, p.created_at, u.id, u.username
				FROM posts p JOIN users u ON u.id = p.user_id WHERE p.id = $1`,
			args: []any{1},
			uses: []string{"SEARCH p USING INTEGER PRIMARY KEY (rowid=?)"},
		},
		{
			name: "UserByName",
			query: `SELECT id, username, email, password_hash, about_me, created_at, last_seen,
				unread_messages, unread_activity, notification_seq FROM users WHERE username_key = $1`,
			args: []any{"alice"},
			uses: []string{"SEARCH users USING INDEX sqlite_autoindex_users_1 (username_key=?)"},
		},
		{
			name:  "SessionsDeleteExpired",
			query: `DELETE FROM sessions WHERE expiry <= $1`,
			args:  []any{0},
			uses:  []string{"SEARCH sessions USING INDEX sessions_expiry (expiry<?)"},
		},
		{
			name:  "SessionsFind",
			query: `SELECT data FROM sessions WHERE token = $1 AND expiry > $2`,
			args:  []any{"tok", 0},
			uses:  []string{"SEARCH sessions USING INDEX sqlite_autoindex_sessions_1 (token=?)"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			plan := queryPlan(t.Context(), t, db, tt.query, tt.args...)
			text := strings.Join(plan, "\n")
			for _, want := range tt.uses {
				if !strings.Contains(text, want) {
					t.Errorf("plan lacks %q:\n%s", want, text)
				}
			}
			// Subqueries run as co-routines and are read with SCAN; that
			// reads their (limited) output, not a table.
			subqueries := map[string]bool{}
			for _, line := range plan {
				if name, ok := strings.CutPrefix(line, "CO-ROUTINE "); ok {
					subqueries[name] = true
				}
			}
			for _, line := range plan {
				if m := scanRE.FindStringSubmatch(line); m != nil && !subqueries[m[1]] && m[1] != tt.pkScan {
					t.Errorf("plan reads the whole of %s: %q\n%s", m[1], line, text)
				}
				if strings.Contains(line, "TEMP B-TREE") && tt.sortOK == "" {
					t.Errorf("plan sorts: %q\n%s", line, text)
				}
			}
			if tt.pkScan != "" && strings.Contains(text, "TEMP B-TREE") {
				t.Errorf("plan scans %s and sorts it: the LIMIT does not stop the scan\n%s", tt.pkScan, text)
			}
		})
	}
}

// scanRE matches a full scan; "SCAN x USING INDEX" would be a full index
// scan, which is no better for a list.
var scanRE = regexp.MustCompile(`^SCAN (\S+)`)

// queryPlan returns the detail column of EXPLAIN QUERY PLAN, one line per step.
func queryPlan(ctx context.Context, t *testing.T, db *sql.DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("EXPLAIN: %v", err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan
}
