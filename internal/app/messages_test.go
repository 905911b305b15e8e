package app_test

import (
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"natter/internal/app"
	"natter/internal/natter"
	"natter/internal/store"
)

func TestSendMessage(t *testing.T) {
	forEachDialect(t, app.Config{}, func(t *testing.T, e *env) {
		ctx := t.Context()
		alice, bob := e.register(t, "alice"), e.register(t, "bob")
		e.pub.take()

		t.Run("OK", func(t *testing.T) {
			// When the publisher hears of a notification, another
			// connection already reads it: the transaction has committed.
			e.pub.setCheck(func(notes []natter.Notification) {
				for _, n := range notes {
					stored, err := e.NotificationsAfter(ctx, n.UserID, n.Seq-1)
					if err != nil || len(stored) == 0 || stored[0].Seq != n.Seq {
						t.Errorf("published seq %d before it was readable: %+v, %v", n.Seq, stored, err)
					}
				}
			})
			defer e.pub.setCheck(nil)
			m, err := e.SendMessage(ctx, alice, "BOB", "  hello\r\nbob  ")
			if err != nil {
				t.Fatal(err)
			}
			if m.ID == 0 || m.Sender.ID != alice.ID || m.Recipient.ID != bob.ID || m.Recipient.Username != "bob" || m.Body != "hello\nbob" {
				t.Errorf("SendMessage = %+v", m)
			}
			// One count per thing: the Messages badge, not the centre.
			if got := e.reload(t, bob); got.UnreadMessages != 1 || got.UnreadActivity != 0 {
				t.Errorf("bob's counts = %d messages, %d activity; want 1, 0", got.UnreadMessages, got.UnreadActivity)
			}
			wantPublished(t, e, itoa(bob.ID)+":unread_message_count=1")
			if c, _ := e.Activity(ctx, bob, 0); len(c.Groups) != 0 {
				t.Errorf("bob's centre = %+v, want nothing", c.Groups)
			}
			if unread, err := e.MessageUnread(ctx, m.ID); err != nil || !unread {
				t.Errorf("MessageUnread = %v, %v; want true", unread, err)
			}
		})

		t.Run("OKCountsGrow", func(t *testing.T) {
			if _, err := e.SendMessage(ctx, alice, "bob", "again"); err != nil {
				t.Fatal(err)
			}
			wantPublished(t, e, itoa(bob.ID)+":unread_message_count=2")
		})

		refused := func(t *testing.T, err error, kind natter.Kind) {
			t.Helper()
			wantKind(t, err, kind)
			wantPublished(t, e)
			if got := e.reload(t, bob).UnreadMessages; got != 2 {
				t.Errorf("bob.UnreadMessages = %d after a refused message, want 2", got)
			}
			if got, _ := e.store.MessagesReceived(ctx, bob.ID, natter.Pagination{Limit: 10}); len(got) != 2 {
				t.Errorf("bob has %d messages after a refused one, want 2", len(got))
			}
		}

		for _, tt := range []struct{ name, body string }{
			{"ErrBlank", "   "},
			{"ErrTooLong", strings.Repeat("😀", 141)},
			{"ErrNUL", "hi\x00"},
			{"ErrInvalidUTF8", "hi\xfe"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				_, err := e.SendMessage(ctx, alice, "bob", tt.body)
				wantFields(t, err, "message")
				refused(t, err, natter.Invalid)
			})
		}

		t.Run("OK140Characters", func(t *testing.T) {
			if _, err := e.SendMessage(ctx, bob, "alice", strings.Repeat("é", 140)); err != nil {
				t.Fatal(err)
			}
			e.pub.take()
		})

		t.Run("ErrUnknownRecipient", func(t *testing.T) {
			_, err := e.SendMessage(ctx, alice, "nobody", "hello?")
			refused(t, err, natter.NotFound)
		})

		t.Run("ErrSelf", func(t *testing.T) {
			_, err := e.SendMessage(ctx, bob, "BOB", "note to self")
			wantKind(t, err, natter.Invalid)
			wantPublished(t, e)
		})

		t.Run("ErrBlocked", func(t *testing.T) {
			if _, err := e.Block(ctx, bob, "alice"); err != nil {
				t.Fatal(err)
			}
			_, err := e.SendMessage(ctx, alice, "bob", "let me in")
			refused(t, err, natter.Forbidden)
			// The block is one way: bob may still write to alice.
			if _, err := e.SendMessage(ctx, bob, "alice", "I blocked you"); err != nil {
				t.Errorf("blocker cannot write: %v", err)
			}
			e.pub.take()
			if _, err := e.Unblock(ctx, bob, "alice"); err != nil {
				t.Fatal(err)
			}
			if _, err := e.SendMessage(ctx, alice, "bob", "thanks"); err != nil {
				t.Errorf("after Unblock: %v", err)
			}
			e.pub.take()
		})
	})
}

