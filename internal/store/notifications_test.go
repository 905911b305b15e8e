package store_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"natter/internal/natter"
	"natter/internal/store"
)

// setNote writes one notification in its own transaction.
func setNote(t testing.TB, s *store.Store, u natter.Account, name string, data any) natter.Notification {
	t.Helper()
	var n natter.Notification
	mustUpdate(t, s, func(tx natter.Tx) error {
		var err error
		n, err = tx.SetNotification(t.Context(), u.ID, name, data)
		return err
	})
	return n
}

// summary is "name=data@seq" per notification.
func noteSummary(notes []natter.Notification) (out []string) {
	for _, n := range notes {
		out = append(out, fmt.Sprintf("%s=%s@%d", n.Name, n.Data, n.Seq))
	}
	return out
}

func TestSetNotification(t *testing.T) {
	forEachClocked(t, func(t *testing.T, s *store.Store, c *clock) {
		ctx := t.Context()
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")

		t.Run("OK", func(t *testing.T) {
			n := setNote(t, s, alice, "unread_message_count", 3)
			if n.UserID != alice.ID || n.Name != "unread_message_count" || string(n.Data) != "3" || n.Seq != 1 || !n.Time.Equal(c.Now()) {
				t.Errorf("SetNotification = %+v", n)
			}
			if got := reload(t, s, alice).NotificationSeq; got != 1 {
				t.Errorf("alice.NotificationSeq = %d, want 1", got)
			}
		})

		t.Run("DataIsJSON", func(t *testing.T) {
			n := setNote(t, s, bob, "card", map[string]any{"who": "alice", "n": 2})
			if string(n.Data) != `{"n":2,"who":"alice"}` {
				t.Errorf("Data = %s", n.Data)
			}
			got, _ := s.NotificationsAfter(ctx, bob.ID, 0)
			if len(got) != 1 || string(got[0].Data) != `{"n":2,"who":"alice"}` {
				t.Errorf("stored = %v", noteSummary(got))
			}
		})

		t.Run("ReplacesByNameSeqPerMember", func(t *testing.T) {
			c.Advance(time.Second)
			setNote(t, s, alice, "unread_activity_count", 1) // seq 2
			setNote(t, s, bob, "unread_message_count", 1)    // bob's seq 2: his own sequence
			c.Advance(time.Second)
			last := setNote(t, s, alice, "unread_message_count", 0) // seq 3 replaces seq 1
			if last.Seq != 3 {
				t.Errorf("alice's third notification has seq %d, want 3", last.Seq)
			}
			got, err := s.NotificationsAfter(ctx, alice.ID, 0)
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"unread_activity_count=1@2", "unread_message_count=0@3"}; !slices.Equal(noteSummary(got), want) {
				t.Errorf("alice's notifications = %v, want %v", noteSummary(got), want)
			}
			if !got[1].Time.Equal(c.Now()) {
				t.Errorf("replaced notification time = %v, want %v", got[1].Time, c.Now())
			}
			got, _ = s.NotificationsAfter(ctx, bob.ID, 0)
			if want := []string{`card={"n":2,"who":"alice"}@1`, "unread_message_count=1@2"}; !slices.Equal(noteSummary(got), want) {
				t.Errorf("bob's notifications = %v, want %v", noteSummary(got), want)
			}
		})

		t.Run("SeqStrictlyIncreasingWithinTx", func(t *testing.T) {
			notes := mustUpdate(t, s, func(tx natter.Tx) error {
				for i := range 4 {
					if _, err := tx.SetNotification(ctx, alice.ID, "n", i); err != nil {
						return err
					}
				}
				return nil
			})
			for i := 1; i < len(notes); i++ {
				if notes[i].Seq <= notes[i-1].Seq {
					t.Errorf("seq %d after %d", notes[i].Seq, notes[i-1].Seq)
				}
			}
			if got := reload(t, s, alice).NotificationSeq; got != notes[3].Seq {
				t.Errorf("NotificationSeq = %d, want the last written %d", got, notes[3].Seq)
			}
		})
	})
}

func TestNotificationsAfter(t *testing.T) {
	forEachClocked(t, func(t *testing.T, s *store.Store, c *clock) {
		ctx := t.Context()
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		setNote(t, s, alice, "a", 1) // 1
		setNote(t, s, alice, "b", 1) // 2
		setNote(t, s, alice, "c", 1) // 3
		setNote(t, s, alice, "a", 2) // 4 replaces 1
		setNote(t, s, bob, "a", 9)

		for _, tt := range []struct {
			after int64
			want  []string
		}{
			{0, []string{"b=1@2", "c=1@3", "a=2@4"}},
			{2, []string{"c=1@3", "a=2@4"}},
			{3, []string{"a=2@4"}},
			{4, nil},
			{99, nil},
		} {
			got, err := s.NotificationsAfter(ctx, alice.ID, tt.after)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(noteSummary(got), tt.want) {
				t.Errorf("NotificationsAfter(%d) = %v, want %v", tt.after, noteSummary(got), tt.want)
			}
		}
	})
}

