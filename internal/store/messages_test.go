package store_test

import (
	"errors"
	"fmt"
	"testing"

	"natter/internal/natter"
	"natter/internal/store"
	"natter/internal/store/storetest"
)

// send stores a message and returns it with the recipient's unread count.
func send(t testing.TB, s *store.Store, from, to natter.Account, body string) (natter.Message, int) {
	t.Helper()
	var m natter.Message
	var unread int
	mustUpdate(t, s, func(tx natter.Tx) error {
		var err error
		m, unread, err = tx.CreateMessage(t.Context(), ref(from), ref(to), body)
		return err
	})
	return m, unread
}

func messageBodies(ms []natter.Message) (out []string) {
	for _, m := range ms {
		out = append(out, m.Body)
	}
	return out
}

func TestCreateMessage(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")

		m, unread := send(t, s, alice, bob, "hello bob")
		if m.ID == 0 || m.Sender != ref(alice) || m.Recipient != ref(bob) || m.Body != "hello bob" || m.CreatedAt.IsZero() {
			t.Errorf("CreateMessage = %+v", m)
		}
		if unread != 1 {
			t.Errorf("recipient's unread count = %d, want 1", unread)
		}
		if _, unread := send(t, s, alice, bob, "again"); unread != 2 {
			t.Errorf("second message: unread = %d, want 2", unread)
		}
		if got := reload(t, s, bob).UnreadMessages; got != 2 {
			t.Errorf("bob.UnreadMessages = %d, want 2", got)
		}
		if got := reload(t, s, alice).UnreadMessages; got != 0 {
			t.Errorf("sending counted unread for the sender: %d", got)
		}

		// Both members have a conversation row; only the recipient's is unread.
		for _, side := range []struct {
			user, peer natter.Account
			unread     int
		}{{bob, alice, 2}, {alice, bob, 0}} {
			convs, err := s.Conversations(ctx, side.user.ID, natter.Window{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(convs) != 1 || convs[0].Peer != ref(side.peer) || convs[0].Unread != side.unread || convs[0].Last.Body != "again" {
				t.Errorf("%s's conversations = %+v; want one with %s, %d unread, last \"again\"",
					side.user.Username, convs, side.peer.Username, side.unread)
			}
		}
	})
}

// LastSent is the inbox's "You: ..." rows: of the newest conversations
// (limit of them, newer than above), those whose last message is the
// member's own.
func TestLastSent(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		alice, bob, carol, dave := createUser(t, s, "alice"), createUser(t, s, "bob"), createUser(t, s, "carol"), createUser(t, s, "dave")
		send(t, s, bob, alice, "b1")
		a1, _ := send(t, s, alice, bob, "a1") // alice answered bob
		send(t, s, carol, alice, "c1")        // carol's is the last word
		send(t, s, alice, dave, "a2")         // dave has not answered yet

		lastSent := func(u natter.Account, above int64, limit int) string {
			t.Helper()
			convs, err := s.LastSent(ctx, u.ID, above, limit)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, c := range convs {
				if c.Last.Sender != ref(u) || c.Last.Recipient != c.Peer {
					t.Errorf("%s: %+v is not from %s to its peer", u.Username, c, u.Username)
				}
				out = append(out, c.Peer.Username+":"+c.Last.Body)
			}
			return fmt.Sprint(out)
		}
		for _, tt := range []struct {
			name  string
			u     natter.Account
			above int64
			limit int
			want  string
		}{
			{"OK", alice, 0, 10, "[dave:a2 bob:a1]"},
			// The two newest are dave's and carol's: bob's is not among them.
			{"LimitBeforeFilter", alice, 0, 2, "[dave:a2]"},
			{"Above", alice, a1.ID, 10, "[dave:a2]"},
			{"NoneOwn", bob, 0, 10, "[]"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				if got := lastSent(tt.u, tt.above, tt.limit); got != tt.want {
					t.Errorf("LastSent(%s, %d, %d) = %s, want %s", tt.u.Username, tt.above, tt.limit, got, tt.want)
				}
			})
		}
	})
}

