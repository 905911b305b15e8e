package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"natter/internal/natter"
	"natter/internal/store"
	"natter/internal/store/storetest"
)

// clock is a time source the test moves by hand (store.Options.Now).
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// forEachClocked is storetest.ForEach for tests that need to move time: each
// dialect's store reads the returned clock.
func forEachClocked(t *testing.T, fn func(t *testing.T, s *store.Store, c *clock)) {
	t.Helper()
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			c := newClock()
			fn(t, storetest.Open(t, d, store.Options{Now: c.Now}), c)
		})
	}
}

// mustUpdate runs fn in a transaction that must commit.
func mustUpdate(t testing.TB, s *store.Store, fn func(tx natter.Tx) error) []natter.Notification {
	t.Helper()
	notes, err := s.Update(context.Background(), fn)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	return notes
}

// createUser registers name with the email name@example.com.
func createUser(t testing.TB, s *store.Store, name string) natter.Account {
	t.Helper()
	var u natter.Account
	mustUpdate(t, s, func(tx natter.Tx) error {
		var err error
		u, err = tx.CreateUser(context.Background(), name, name+"@example.com", "hash-of-"+name)
		return err
	})
	return u
}

// reload reads u again, for its counters.
func reload(t testing.TB, s *store.Store, u natter.Account) natter.Account {
	t.Helper()
	got, err := s.Account(context.Background(), u.ID)
	if err != nil {
		t.Fatalf("UserByID(%d): %v", u.ID, err)
	}
	return got
}

func ref(u natter.Account) natter.MemberRef { return natter.MemberRef{ID: u.ID, Username: u.Username} }

func TestOpen(t *testing.T) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			ctx := t.Context()
			dsn := storetest.DSN(t, d)

			t.Run("MigratesOnceAndKeepsData", func(t *testing.T) {
				s1, err := store.Open(ctx, dsn, store.Options{})
				if err != nil {
					t.Fatalf("first Open: %v", err)
				}
				if s1.Dialect() != d {
					t.Errorf("Dialect() = %q, want %q", s1.Dialect(), d)
				}
				v1, err := s1.SchemaVersion(ctx)
				if err != nil || v1 < 1 {
					t.Fatalf("SchemaVersion = %d, %v; want >= 1", v1, err)
				}
				alice := createUser(t, s1, "alice")
				s1.Close()

				// Opening again finds every migration recorded and applies
				// none: it would fail on CREATE TABLE otherwise.
				s2, err := store.Open(ctx, dsn, store.Options{})
				if err != nil {
					t.Fatalf("second Open: %v", err)
				}
				defer s2.Close()
				if v2, err := s2.SchemaVersion(ctx); err != nil || v2 != v1 {
					t.Errorf("SchemaVersion after reopen = %d, %v; want %d", v2, err, v1)
				}
				if got, err := s2.Account(ctx, alice.ID); err != nil || got.Username != "alice" {
					t.Errorf("user after reopen = %+v, %v", got, err)
				}
				if err := s2.Ping(ctx); err != nil {
					t.Errorf("Ping: %v", err)
				}
			})
		})
	}
}

// Several instances starting together on an empty database must all come
// up: the migrations take turns. On SQLite only one may have the file at a
// time (lock.go): the others are refused, not half-migrated.
func TestOpenConcurrently(t *testing.T) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			dsn := storetest.DSN(t, d)
			const instances = 4
			errs := make(chan error, instances)
			for range instances {
				go func() {
					s, err := store.Open(t.Context(), dsn, store.Options{})
					if err == nil {
						_, err = s.SchemaVersion(t.Context())
						s.Close()
					}
					errs <- err
				}()
			}
			opened := 0
			for range instances {
				err := <-errs
				switch {
				case err == nil:
					opened++
				case d == store.SQLite && errors.Is(err, store.ErrLocked):
				default:
					t.Errorf("Open: %v", err)
				}
			}
			if opened == 0 {
				t.Error("no instance opened the database")
			}
		})
	}
}

func TestOpen_ErrBadSQLitePath(t *testing.T) {
	for _, dsn := range []string{"", "sqlite:", "natter.db?mode=ro", "natter.db#x"} {
		if s, err := store.Open(t.Context(), dsn, store.Options{}); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded, want an error", dsn)
		}
	}
}

func TestIsPostgresURL(t *testing.T) {
	for dsn, want := range map[string]bool{
		"postgres://u@h/db":   true,
		"postgresql://u@h/db": true,
		"natter.db":           false,
		"sqlite:natter.db":    false,
		"/var/lib/postgres":   false,
	} {
		if got := store.IsPostgresURL(dsn); got != want {
			t.Errorf("IsPostgresURL(%q) = %v, want %v", dsn, got, want)
		}
	}
}