func TestSendMessage_RateLimited(t *testing.T) {
	e := newEnv(t, store.SQLite, app.Config{SendPerMember: app.Limit{Events: 3, Per: time.Minute}})
	ctx := t.Context()
	alice, bob := e.register(t, "alice"), e.register(t, "bob")
	for i := range 3 {
		if _, err := e.SendMessage(ctx, alice, "bob", fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	e.pub.take()
	_, err := e.SendMessage(ctx, alice, "bob", "one too many")
	if le := wantKind(t, err, natter.RateLimited); le.RetryAfter <= 0 || le.RetryAfter > time.Minute {
		t.Errorf("RetryAfter = %v", le.RetryAfter)
	}
	wantPublished(t, e)
	if got := e.reload(t, bob).UnreadMessages; got != 3 {
		t.Errorf("bob.UnreadMessages = %d, want 3: nothing half-sent", got)
	}
	if _, err := e.SendMessage(ctx, bob, "alice", "my own allowance"); err != nil {
		t.Errorf("bob limited by alice's sending: %v", err)
	}
	renamed, err := e.UpdateProfile(ctx, alice, "alicia", "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.SendMessage(ctx, renamed, "bob", "new name, new allowance?")
	wantKind(t, err, natter.RateLimited)

	e.clock.Advance(20 * time.Second) // three a minute: one more every 20 s
	if _, err := e.SendMessage(ctx, renamed, "bob", "later"); err != nil {
		t.Errorf("after the wait: %v", err)
	}
}

// A transaction that fails after it wrote the notifications publishes
// nothing: the member is never told of a change that rolled back. A trigger
// makes the last write of SendMessage (the notification) fail.
func TestSendMessage_RollbackPublishesNothing(t *testing.T) {
	forEachDialect(t, app.Config{}, func(t *testing.T, e *env) {
		ctx := t.Context()
		alice, bob := e.register(t, "alice"), e.register(t, "bob")
		e.pub.take()

		driver, ddl := "sqlite", []string{
			`CREATE TRIGGER fail_notification BEFORE INSERT ON notifications BEGIN SELECT RAISE(ABORT, 'injected failure'); END`,
		}
		if e.store.Dialect() == store.Postgres {
			driver, ddl = "pgx", []string{
				`CREATE FUNCTION fail_notification() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$`,
				`CREATE TRIGGER fail_notification BEFORE INSERT ON notifications FOR EACH ROW EXECUTE FUNCTION fail_notification()`,
			}
		}
		db, err := sql.Open(driver, e.dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, q := range ddl {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}

		_, err = e.SendMessage(ctx, alice, "bob", "never delivered")
		if err == nil || !strings.Contains(err.Error(), "injected failure") {
			t.Fatalf("SendMessage err = %v, want the injected failure", err)
		}
		if natter.ErrorKind(err) != natter.Internal {
			t.Errorf("kind = %d, want Internal", natter.ErrorKind(err))
		}
		wantPublished(t, e)
		if got := e.reload(t, bob); got.UnreadMessages != 0 || got.NotificationSeq != 0 {
			t.Errorf("bob after the rollback: %d unread, seq %d; want 0, 0", got.UnreadMessages, got.NotificationSeq)
		}
		if notes, _ := e.NotificationsAfter(ctx, bob.ID, 0); len(notes) != 0 {
			t.Errorf("notifications after the rollback: %+v", notes)
		}
		if msgs, _ := e.store.MessagesReceived(ctx, bob.ID, natter.Pagination{Limit: 10}); len(msgs) != 0 {
			t.Errorf("messages after the rollback: %+v", msgs)
		}
	})
}

func TestReadMessages(t *testing.T) {
	forEachDialect(t, app.Config{PostsPerPage: 2}, func(t *testing.T, e *env) {
		ctx := t.Context()
		alice, bob, carol := e.register(t, "alice"), e.register(t, "bob"), e.register(t, "carol")
		var sent []natter.Message
		for _, m := range []struct {
			from natter.Account
			body string
		}{{alice, "1"}, {carol, "2"}, {alice, "3"}} {
			msg, err := e.SendMessage(ctx, m.from, "bob", m.body)
			if err != nil {
				t.Fatal(err)
			}
			sent = append(sent, msg)
		}
		e.pub.take()

		t.Run("ErrBadPageChangesNothing", func(t *testing.T) {
			for _, page := range []int{0, -1, app.MaxPage + 1} {
				_, _, err := e.ReadMessages(ctx, bob, page)
				wantKind(t, err, natter.Malformed)
			}
			if got := e.reload(t, bob).UnreadMessages; got != 3 {
				t.Errorf("bob.UnreadMessages = %d after bad pages, want 3", got)
			}
			wantPublished(t, e)
		})

		t.Run("OKMarksReadWhatItShows", func(t *testing.T) {
			p, left, err := e.ReadMessages(ctx, e.reload(t, bob), 1)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range p.Items {
				got = append(got, fmt.Sprintf("%s:%s:%v", m.Sender.Username, m.Body, m.Unread))
			}
			// Shown as they were: unread.
			if want := []string{"alice:3:true", "carol:2:true"}; !slices.Equal(got, want) || !p.HasNext || p.HasPrev {
				t.Errorf("page 1 = %q next %v prev %v; want %q, a next page", got, p.HasNext, p.HasPrev, want)
			}
			// The message on page 2, never shown, is still unread.
			if got := e.reload(t, bob).UnreadMessages; got != 1 || left != 1 {
				t.Errorf("bob.UnreadMessages = %d (returned %d), want 1", got, left)
			}
			if unread, _ := e.MessageUnread(ctx, sent[0].ID); !unread {
				t.Error("message 1, on page 2, was marked read")
			}
			wantPublished(t, e, itoa(bob.ID)+":unread_message_count=1")
			convs, _ := e.Conversations(ctx, bob, app.Position{})
			var unread []string
			for _, c := range convs.Items {
				unread = append(unread, fmt.Sprintf("%s:%d", c.Peer.Username, c.Unread))
			}
			if want := []string{"alice:1", "carol:0"}; !slices.Equal(unread, want) {
				t.Errorf("bob's inbox = %v, want %v", unread, want)
			}
		})

		t.Run("ReadAgainPublishesNothing", func(t *testing.T) {
			p, left, err := e.ReadMessages(ctx, e.reload(t, bob), 1)
			if err != nil || left != 1 || p.Items[0].Unread {
				t.Errorf("page 1 again = %+v, %d, %v; want read messages, 1 left", p.Items, left, err)
			}
			wantPublished(t, e)
		})

		t.Run("PageTwoReadsTheRest", func(t *testing.T) {
			p, left, err := e.ReadMessages(ctx, e.reload(t, bob), 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Items) != 1 || p.Items[0].Body != "1" || !p.Items[0].Unread || p.HasNext || !p.HasPrev || left != 0 {
				t.Errorf("page 2 = %+v, %d left", p, left)
			}
			wantPublished(t, e, itoa(bob.ID)+":unread_message_count=0")
		})

		t.Run("OnlyOwnMessages", func(t *testing.T) {
			p, _, err := e.ReadMessages(ctx, carol, 1)
			if err != nil || len(p.Items) != 0 {
				t.Errorf("carol's messages = %+v, %v; want none", p.Items, err)
			}
			wantPublished(t, e)
		})
	})
}

func TestConversation(t *testing.T) {
	forEachDialect(t, app.Config{}, func(t *testing.T, e *env) {
		ctx := t.Context()
		alice, bob, carol := e.register(t, "alice"), e.register(t, "bob"), e.register(t, "carol")
		send := func(from natter.Account, to, body string) {
			t.Helper()
			if _, err := e.SendMessage(ctx, from, to, body); err != nil {
				t.Fatal(err)
			}
		}
		send(bob, "alice", "b1")
		send(alice, "bob", "a1")
		send(carol, "alice", "c1")
		send(bob, "alice", "b2")
		e.pub.take()

		t.Run("OKMarksOnlyThatConversationRead", func(t *testing.T) {
			c, err := e.Conversation(ctx, e.reload(t, alice), "BOB", 0)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range c.Messages {
				got = append(got, m.Body)
			}
			if want := []string{"b1", "a1", "b2"}; !slices.Equal(got, want) || c.Peer.ID != bob.ID || c.Earlier != 0 {
				t.Errorf("conversation = %q (peer %s, earlier %d), want %q oldest first", got, c.Peer.Username, c.Earlier, want)
			}
			if got := e.reload(t, alice).UnreadMessages; got != 1 || c.Unread != 1 {
				t.Errorf("alice.UnreadMessages = %d (returned %d), want 1 (carol's)", got, c.Unread)
			}
			wantPublished(t, e, itoa(alice.ID)+":unread_message_count=1")
			convs, _ := e.Conversations(ctx, alice, app.Position{})
			var unread []string
			for _, c := range convs.Items {
				unread = append(unread, fmt.Sprintf("%s:%d", c.Peer.Username, c.Unread))
			}
			if want := []string{"bob:0", "carol:1"}; !slices.Equal(unread, want) {
				t.Errorf("alice's inbox = %v, want %v", unread, want)
			}
			if got := e.reload(t, bob).UnreadMessages; got != 1 {
				t.Errorf("bob.UnreadMessages = %d, want 1: alice's reading is hers", got)
			}
		})

		t.Run("AlreadyReadPublishesNothing", func(t *testing.T) {
			if _, err := e.Conversation(ctx, e.reload(t, alice), "bob", 0); err != nil {
				t.Fatal(err)
			}
			wantPublished(t, e)
		})

		// Reading the last unread conversation pushes the count 0: the
		// member's other tabs must hide their badge too.
		t.Run("LastUnreadPublishesZero", func(t *testing.T) {
			if _, err := e.Conversation(ctx, e.reload(t, alice), "carol", 0); err != nil {
				t.Fatal(err)
			}
			wantPublished(t, e, itoa(alice.ID)+":unread_message_count=0")
			if got := e.reload(t, alice).UnreadMessages; got != 0 {
				t.Errorf("alice.UnreadMessages = %d, want 0", got)
			}
		})

		// With nothing unread, viewing a conversation writes nothing, and
		// opens no write transaction: on SQLite that would take the one
		// writer connection from the members who are writing.
		t.Run("NothingUnreadOpensNoTransaction", func(t *testing.T) {
			alice := e.reload(t, alice)
			e.updates.take()
			for _, peer := range []string{"bob", "carol"} {
				if _, err := e.Conversation(ctx, alice, peer, 0); err != nil {
					t.Fatal(err)
				}
			}
			if n := e.updates.take(); n != 0 {
				t.Errorf("viewing read conversations opened %d write transactions, want 0", n)
			}
			wantPublished(t, e)
		})

		t.Run("ErrSelf", func(t *testing.T) {
			_, err := e.Conversation(ctx, alice, "alice", 0)
			wantKind(t, err, natter.NotFound)
		})

		t.Run("ErrUnknownPeer", func(t *testing.T) {
			_, err := e.Conversation(ctx, alice, "nobody", 0)
			wantKind(t, err, natter.NotFound)
		})

		t.Run("BlockFlags", func(t *testing.T) {
			if _, err := e.Block(ctx, alice, "carol"); err != nil {
				t.Fatal(err)
			}
			c, _ := e.Conversation(ctx, alice, "carol", 0)
			if !c.Blocked || c.BlockedBy {
				t.Errorf("alice's view: Blocked %v BlockedBy %v; want true, false", c.Blocked, c.BlockedBy)
			}
			c, _ = e.Conversation(ctx, carol, "alice", 0)
			if c.Blocked || !c.BlockedBy {
				t.Errorf("carol's view: Blocked %v BlockedBy %v; want false, true", c.Blocked, c.BlockedBy)
			}
			e.pub.take()
		})
	})
}

func TestConversation_Earlier(t *testing.T) {
	e := newEnv(t, store.SQLite, app.Config{})
	ctx := t.Context()
	alice, bob := e.register(t, "alice"), e.register(t, "bob")
	const total = app.ConversationSize + 5
	for i := range total {
		from, to := alice, "bob"
		if i%2 == 1 {
			from, to = bob, "alice"
		}
		if _, err := e.SendMessage(ctx, from, to, fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	c, err := e.Conversation(ctx, alice, "bob", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Messages) != app.ConversationSize || c.Messages[0].Body != "5" || c.Messages[len(c.Messages)-1].Body != fmt.Sprint(total-1) {
		t.Fatalf("newest page: %d messages from %q to %q", len(c.Messages), c.Messages[0].Body, c.Messages[len(c.Messages)-1].Body)
	}
	if c.Earlier != c.Messages[0].ID {
		t.Errorf("Earlier = %d, want the oldest shown, %d", c.Earlier, c.Messages[0].ID)
	}
	c, err = e.Conversation(ctx, alice, "bob", c.Earlier)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range c.Messages {
		got = append(got, m.Body)
	}
	if want := []string{"0", "1", "2", "3", "4"}; !slices.Equal(got, want) || c.Earlier != 0 {
		t.Errorf("earlier page = %q, Earlier %d; want %q, 0", got, c.Earlier, want)
	}
}

func TestBlock(t *testing.T) {
	e := newEnv(t, store.SQLite, app.Config{})
	ctx := t.Context()
	alice := e.register(t, "alice")
	_, err := e.Block(ctx, alice, "ALICE")
	wantKind(t, err, natter.Forbidden)
	_, err = e.Block(ctx, alice, "nobody")
	wantKind(t, err, natter.NotFound)
	e.register(t, "bob")
	if got, err := e.Block(ctx, alice, "BOB"); err != nil || got.Username != "bob" {
		t.Errorf("Block = %+v, %v", got, err)
	}
}

func TestMarkActivityRead(t *testing.T) {
	forEachDialect(t, app.Config{}, func(t *testing.T, e *env) {
		ctx := t.Context()
		alice, bob := e.register(t, "alice"), e.register(t, "bob")
		if _, err := e.CreatePost(ctx, alice, "hi @bob"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.SendMessage(ctx, alice, "bob", "psst"); err != nil {
			t.Fatal(err)
		}
		shown, err := e.Activity(ctx, bob, 0)
		if err != nil || shown.Newest == 0 {
			t.Fatalf("Activity = %+v, %v", shown, err)
		}
		// A mention arrives after the page was shown.
		later, err := e.CreatePost(ctx, alice, "and again @bob")
		if err != nil {
			t.Fatal(err)
		}
		e.pub.take()

		if err := e.MarkActivityRead(ctx, bob, shown.Newest); err != nil {
			t.Fatal(err)
		}
		wantPublished(t, e, itoa(bob.ID)+":unread_activity_count=1")
		if got := e.reload(t, bob); got.UnreadActivity != 1 || got.UnreadMessages != 1 {
			t.Errorf("bob: %d activity, %d messages unread; want 1, 1 (the later mention; messages are read elsewhere)", got.UnreadActivity, got.UnreadMessages)
		}
		c, _ := e.Activity(ctx, bob, 0)
		if len(c.Groups) != 1 || c.Groups[0].Unread != 1 || len(c.Groups[0].Recent) != 2 ||
			c.Groups[0].Recent[0].PostID != later.ID || !c.Groups[0].Recent[0].Unread || c.Groups[0].Recent[1].Unread {
			t.Errorf("bob's centre = %+v; want one group, the later mention alone unread", c.Groups)
		}
		if err := e.MarkActivityRead(ctx, bob, shown.Newest); err != nil {
			t.Fatal(err)
		}
		wantPublished(t, e)
		wantKind(t, e.MarkActivityRead(ctx, bob, 0), natter.Malformed)
		_, err = e.Activity(ctx, bob, -1)
		wantKind(t, err, natter.Malformed)
	})
}

func TestReadPost(t *testing.T) {
	forEachDialect(t, app.Config{}, func(t *testing.T, e *env) {
		ctx := t.Context()
		alice, bob, carol := e.register(t, "alice"), e.register(t, "bob"), e.register(t, "carol")
		p1, err := e.CreatePost(ctx, alice, "hi @bob")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.CreatePost(ctx, carol, "hey @bob"); err != nil {
			t.Fatal(err)
		}
		e.pub.take()
		c, _ := e.Activity(ctx, bob, 0)
		if len(c.Groups) != 1 || c.Groups[0].Entries != 2 || c.Groups[0].Actors != 2 {
			t.Fatalf("bob's centre = %+v; want one group of two mentions", c.Groups)
		}
		entry := c.Groups[0].Recent[1] // alice's, in p1

		got, left, err := e.ReadPost(ctx, e.reload(t, bob), p1.ID)
		if err != nil || got.ID != p1.ID || got.Body != "hi @bob" || got.Author.ID != alice.ID || left != 1 {
			t.Errorf("ReadPost = %+v, %d, %v; want p1, 1 left", got, left, err)
		}
		wantPublished(t, e, itoa(bob.ID)+":unread_activity_count=1")
		if unread, err := e.ActivityUnread(ctx, entry.ID); err != nil || unread {
			t.Errorf("ActivityUnread(the mention in p1) = %v, %v; want false", unread, err)
		}
		// Others read their own: carol has nothing about p1.
		if _, _, err := e.ReadPost(ctx, e.reload(t, carol), p1.ID); err != nil {
			t.Fatal(err)
		}
		wantPublished(t, e)
		_, _, err = e.ReadPost(ctx, bob, 1<<40)
		wantKind(t, err, natter.NotFound)
	})
}

func TestNotificationsSince(t *testing.T) {
	e := newEnv(t, store.SQLite, app.Config{})
	ctx := t.Context()
	alice, bob := e.register(t, "alice"), e.register(t, "bob")
	start := e.clock.Now()
	e.clock.Advance(time.Second)
	if _, err := e.SendMessage(ctx, alice, "bob", "hi"); err != nil {
		t.Fatal(err)
	}
	notes, err := e.NotificationsSince(ctx, bob, start)
	if err != nil || len(notes) != 1 || notes[0].Name != app.NotifyMessages {
		t.Errorf("NotificationsSince = %+v, %v", notes, err)
	}
	if notes, _ := e.NotificationsSince(ctx, alice, start); len(notes) != 0 {
		t.Errorf("alice sees %+v", notes)
	}
	if _, err := e.CreatePost(ctx, alice, "@bob"); err != nil {
		t.Fatal(err)
	}
	after, err := e.NotificationsAfter(ctx, bob.ID, 1)
	if err != nil || len(after) != 1 || after[0].Seq != 2 || after[0].Name != app.NotifyActivity {
		t.Errorf("NotificationsAfter(1) = %+v, %v", after, err)
	}
}