func TestConversations(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		alice, bob, carol := createUser(t, s, "alice"), createUser(t, s, "bob"), createUser(t, s, "carol")
		b1, _ := send(t, s, bob, alice, "b1")
		c1, _ := send(t, s, carol, alice, "c1")
		send(t, s, bob, alice, "b2")
		a1, _ := send(t, s, alice, bob, "a1") // alice replies: bob's exchange is the most recent
		send(t, s, carol, bob, "c→b")

		conversations := func(u natter.Account, w natter.Window) []natter.Conversation {
			t.Helper()
			convs, err := s.Conversations(ctx, u.ID, w)
			if err != nil {
				t.Fatal(err)
			}
			return convs
		}
		summary := func(convs []natter.Conversation) (out []string) {
			for _, c := range convs {
				out = append(out, fmt.Sprintf("%s:%s:%d", c.Peer.Username, c.Last.Body, c.Unread))
			}
			return out
		}

		t.Run("MostRecentFirstWithUnread", func(t *testing.T) {
			got := summary(conversations(alice, natter.Window{Limit: 10}))
			if want := []string{"bob:a1:2", "carol:c1:1"}; fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("alice's inbox = %v, want %v", got, want)
			}
			got = summary(conversations(bob, natter.Window{Limit: 10}))
			if want := []string{"carol:c→b:1", "alice:a1:1"}; fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("bob's inbox = %v, want %v", got, want)
			}
		})

		t.Run("Windows", func(t *testing.T) {
			newest := conversations(alice, natter.Window{Limit: 1})
			if got := summary(newest); fmt.Sprint(got) != "[bob:a1:2]" {
				t.Fatalf("alice's newest 1 = %v", got)
			}
			older := conversations(alice, natter.Window{Before: newest[0].Last.ID, Limit: 5})
			if got := summary(older); fmt.Sprint(got) != "[carol:c1:1]" {
				t.Errorf("alice's conversations before bob's = %v", got)
			}
			if got := summary(conversations(alice, natter.Window{Skip: 1, Limit: 1})); fmt.Sprint(got) != "[carol:c1:1]" {
				t.Errorf("alice's second conversation by skipping = %v", got)
			}
			newer := conversations(alice, natter.Window{After: older[0].Last.ID, Limit: 5})
			if got := summary(newer); fmt.Sprint(got) != "[bob:a1:2]" {
				t.Errorf("alice's conversations after carol's = %v", got)
			}
		})

		t.Run("MarkConversationRead", func(t *testing.T) {
			var left int
			var changed bool
			mustUpdate(t, s, func(tx natter.Tx) error {
				var err error
				left, changed, err = tx.MarkConversationRead(ctx, alice.ID, bob.ID)
				return err
			})
			if !changed || left != 1 {
				t.Errorf("MarkConversationRead = %d, %v; want 1 (carol's) left, changed", left, changed)
			}
			if got := summary(conversations(alice, natter.Window{Limit: 10})); fmt.Sprint(got) != "[bob:a1:0 carol:c1:1]" {
				t.Errorf("alice's inbox after reading bob = %v", got)
			}
			if got := reload(t, s, alice).UnreadMessages; got != 1 {
				t.Errorf("alice.UnreadMessages = %d, want 1", got)
			}
			// Bob's side of the same exchange is untouched.
			if got := summary(conversations(bob, natter.Window{Limit: 10})); fmt.Sprint(got) != "[carol:c→b:1 alice:a1:1]" {
				t.Errorf("bob's inbox = %v", got)
			}

			mustUpdate(t, s, func(tx natter.Tx) error {
				var err error
				_, changed, err = tx.MarkConversationRead(ctx, alice.ID, bob.ID)
				return err
			})
			if changed {
				t.Error("reading a read conversation reported a change")
			}
			mustUpdate(t, s, func(tx natter.Tx) error {
				var err error
				_, changed, err = tx.MarkConversationRead(ctx, carol.ID, bob.ID) // no conversation at all
				return err
			})
			if changed {
				t.Error("reading a missing conversation reported a change")
			}
		})

		t.Run("MarkMessagesRead", func(t *testing.T) {
			mark := func(u natter.Account, ids ...int64) (int, bool) {
				t.Helper()
				var left int
				var changed bool
				mustUpdate(t, s, func(tx natter.Tx) error {
					var err error
					left, changed, err = tx.MarkMessagesRead(ctx, u.ID, ids)
					return err
				})
				return left, changed
			}
			unread := func(m natter.Message) bool {
				t.Helper()
				u, err := s.MessageUnread(ctx, m.ID)
				if err != nil {
					t.Fatal(err)
				}
				return u
			}
			if !unread(c1) || !unread(a1) || unread(b1) {
				t.Errorf("before: c1 %v, a1 %v, b1 %v unread; want true, true, false", unread(c1), unread(a1), unread(b1))
			}
			// a1 is bob's to read, b1 is read already; c1, given twice, counts once.
			if left, changed := mark(alice, a1.ID, c1.ID, b1.ID, c1.ID); !changed || left != 0 {
				t.Errorf("MarkMessagesRead = %d, %v; want 0 left, changed", left, changed)
			}
			if unread(c1) || !unread(a1) {
				t.Errorf("after: c1 unread %v, a1 unread %v; want false, true", unread(c1), unread(a1))
			}
			if got := summary(conversations(alice, natter.Window{Limit: 10})); fmt.Sprint(got) != "[bob:a1:0 carol:c1:0]" {
				t.Errorf("alice's inbox after reading = %v", got)
			}
			if _, changed := mark(alice, c1.ID); changed {
				t.Error("marking a read message reported a change")
			}
			if got := reload(t, s, bob).UnreadMessages; got != 2 {
				t.Errorf("bob.UnreadMessages = %d, want 2 (alice's read touched bob)", got)
			}
			if _, err := s.MessageUnread(ctx, 1<<40); !errors.Is(err, natter.ErrNotFound) {
				t.Errorf("MessageUnread(no such message) = %v, want ErrNotFound", err)
			}
		})
	})
}

