package store

import (
	"context"
	"encoding/json"
	"fmt"
	"natter/internal/natter"
	"sort"
	"strconv"
	"strings"
	"time"
)

// NotifyChannel is the PostgreSQL channel on which committed notifications
// are announced to every instance.
const NotifyChannel = "natter_notifications"

// SetNotification replaces the member's notification called name with data,
// under the next sequence number. Incrementing the sequence locks the
// member's row until commit, so on PostgreSQL too one member's notifications
// commit in sequence order.
func (tx *Tx) SetNotification(ctx context.Context, userID int64, name string, data any) (natter.Notification, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return natter.Notification{}, fmt.Errorf("store: notification data: %w", err)
	}
	n := natter.Notification{UserID: userID, Name: name, Data: raw, Time: tx.now}
	tx.userChanged(userID)
	err = tx.q.QueryRowContext(ctx, `
		UPDATE users SET notification_seq = notification_seq + 1 WHERE id = $1 RETURNING notification_seq`,
		userID).Scan(&n.Seq)
	if err != nil {
		return natter.Notification{}, fmt.Errorf("store: notification seq: %w", err)
	}
	_, err = tx.q.ExecContext(ctx, `
		INSERT INTO notifications (user_id, name, seq, data, created_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (user_id, name) DO UPDATE
		SET seq = excluded.seq, data = excluded.data, created_at = excluded.created_at`,
		userID, name, n.Seq, string(raw), micros(tx.now))
	if err != nil {
		return natter.Notification{}, fmt.Errorf("store: set notification: %w", err)
	}
	tx.notes = append(tx.notes, n)
	return n, nil
}

// announce tells every instance, through pg_notify, which members have new
// notifications up to which sequence number. NOTIFY is transactional: the
// listeners hear it exactly when the transaction commits, never if it rolls
// back. One announcement per member per transaction, carrying ids only,
// keeps the notify queue small. SQLite has a single instance and needs none.
//
// New posts are announced too, for every instance's open timelines: as
// member TimelineMember with the post's id; deleted ones with its id
// negated.
func (tx *Tx) announce(ctx context.Context) error {
	if tx.store.dialect != Postgres || len(tx.notes) == 0 && len(tx.posted) == 0 && len(tx.unposted) == 0 {
		return nil
	}
	latest := map[int64]int64{}
	for _, n := range tx.notes {
		latest[n.UserID] = max(latest[n.UserID], n.Seq)
	}
	users := make([]int64, 0, len(latest))
	for u := range latest {
		users = append(users, u)
	}
	sort.Slice(users, func(i, j int) bool { return users[i] < users[j] })
	parts := make([]string, len(users), len(users)+len(tx.posted)+len(tx.unposted))
	for i, u := range users {
		parts[i] = FormatAnnouncement(u, latest[u])
	}
	for _, id := range tx.posted {
		parts = append(parts, FormatAnnouncement(TimelineMember, id))
	}
	for _, id := range tx.unposted {
		parts = append(parts, FormatAnnouncement(TimelineMember, -id))
	}
	// Several members' announcements share one payload (far below the 8000
	// byte limit for the few members a transaction touches).
	if _, err := tx.q.ExecContext(ctx, `SELECT pg_notify($1, $2)`, NotifyChannel, strings.Join(parts, " ")); err != nil {
		return fmt.Errorf("store: announce: %w", err)
	}
	return nil
}

// TimelineMember, as an announcement's member, says "a new post", its id
// in place of the sequence number ("a post deleted": its id negated). No
// member has id 0.
const TimelineMember = 0

// EndStreams, as an announcement's sequence number, says "end the member's
// event streams": the member logged out on some instance.
const EndStreams = -1

// AnnounceEndStreams tells every instance to end the member's event
// streams (their other sessions' streams reconnect). On SQLite, with one
// instance, there is nobody to tell.
func (s *Store) AnnounceEndStreams(ctx context.Context, userID int64) error {
	if s.dialect != Postgres {
		return nil
	}
	if _, err := s.wq.ExecContext(ctx, `SELECT pg_notify($1, $2)`, NotifyChannel, FormatAnnouncement(userID, EndStreams)); err != nil {
		return fmt.Errorf("store: announce: %w", err)
	}
	return nil
}

// FormatAnnouncement encodes "member userID has notifications up to seq"
// (or, with seq EndStreams, "end member userID's streams").
func FormatAnnouncement(userID, seq int64) string {
	return strconv.FormatInt(userID, 10) + ":" + strconv.FormatInt(seq, 10)
}

// ParseAnnouncements decodes a payload of space-separated announcements.
func ParseAnnouncements(payload string) ([][2]int64, error) {
	var out [][2]int64
	for _, f := range strings.Fields(payload) {
		u, s, ok := strings.Cut(f, ":")
		uid, err1 := strconv.ParseInt(u, 10, 64)
		seq, err2 := strconv.ParseInt(s, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("store: bad announcement %q", f)
		}
		out = append(out, [2]int64{uid, seq})
	}
	return out, nil
}

func scanNotifications(ctx context.Context, db dbtx, query string, args ...any) ([]natter.Notification, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: notifications: %w", err)
	}
	defer rows.Close()
	var notes []natter.Notification
	for rows.Next() {
		var n natter.Notification
		var data string
		var created int64
		if err := rows.Scan(&n.UserID, &n.Seq, &n.Name, &data, &created); err != nil {
			return nil, fmt.Errorf("store: scan notification: %w", err)
		}
		n.Data, n.Time = json.RawMessage(data), fromMicros(created)
		notes = append(notes, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: notifications: %w", err)
	}
	return notes, nil
}

// NotificationsAfter returns the member's notifications with a sequence
// number above seq, in sequence order: what an event stream resuming from
// Last-Event-ID has not seen.
func (s *Store) NotificationsAfter(ctx context.Context, userID, seq int64) ([]natter.Notification, error) {
	return scanNotifications(ctx, s.rq, `
		SELECT user_id, seq, name, data, created_at FROM notifications
		WHERE user_id = $1 AND seq > $2 ORDER BY seq`, userID, seq)
}

// NotificationsSince returns the member's notifications changed after since,
// oldest first: the seed's /notifications?since= query.
func (s *Store) NotificationsSince(ctx context.Context, userID int64, since time.Time) ([]natter.Notification, error) {
	return scanNotifications(ctx, s.rq, `
		SELECT user_id, seq, name, data, created_at FROM notifications
		WHERE user_id = $1 AND created_at > $2 ORDER BY created_at, seq`, userID, micros(since))
}