func TestPageFor(t *testing.T) {
	for _, tt := range []struct {
		page, per int
		want      natter.Pagination
	}{
		{1, 10, natter.Pagination{Offset: 0, Limit: 11}},
		{2, 10, natter.Pagination{Offset: 10, Limit: 11}},
		{3, 5, natter.Pagination{Offset: 10, Limit: 6}},
		{0, 10, natter.Pagination{Offset: 0, Limit: 11}},
		{-4, 10, natter.Pagination{Offset: 0, Limit: 11}},
	} {
		if got := natter.PageFor(tt.page, tt.per); got != tt.want {
			t.Errorf("PageFor(%d, %d) = %+v, want %+v", tt.page, tt.per, got, tt.want)
		}
	}
}

func TestUpdate(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		alice := createUser(t, s, "alice")

		t.Run("OKReturnsNotificationsWritten", func(t *testing.T) {
			var inside []natter.Notification
			notes := mustUpdate(t, s, func(tx natter.Tx) error {
				if _, err := tx.SetNotification(ctx, alice.ID, "a", 1); err != nil {
					return err
				}
				if _, err := tx.SetNotification(ctx, alice.ID, "b", 2); err != nil {
					return err
				}
				inside = tx.(*store.Tx).Notifications()
				return nil
			})
			if len(notes) != 2 || notes[0].Name != "a" || notes[1].Name != "b" {
				t.Fatalf("notifications = %+v, want a then b", notes)
			}
			if fmt.Sprint(notes) != fmt.Sprint(inside) {
				t.Errorf("Update returned %+v, tx.Notifications() was %+v", notes, inside)
			}
		})

		t.Run("ErrRollsBack", func(t *testing.T) {
			before := reload(t, s, alice)
			errBoom := errors.New("boom")
			notes, err := s.Update(ctx, func(tx natter.Tx) error {
				if _, err := tx.CreateUser(ctx, "ghost", "ghost@example.com", "h"); err != nil {
					return err
				}
				if _, err := tx.SetNotification(ctx, alice.ID, "c", 3); err != nil {
					return err
				}
				return errBoom
			})
			if !errors.Is(err, errBoom) {
				t.Fatalf("Update error = %v, want %v", err, errBoom)
			}
			if notes != nil {
				t.Errorf("rolled-back Update returned notifications %+v", notes)
			}
			if _, err := s.MemberByName(ctx, "ghost"); !errors.Is(err, natter.ErrNotFound) {
				t.Errorf("user of rolled-back tx: err = %v, want natter.ErrNotFound", err)
			}
			if after := reload(t, s, alice); after.NotificationSeq != before.NotificationSeq {
				t.Errorf("NotificationSeq moved from %d to %d in a rolled-back tx", before.NotificationSeq, after.NotificationSeq)
			}
			if got, _ := s.NotificationsAfter(ctx, alice.ID, before.NotificationSeq); len(got) != 0 {
				t.Errorf("rolled-back notification visible: %+v", got)
			}
		})

		t.Run("PanicRollsBackAndRepanics", func(t *testing.T) {
			func() {
				defer func() {
					if p := recover(); p != "kaboom" {
						t.Errorf("recovered %v, want the original panic", p)
					}
				}()
				s.Update(ctx, func(tx natter.Tx) error {
					if _, err := tx.CreateUser(ctx, "phantom", "phantom@example.com", "h"); err != nil {
						return err
					}
					panic("kaboom")
				})
				t.Error("Update returned after a panic")
			}()
			if _, err := s.MemberByName(ctx, "phantom"); !errors.Is(err, natter.ErrNotFound) {
				t.Errorf("user of panicked tx: err = %v, want natter.ErrNotFound", err)
			}
			// The writer connection went back to the pool usable.
			createUser(t, s, "after_panic")
		})

		t.Run("OneClockReadingPerTx", func(t *testing.T) {
			bob := createUser(t, s, "bob")
			mustUpdate(t, s, func(tx natter.Tx) error {
				p, err := tx.CreatePost(ctx, ref(alice), "hello")
				if err != nil {
					return err
				}
				m, _, err := tx.CreateMessage(ctx, ref(alice), ref(bob), "hi")
				if err != nil {
					return err
				}
				n, err := tx.SetNotification(ctx, bob.ID, "x", 1)
				if err != nil {
					return err
				}
				if !p.CreatedAt.Equal(tx.Now()) || !m.CreatedAt.Equal(tx.Now()) || !n.Time.Equal(tx.Now()) {
					t.Errorf("times %v, %v, %v differ from tx.Now() %v", p.CreatedAt, m.CreatedAt, n.Time, tx.Now())
				}
				return nil
			})
		})
	})
}