func TestMessagesReceived(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		alice, bob, carol := createUser(t, s, "alice"), createUser(t, s, "bob"), createUser(t, s, "carol")
		send(t, s, bob, alice, "1")
		send(t, s, alice, bob, "not alice's")
		send(t, s, carol, alice, "2")
		send(t, s, bob, alice, "3")
		send(t, s, carol, bob, "not alice's either")

		received := func(p natter.Pagination) []natter.Message {
			t.Helper()
			msgs, err := s.MessagesReceived(ctx, alice.ID, p)
			if err != nil {
				t.Fatal(err)
			}
			return msgs
		}
		got := received(natter.Pagination{Limit: 10})
		if want := []string{"3", "2", "1"}; fmt.Sprint(messageBodies(got)) != fmt.Sprint(want) {
			t.Errorf("received = %q, want %q (newest first, only alice's)", messageBodies(got), want)
		}
		if got[1].Sender != ref(carol) || got[1].Recipient != ref(alice) {
			t.Errorf("message 2 = %+v; want from carol to alice", got[1])
		}
		if got := messageBodies(received(natter.PageFor(1, 2))); fmt.Sprint(got) != "[3 2 1]" {
			t.Errorf("page 1 of 2 (with the extra row) = %q", got)
		}
		if got := messageBodies(received(natter.PageFor(2, 2))); fmt.Sprint(got) != "[1]" {
			t.Errorf("page 2 of 2 = %q", got)
		}
		if got := received(natter.PageFor(3, 2)); len(got) != 0 {
			t.Errorf("page 3 of 2 = %+v, want empty", got)
		}
	})
}