func TestNotificationsSince(t *testing.T) {
	forEachClocked(t, func(t *testing.T, s *store.Store, c *clock) {
		ctx := t.Context()
		alice, bob := createUser(t, s, "alice"), createUser(t, s, "bob")
		t0 := c.Now()
		mustUpdate(t, s, func(tx natter.Tx) error { // two at t0: ordered by seq
			if _, err := tx.SetNotification(ctx, alice.ID, "x", 1); err != nil {
				return err
			}
			_, err := tx.SetNotification(ctx, alice.ID, "y", 1)
			return err
		})
		c.Advance(time.Second)
		t1 := c.Now()
		setNote(t, s, alice, "z", 1)
		c.Advance(time.Second)
		t2 := c.Now()
		setNote(t, s, alice, "x", 2) // x moves to t2
		setNote(t, s, bob, "x", 7)

		for _, tt := range []struct {
			name  string
			since time.Time
			want  []string
		}{
			{"Zero", time.Time{}, []string{"y=1@2", "z=1@3", "x=2@4"}},
			{"BeforeAll", t0.Add(-time.Microsecond), []string{"y=1@2", "z=1@3", "x=2@4"}},
			{"StrictlyAfter", t0, []string{"z=1@3", "x=2@4"}},
			{"BetweenWrites", t1.Add(-time.Millisecond), []string{"z=1@3", "x=2@4"}},
			{"AtT1", t1, []string{"x=2@4"}},
			{"AtNewest", t2, nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.NotificationsSince(ctx, alice.ID, tt.since)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(noteSummary(got), tt.want) {
					t.Errorf("NotificationsSince(%v) = %v, want %v", tt.since, noteSummary(got), tt.want)
				}
			})
		}
	})
}

func TestAnnouncements(t *testing.T) {
	if got := store.FormatAnnouncement(42, 7); got != "42:7" {
		t.Errorf("FormatAnnouncement(42, 7) = %q", got)
	}
	for _, tt := range []struct {
		payload string
		want    [][2]int64
		wantErr bool
	}{
		{"", nil, false},
		{"42:7", [][2]int64{{42, 7}}, false},
		{"1:2 3:4", [][2]int64{{1, 2}, {3, 4}}, false},
		{"  1:2\t\n3:4  ", [][2]int64{{1, 2}, {3, 4}}, false},
		{"9223372036854775807:1", [][2]int64{{1<<63 - 1, 1}}, false},
		{"1", nil, true},
		{"1:", nil, true},
		{":1", nil, true},
		{"1:2:3", nil, true},
		{"a:1", nil, true},
		{"1:2 x", nil, true},
		{"9223372036854775808:1", nil, true},
	} {
		got, err := store.ParseAnnouncements(tt.payload)
		if (err != nil) != tt.wantErr || fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("ParseAnnouncements(%q) = %v, %v; want %v, error %v", tt.payload, got, err, tt.want, tt.wantErr)
		}
	}

	t.Run("RoundTrip", func(t *testing.T) {
		want := [][2]int64{{1, 1}, {17, 123456789}, {1<<62 + 3, 5}}
		var parts []string
		for _, a := range want {
			parts = append(parts, store.FormatAnnouncement(a[0], a[1]))
		}
		got, err := store.ParseAnnouncements(strings.Join(parts, " "))
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("round trip = %v, %v; want %v", got, err, want)
		}
	})
}

// FuzzParseAnnouncements: any payload is parsed or refused without a panic,
// and whatever is accepted formats back into a payload that parses to the
// same announcements.
func FuzzParseAnnouncements(f *testing.F) {
	for _, seed := range []string{"", "1:2", "1:2 3:4", " 7:8\n", "1:", ":", "1:2:3", "-1:+2", "99999999999999999999:1", "\u00a01:2\u20283:4"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, payload string) {
		got, err := store.ParseAnnouncements(payload)
		if err != nil {
			return
		}
		parts := make([]string, len(got))
		for i, a := range got {
			parts[i] = store.FormatAnnouncement(a[0], a[1])
		}
		again, err := store.ParseAnnouncements(strings.Join(parts, " "))
		if err != nil {
			t.Fatalf("re-formatted %q of %q refused: %v", parts, payload, err)
		}
		if !slices.Equal(again, got) {
			t.Fatalf("%q parsed to %v, re-formatted to %v", payload, got, again)
		}
	})
}