// Two members writing to each other at full speed: every message lands, no
// deadlock or serialization error reaches the caller, and the counters add
// up.
func TestCreateMessage_Concurrent(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		a, b := createUser(t, s, "alice"), createUser(t, s, "bob")
		const goroutines, each = 8, 25

		send := func(from, to natter.Account, g, i int) error {
			_, err := s.Update(ctx, func(tx natter.Tx) error {
				_, unread, err := tx.CreateMessage(ctx, ref(from), ref(to), fmt.Sprintf("%d/%d", g, i))
				if err != nil {
					return err
				}
				// As app.SendMessage does: the count notification takes
				// the recipient's row too.
				_, err = tx.SetNotification(ctx, to.ID, "unread_message_count", unread)
				return err
			})
			return err
		}
		var wg sync.WaitGroup
		errs := make(chan error, 2*goroutines*each)
		for g := range goroutines {
			for _, dir := range [][2]natter.Account{{a, b}, {b, a}} {
				wg.Go(func() {
					for i := range each {
						if err := send(dir[0], dir[1], g, i); err != nil {
							errs <- err
							return
						}
					}
				})
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("send: %v", err)
		}

		const want = goroutines * each
		for _, u := range []natter.Account{a, b} {
			u = reload(t, s, u)
			if u.UnreadMessages != want {
				t.Errorf("%s UnreadMessages = %d, want %d", u.Username, u.UnreadMessages, want)
			}
			if u.NotificationSeq != want {
				t.Errorf("%s NotificationSeq = %d, want %d", u.Username, u.NotificationSeq, want)
			}
			notes, err := s.NotificationsAfter(ctx, u.ID, 0)
			if err != nil || len(notes) != 1 || string(notes[0].Data) != fmt.Sprint(want) {
				t.Errorf("%s notifications = %+v, %v; want one with %d", u.Username, notes, err, want)
			}
			msgs, err := s.MessagesReceived(ctx, u.ID, natter.Pagination{Limit: 2 * want})
			if err != nil || len(msgs) != want {
				t.Errorf("%s received %d messages (%v), want %d", u.Username, len(msgs), err, want)
			}
			convs, err := s.Conversations(ctx, u.ID, natter.Window{Limit: 10})
			if err != nil || len(convs) != 1 || convs[0].Unread != want {
				t.Errorf("%s conversations = %+v, %v; want one with %d unread", u.Username, convs, err, want)
			}
		}
	})
}

// Messages arriving while their recipient reads them: however the
// transactions interleave, the member's unread counter is the sum of the
// conversations' unread counts, and the number of messages unread (on PostgreSQL each transaction locks the
// member's row before reading counters it changes).
func TestUnreadCountersUnderConcurrency(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, s *store.Store) {
		ctx := t.Context()
		bob := createUser(t, s, "bob")
		senders := []natter.Account{createUser(t, s, "alice"), createUser(t, s, "carol"), createUser(t, s, "dave")}
		const each = 40

		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for _, from := range senders {
			wg.Go(func() {
				for i := range each {
					_, err := s.Update(ctx, func(tx natter.Tx) error {
						_, _, err := tx.CreateMessage(ctx, ref(from), ref(bob), fmt.Sprint(i))
						return err
					})
					if err != nil {
						errs <- err
						return
					}
				}
			})
		}
		readers := make(chan struct{})
		wg.Go(func() {
			defer close(readers)
			for i := range each {
				_, err := s.Update(ctx, func(tx natter.Tx) error {
					if i%3 == 0 {
						convs, err := s.Conversations(ctx, bob.ID, natter.Window{Limit: 10})
						if err != nil || len(convs) == 0 {
							return err
						}
						_, _, err = tx.MarkMessagesRead(ctx, bob.ID, []int64{convs[0].Last.ID})
						return err
					}
					_, _, err := tx.MarkConversationRead(ctx, bob.ID, senders[i%len(senders)].ID)
					return err
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("transaction: %v", err)
		}

		convs, err := s.Conversations(ctx, bob.ID, natter.Window{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		sum := 0
		for _, c := range convs {
			sum += c.Unread
		}
		if got := reload(t, s, bob).UnreadMessages; got != sum {
			t.Errorf("bob's unread counter is %d, his conversations hold %d unread", got, sum)
		}
		msgs, err := s.MessagesReceived(ctx, bob.ID, natter.Pagination{Limit: 10 * each})
		if err != nil {
			t.Fatal(err)
		}
		unread := 0
		for _, m := range msgs {
			if m.Unread {
				unread++
			}
		}
		if unread != sum {
			t.Errorf("%d of bob's messages are unread, his conversations count %d", unread, sum)
		}
	})
}
