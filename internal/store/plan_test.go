package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"natter/internal/natter"
	"natter/internal/store"
	"natter/internal/store/storetest"
)

// The lists must stay fast however large the tables grow: each of their
// queries is served by an index, never by reading a whole table or sorting
// a member's whole history. SQLite says how it runs a query with EXPLAIN
// QUERY PLAN, and its planner needs no statistics to pick these plans, so an
// empty database shows what a large one does.
//
// The queries checked are the ones the store runs: each case calls the
// store, which tells the test every query it ran and with which arguments
// (WatchQueries, export_test.go), and each of them is explained. A copy of
// the SQL here could drift from the store's; these cannot.
func TestQueryPlans(t *testing.T) {
	dsn := storetest.DSN(t, store.SQLite)
	s, err := store.Open(t.Context(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// A member, alice, who posted mentioning bob and wrote to him: what
	// the centre's and the messages' queries need to run all their steps.
	var alice, bob, post, message int64
	_, err = s.Update(t.Context(), func(tx natter.Tx) error {
		ctx := t.Context()
		a, err := tx.CreateUser(ctx, "alice", "alice@example.com", "x")
		if err != nil {
			return err
		}
		b, err := tx.CreateUser(ctx, "bob", "bob@example.com", "x")
		if err != nil {
			return err
		}
		p, err := tx.CreatePost(ctx, a.Ref(), "hi @bob")
		if err != nil {
			return err
		}
		m, _, err := tx.CreateMessage(ctx, a.Ref(), b.Ref(), "hello")
		if err != nil {
			return err
		}
		_, _, err = tx.AddActivity(ctx, natter.NewActivity{UserID: b.ID, Kind: natter.ActivityMention, Actor: a.Ref(), PostID: p.ID, Window: time.Hour})
		alice, bob, post, message = a.ID, b.ID, p.ID, m.ID
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	type ran struct {
		query string
		args  []any
	}
	var (
		mu      sync.Mutex
		queries []ran
	)
	s.WatchQueries(func(query string, args []any) {
		mu.Lock()
		defer mu.Unlock()
		queries = append(queries, ran{query, args})
	})
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	const deep = 1 << 40 // a position far down a list
	update := func(fn func(ctx context.Context, tx natter.Tx) error) func(context.Context) error {
		return func(ctx context.Context) error {
			_, err := s.Update(ctx, func(tx natter.Tx) error { return fn(ctx, tx) })
			return err
		}
	}
	for _, tt := range []struct {
		name string
		run  func(ctx context.Context) error
		// uses are plan lines that must appear.
		uses []string
		// pkScan is the table the plan may SCAN: walking the primary key
		// newest first, stopped by LIMIT after a page.
		pkScan string
		// sortOK says why a sort is bounded, when the plan has one.
		sortOK string
	}{
		{
			name:   "Timeline",
			run:    func(ctx context.Context) error { _, err := s.Timeline(ctx, natter.Window{Limit: 11}); return err },
			uses:   []string{"SEARCH p USING INTEGER PRIMARY KEY (rowid<?)", "SEARCH u USING INTEGER PRIMARY KEY"},
			pkScan: "p",
		},
		{
			name: "TimelineBefore",
			run: func(ctx context.Context) error {
				_, err := s.Timeline(ctx, natter.Window{Before: deep, Limit: 11})
				return err
			},
			uses:   []string{"SEARCH p USING INTEGER PRIMARY KEY (rowid<?)"},
			pkScan: "p",
		},
		{
			name: "TimelineAfter",
			run: func(ctx context.Context) error {
				_, err := s.Timeline(ctx, natter.Window{After: 1, Limit: 11})
				return err
			},
			uses: []string{"SEARCH p USING INTEGER PRIMARY KEY (rowid>?)"},
		},
		{
			name: "PostsByUser",
			run: func(ctx context.Context) error {
				_, err := s.PostsByUser(ctx, 1, natter.Window{Before: deep, Limit: 11})
				return err
			},
			uses: []string{"SEARCH p USING INDEX posts_user_id (user_id=? AND id<?)"},
		},
		{
			name: "PostsByUserAfter",
			run: func(ctx context.Context) error {
				_, err := s.PostsByUser(ctx, 1, natter.Window{After: 1, Limit: 11})
				return err
			},
			uses: []string{"SEARCH p USING INDEX posts_user_id (user_id=? AND id>?)"},
		},
		{
			name: "MessagesReceived",
			run: func(ctx context.Context) error {
				_, err := s.MessagesReceived(ctx, bob, natter.Pagination{Limit: 11})
				return err
			},
			uses: []string{"SEARCH m USING COVERING INDEX messages_received (recipient_id=?)"},
		},
		{
			name: "MembersByPrefix",
			run: func(ctx context.Context) error {
				_, err := s.MembersByPrefix(ctx, "al", 9)
				return err
			},
			uses: []string{"SEARCH users USING INDEX sqlite_autoindex_users_1 (username_key>? AND username_key<?)"},
		},
		{
			name: "Conversations",
			run: func(ctx context.Context) error {
				_, err := s.Conversations(ctx, bob, natter.Window{Before: deep, Limit: 11})
				return err
			},
			uses: []string{"SEARCH c USING INDEX conversations_recent (user_id=? AND last_message_id<?)", "SEARCH m USING INTEGER PRIMARY KEY"},
		},
		{
			name: "LastSent",
			run: func(ctx context.Context) error {
				_, err := s.LastSent(ctx, alice, 0, 10)
				return err
			},
			uses: []string{"SEARCH conversations USING INDEX conversations_recent (user_id=? AND last_message_id>?)", "SEARCH m USING INTEGER PRIMARY KEY"},
		},
		{
			name: "ConversationsAfter",
			run: func(ctx context.Context) error {
				_, err := s.Conversations(ctx, bob, natter.Window{After: 1, Limit: 11})
				return err
			},
			uses: []string{"SEARCH c USING INDEX conversations_recent (user_id=? AND last_message_id>?)"},
		},
		{
			name: "ConversationMessages",
			run: func(ctx context.Context) error {
				_, err := s.ConversationMessages(ctx, bob, alice, 0, 51)
				return err
			},
			uses:   []string{"SEARCH messages USING COVERING INDEX messages_pair (sender_id=? AND recipient_id=? AND id<?)"},
			sortOK: "each side is at most LIMIT rows",
		},
		{
			name: "NotificationsAfter",
			run: func(ctx context.Context) error {
				_, err := s.NotificationsAfter(ctx, bob, 0)
				return err
			},
			uses: []string{"SEARCH notifications USING INDEX notifications_seq (user_id=? AND seq>?)"},
		},
		{
			name: "NotificationsSince",
			run: func(ctx context.Context) error {
				_, err := s.NotificationsSince(ctx, bob, time.Unix(0, 0))
				return err
			},
			uses:   []string{"SEARCH notifications USING INDEX notifications_time (user_id=? AND created_at>?)"},
			sortOK: "a member has one row per notification name",
		},
		{
			name: "ActivityGroups",
			run: func(ctx context.Context) error {
				_, err := s.ActivityGroups(ctx, bob, deep, 11, 5)
				return err
			},
			uses: []string{
				"SEARCH activity_groups USING INDEX activity_groups_recent (user_id=? AND last_id<?)",
				"SEARCH a USING INDEX activity_group (group_id=? AND id<?)", "SEARCH p USING INTEGER PRIMARY KEY",
			},
		},
		{
			name: "AddActivity",
			run: update(func(ctx context.Context, tx natter.Tx) error {
				_, _, err := tx.AddActivity(ctx, natter.NewActivity{UserID: bob, Kind: natter.ActivityMention,
					Actor: natter.MemberRef{ID: alice, Username: "alice"}, PostID: post, Window: time.Hour})
				return err
			}),
			uses: []string{
				"SEARCH activity_groups USING COVERING INDEX activity_groups_open (user_id=? AND kind=? AND subject_id=? AND first_at>?)",
				"SEARCH activity USING COVERING INDEX activity_group_actor (group_id=? AND actor_id=?)",
			},
		},
		{
			name: "MarkPostActivityRead",
			run: update(func(ctx context.Context, tx natter.Tx) error {
				_, _, err := tx.MarkPostActivityRead(ctx, bob, post)
				return err
			}),
			uses: []string{"SEARCH activity USING INDEX activity_unread (user_id=? AND post_id=?)"},
		},
		{
			name: "MarkActivityRead",
			run: update(func(ctx context.Context, tx natter.Tx) error {
				_, _, err := tx.MarkActivityRead(ctx, bob, deep)
				return err
			}),
			uses: []string{"SEARCH activity USING INDEX activity_unread (user_id=?)"},
		},
		{
			name: "ActivityUnread",
			run:  func(ctx context.Context) error { _, err := s.ActivityUnread(ctx, 1); return notFoundIsFine(err) },
			uses: []string{"SEARCH activity USING INTEGER PRIMARY KEY (rowid=?)"},
		},
		{
			name: "MarkMessagesRead",
			run: update(func(ctx context.Context, tx natter.Tx) error {
				_, _, err := tx.MarkMessagesRead(ctx, bob, []int64{message})
				return err
			}),
			uses: []string{"SEARCH messages USING INTEGER PRIMARY KEY (rowid=?)"},
		},
		{
			name: "MarkConversationRead",
			run: update(func(ctx context.Context, tx natter.Tx) error {
				_, _, err := tx.MarkConversationRead(ctx, bob, alice)
				return err
			}),
			uses: []string{"SEARCH messages USING INDEX messages_unread (recipient_id=? AND sender_id=?)"},
		},
		{
			name: "MessageUnread",
			run:  func(ctx context.Context) error { _, err := s.MessageUnread(ctx, message); return err },
			uses: []string{"SEARCH messages USING INTEGER PRIMARY KEY (rowid=?)"},
		},
		{
			name: "Post",
			run:  func(ctx context.Context) error { _, err := s.Post(ctx, post); return err },
			uses: []string{"SEARCH p USING INTEGER PRIMARY KEY (rowid=?)"},
		},
		{
			name: "Replies",
			run: func(ctx context.Context) error {
				_, err := s.Replies(ctx, post, 0, 51)
				return err
			},
			uses: []string{"SEARCH p USING INDEX posts_replies (reply_to=? AND id>?)", "SEARCH rp USING INTEGER PRIMARY KEY (rowid=?)"},
		},
		{
			name: "PostVersions",
			run: func(ctx context.Context) error {
				_, err := s.PostVersions(ctx, post)
				return err
			},
			uses: []string{"SEARCH post_versions USING INDEX post_versions_post (post_id=?)"},
		},
		{
			name: "Liked",
			run: func(ctx context.Context) error {
				_, err := s.Liked(ctx, bob, []int64{1, deep})
				return err
			},
			uses: []string{"SEARCH likes USING COVERING INDEX likes_user (user_id=? AND post_id>? AND post_id<?)"},
		},
		{
			name: "Like",
			run: update(func(ctx context.Context, tx natter.Tx) error {
				if _, _, err := tx.Like(ctx, bob, post); err != nil {
					return err
				}
				_, _, err := tx.Unlike(ctx, bob, post)
				return err
			}),
			uses: []string{"SEARCH likes USING INDEX sqlite_autoindex_likes_1 (post_id=? AND user_id=?)", "SEARCH posts USING INTEGER PRIMARY KEY (rowid=?)"},
		},
		{
			name: "EditPost",
			run: update(func(ctx context.Context, tx natter.Tx) error {
				if _, err := tx.PostBodies(ctx, post); err != nil {
					return err
				}
				return tx.EditPost(ctx, post, "hi again @bob")
			}),
			uses: []string{"SEARCH post_versions USING INDEX post_versions_post (post_id=?)"},
		},
		{
			name: "UnreadReplies",
			run: update(func(ctx context.Context, tx natter.Tx) error {
				_, err := tx.UnreadReplies(ctx, bob, post)
				return err
			}),
			uses: []string{"SEARCH activity_groups USING INDEX activity_groups_open (user_id=? AND kind=? AND subject_id=?)",
				"SEARCH activity USING INDEX activity_group_actor (group_id=?)"},
		},
		{
			name: "WithdrawActivity",
			run: update(func(ctx context.Context, tx natter.Tx) error {
				_, err := tx.WithdrawActivity(ctx, post, "", 0)
				return err
			}),
			uses: []string{"SEARCH activity USING INDEX activity_post (post_id=?)",
				"SEARCH activity USING COVERING INDEX activity_group_actor (group_id=? AND actor_id=?)"},
			sortOK: "the members told about one post",
		},
		{
			name: "DeletePost",
			run: update(func(ctx context.Context, tx natter.Tx) error {
				return tx.DeletePost(ctx, post)
			}),
			uses: []string{"SEARCH likes USING INDEX sqlite_autoindex_likes_1 (post_id=?)"},
		},
		{
			name: "Account",
			run:  func(ctx context.Context) error { _, err := s.Account(ctx, 1); return notFoundIsFine(err) },
			uses: []string{"SEARCH users USING INTEGER PRIMARY KEY (rowid=?)"},
		},
		{
			name: "MemberByName",
			run:  func(ctx context.Context) error { _, err := s.MemberByName(ctx, "alice"); return notFoundIsFine(err) },
			uses: []string{"SEARCH users USING INDEX sqlite_autoindex_users_1 (username_key=?)"},
		},
		{
			name: "MembersNamed",
			run: func(ctx context.Context) error {
				_, err := s.MembersNamed(ctx, []string{"alice", "nobody"})
				return err
			},
			uses: []string{"SEARCH users USING INDEX sqlite_autoindex_users_1 (username_key=?)", "SEARCH f USING INDEX sqlite_autoindex_former_names_1 (name_key=?)", "SEARCH u USING INTEGER PRIMARY KEY (rowid=?)"},
		},
		{
			// Whom a new post's @mentions notify: the same read, uncached.
			name: "TxMembersNamed",
			run: update(func(ctx context.Context, tx natter.Tx) error {
				_, err := tx.MembersNamed(ctx, []string{"bob", "nobody"})
				return err
			}),
			uses: []string{"SEARCH users USING INDEX sqlite_autoindex_users_1 (username_key=?)", "SEARCH f USING INDEX sqlite_autoindex_former_names_1 (name_key=?)", "SEARCH u USING INTEGER PRIMARY KEY (rowid=?)"},
		},
		{
			// What an item is owed on: read by every like, reply and mention.
			name: "TxPrefs",
			run: update(func(ctx context.Context, tx natter.Tx) error {
				_, err := tx.Prefs(ctx, bob)
				return err
			}),
			uses: []string{"SEARCH notification_prefs USING INDEX sqlite_autoindex_notification_prefs_1 (user_id=?)", "SEARCH notification_settings USING INTEGER PRIMARY KEY (rowid=?)"},
		},
		{
			name: "Credentials",
			run:  func(ctx context.Context) error { _, err := s.Credentials(ctx, "alice"); return notFoundIsFine(err) },
			uses: []string{"SEARCH users USING INDEX sqlite_autoindex_users_1 (username_key=?)"},
		},
		{
			name: "SessionsDeleteExpired",
			run: func(ctx context.Context) error {
				_, err := s.Sessions().DeleteExpired(ctx)
				return err
			},
			uses: []string{"SEARCH sessions USING INDEX sessions_expiry (expiry<?)", "SEARCH sessions USING INDEX sessions_idle (idle_until>? AND idle_until<?)"},
		},
		{
			name: "SessionsFind",
			run: func(ctx context.Context) error {
				_, _, err := s.Sessions().FindCtx(ctx, "tok")
				return err
			},
			uses: []string{"SEARCH sessions USING INDEX sqlite_autoindex_sessions_1 (token=?)"},
		},
		{
			name: "GatherMail",
			run: func(ctx context.Context) error {
				item := natter.Item{UserID: bob, Kind: natter.KindMessage, ID: message}
				_, err := s.Update(ctx, func(tx natter.Tx) error {
					if err := tx.VerifyEmail(ctx, bob, "bob@example.com"); err != nil {
						return err
					}
					return tx.Owe(ctx, natter.ChannelEmail, item, natter.MessageTag(alice), time.Time{})
				})
				if err != nil {
					return err
				}
				jobs, err := s.ClaimJobs(ctx, "plan", 1, time.Minute)
				if err != nil || len(jobs) != 1 {
					return fmt.Errorf("claimed %d jobs: %v", len(jobs), err)
				}
				b, err := s.GatherMail(ctx, jobs[0], 50, nil)
				if err == nil && b.State != natter.MailSend {
					err = fmt.Errorf("state %v", b.State)
				}
				return err
			},
			uses:   []string{"SEARCH outbox USING INDEX outbox_member_channel (user_id=? AND channel=?)"},
			sortOK: "a member's owed emails: a handful",
		},
		{
			name: "ItemTextLike",
			run: func(ctx context.Context) error {
				var liked int64 // the plans' post is deleted by now
				_, err := s.Update(ctx, func(tx natter.Tx) error {
					p, err := tx.CreatePost(ctx, natter.MemberRef{ID: alice}, "like me")
					if err != nil {
						return err
					}
					liked = p.ID
					_, _, err = tx.AddActivity(ctx, natter.NewActivity{UserID: alice, Kind: natter.ActivityLike, Actor: natter.MemberRef{ID: bob}, PostID: p.ID, Subject: p.ID, Window: time.Hour})
					return err
				})
				if err != nil {
					return err
				}
				t, err := s.ItemText(ctx, natter.Item{UserID: alice, Kind: natter.KindLike, ID: liked})
				if err == nil && t.Actor.ID != bob {
					err = fmt.Errorf("item text %+v", t)
				}
				return err
			},
			uses: []string{"SEARCH a USING INDEX activity_unread (user_id=? AND post_id=?)"},
		},
		{
			name: "EmailToken",
			run: func(ctx context.Context) error {
				_, err := s.EmailToken(ctx, "hash", natter.TokenVerify)
				return notFoundIsFine(err)
			},
			uses: []string{"SEARCH email_tokens USING INDEX sqlite_autoindex_email_tokens_1 (token_hash=?)"},
		},
		{
			name: "SaveEmailToken",
			run: update(func(ctx context.Context, tx natter.Tx) error {
				return tx.SaveEmailToken(ctx, "hash", natter.EmailToken{UserID: bob, Purpose: natter.TokenReset, Expires: time.Now().Add(time.Hour)})
			}),
			uses: []string{"SEARCH email_tokens USING INDEX email_tokens_user (user_id=? AND purpose=?)"},
		},
		{
			name: "AccountByEmail",
			run: update(func(ctx context.Context, tx natter.Tx) error {
				_, err := tx.AccountByEmail(ctx, "bob@example.com")
				return err
			}),
			uses: []string{"SEARCH users USING INDEX sqlite_autoindex_users_2 (email_key=?)"},
		},
		{
			name: "OweDigests",
			run: func(ctx context.Context) error {
				_, err := s.OweDigests(ctx)
				return err
			},
			uses: []string{"SEARCH ns USING INDEX notification_settings_digest (digest_due_at>? AND digest_due_at<?)"},
		},
		{
			name: "UnreadItems",
			run: func(ctx context.Context) error {
				_, err := s.UnreadItems(ctx, bob, 10)
				return err
			},
			uses:   []string{"SEARCH messages USING COVERING INDEX messages_received (recipient_id=?)", "USING INDEX activity_unread (user_id=?)"},
			sortOK: "a member's unread items only",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			queries = nil
			mu.Unlock()
			if err := tt.run(t.Context()); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			ran := queries
			mu.Unlock()
			if len(ran) == 0 {
				t.Fatal("the store ran no query (kept in memory?)")
			}
			var all []string
			for _, q := range ran {
				plan := queryPlan(t.Context(), t, db, q.query, q.args...)
				all = append(all, plan...)
				checkPlan(t, q.query, plan, tt.pkScan, tt.sortOK)
			}
			text := strings.Join(all, "\n")
			for _, want := range tt.uses {
				if !strings.Contains(text, want) {
					t.Errorf("plans lack %q:\n%s", want, text)
				}
			}
		})
	}
}

// checkPlan fails the test if the plan of query reads a whole table (other
// than pkScan, walked by its primary key and stopped by LIMIT) or sorts
// without a reason given in sortOK.
func checkPlan(t *testing.T, query string, plan []string, pkScan, sortOK string) {
	t.Helper()
	text := strings.Join(plan, "\n")
	// Subqueries run as co-routines and are read with SCAN; that reads
	// their (limited) output, not a table.
	subqueries := map[string]bool{}
	for _, line := range plan {
		if name, ok := strings.CutPrefix(line, "CO-ROUTINE "); ok {
			subqueries[name] = true
		}
	}
	for _, line := range plan {
		if m := scanRE.FindStringSubmatch(line); m != nil && !subqueries[m[1]] && m[1] != pkScan {
			t.Errorf("plan reads the whole of %s: %q\n%s\nquery: %s", m[1], line, text, query)
		}
		if strings.Contains(line, "TEMP B-TREE") && sortOK == "" {
			t.Errorf("plan sorts: %q\n%s\nquery: %s", line, text, query)
		}
	}
	if pkScan != "" && strings.Contains(text, "TEMP B-TREE") {
		t.Errorf("plan scans %s and sorts it: the LIMIT does not stop the scan\n%s\nquery: %s", pkScan, text, query)
	}
}

func notFoundIsFine(err error) error {
	if errors.Is(err, natter.ErrNotFound) {
		return nil
	}
	return err
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