func TestConversationMessages(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		alice, bob, carol := createUser(t, s, "alice"), createUser(t, s, "bob"), createUser(t, s, "carol")
		var ids []int64
		for i, dir := range [][2]natter.Account{{alice, bob}, {bob, alice}, {alice, bob}, {alice, bob}, {bob, alice}} {
			m, _ := send(t, s, dir[0], dir[1], fmt.Sprint(i))
			ids = append(ids, m.ID)
			// Other conversations of both members, in between.
			send(t, s, carol, alice, "carol to alice")
			send(t, s, bob, carol, "bob to carol")
		}
		conversation := func(user, peer natter.Account, before int64, limit int) []string {
			t.Helper()
			msgs, err := s.ConversationMessages(ctx, user.ID, peer.ID, before, limit)
			if err != nil {
				t.Fatal(err)
			}
			return messageBodies(msgs)
		}

		t.Run("BothDirectionsNewestFirst", func(t *testing.T) {
			want := "[4 3 2 1 0]"
			if got := conversation(alice, bob, 0, 10); fmt.Sprint(got) != want {
				t.Errorf("alice with bob = %q, want %s", got, want)
			}
			if got := conversation(bob, alice, 0, 10); fmt.Sprint(got) != want {
				t.Errorf("bob with alice = %q, want %s (the same exchange)", got, want)
			}
		})

		t.Run("Limit", func(t *testing.T) {
			if got := conversation(alice, bob, 0, 2); fmt.Sprint(got) != "[4 3]" {
				t.Errorf("newest 2 = %q, want [4 3]", got)
			}
		})

		t.Run("Before", func(t *testing.T) {
			if got := conversation(alice, bob, ids[3], 2); fmt.Sprint(got) != "[2 1]" {
				t.Errorf("2 before message 3 = %q, want [2 1]", got)
			}
			if got := conversation(alice, bob, ids[1], 10); fmt.Sprint(got) != "[0]" {
				t.Errorf("before message 1 = %q, want [0]", got)
			}
			if got := conversation(alice, bob, ids[0], 10); len(got) != 0 {
				t.Errorf("before the first = %q, want none", got)
			}
		})

		t.Run("NoOtherConversations", func(t *testing.T) {
			if got := conversation(alice, carol, 0, 100); len(got) != 5 {
				t.Errorf("alice with carol has %d messages, want 5", len(got))
			}
			if got := conversation(carol, bob, 0, 100); len(got) != 5 {
				t.Errorf("carol with bob has %d messages, want 5", len(got))
			}
			dave := createUser(t, s, "dave")
			if got := conversation(alice, dave, 0, 100); len(got) != 0 {
				t.Errorf("alice with dave = %q, want none", got)
			}
		})
	})
}

func TestBlocks(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		blocks := func(blocker, blocked natter.Account) bool {
			t.Helper()
			got, err := s.Blocks(ctx, blocker.ID, blocked.ID)
			if err != nil {
				t.Fatal(err)
			}
			var inTx bool
			mustUpdate(t, s, func(tx natter.Tx) error {
				inTx, err = tx.Blocks(ctx, blocker.ID, blocked.ID)
				return err
			})
			if inTx != got {
				t.Errorf("Tx.Blocks = %v, Store.Blocks = %v", inTx, got)
			}
			return got
		}
		block := func(on bool) {
			mustUpdate(t, s, func(tx natter.Tx) error {
				if on {
					return tx.Block(ctx, alice.ID, bob.ID)
				}
				return tx.Unblock(ctx, alice.ID, bob.ID)
			})
		}

		if blocks(alice, bob) {
			t.Error("blocked before Block")
		}
		block(true)
		if !blocks(alice, bob) {
			t.Error("not blocked after Block")
		}
		if blocks(bob, alice) {
			t.Error("Block works both ways; want only blocker → blocked")
		}
		block(true) // twice is not an error
		block(false)
		if blocks(alice, bob) {
			t.Error("blocked after Unblock")
		}
		block(false) // unblocking a member not blocked is not an error
	})
}
