package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"natter/internal/natter"
)

// The outbox holds what the delivery engine owes members (DESIGN.md §8).
// The transaction that creates something notifying writes the rows, so a
// crash after the commit loses nothing; internal/deliver takes them when
// they are due. A row's next_attempt_at is when it may next be taken:
// taking it moves that past the lease, so a row whose taker died becomes
// due again by itself, and one index serves "what is due".

// Owe records that item is owed to its member on channel from due on, with
// tag. On the push channel that is one job per subscription the member
// has (none if they have none); on any other channel one job.
func (tx *Tx) Owe(ctx context.Context, channel string, item natter.Item, tag string, due time.Time) error {
	var err error
	if channel == natter.ChannelPush {
		_, err = tx.q.ExecContext(ctx, `
			INSERT INTO outbox (user_id, channel, kind, item_id, tag, subscription_id, due_at, next_attempt_at)
			SELECT user_id, $2, $3, $4, $5, id, $6, $6 FROM push_subscriptions WHERE user_id = $1`,
			item.UserID, channel, item.Kind, item.ID, tag, micros(due))
	} else {
		_, err = tx.q.ExecContext(ctx, `
			INSERT INTO outbox (user_id, channel, kind, item_id, tag, due_at, next_attempt_at)
			VALUES ($1, $2, $3, $4, $5, $6, $6)`,
			item.UserID, channel, item.Kind, item.ID, tag, micros(due))
	}
	if err != nil {
		return fmt.Errorf("store: owe %s %s: %w", channel, item.Kind, err)
	}
	return nil
}

// OweTest queues a test push to each of the member's subscriptions, due
// now. It reports how many devices will get one.
func (tx *Tx) OweTest(ctx context.Context, userID int64) (int, error) {
	res, err := tx.q.ExecContext(ctx, `
		INSERT INTO outbox (user_id, channel, kind, item_id, tag, subscription_id, due_at, next_attempt_at)
		SELECT user_id, $2, $3, 0, 'test', id, $4, $4 FROM push_subscriptions WHERE user_id = $1`,
		userID, natter.ChannelPush, natter.KindTest, micros(tx.now))
	if err != nil {
		return 0, fmt.Errorf("store: owe test: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// Withdraw is called by every transaction in which the member reads
// something of kind: the tag read (a conversation, a post), or every tag
// of the kind when tag is empty. What is still owed for it on any channel
// is dropped, and each device that was pushed about it gets a read job
// carrying the tags, due now, so its notifications close. It reports
// whether it queued any.
func (tx *Tx) Withdraw(ctx context.Context, userID int64, kind, tag string) (bool, error) {
	// Locks the member like the worker's StartPush does: a push recorded
	// just before is seen here, one recorded after sees the item read.
	if err := tx.lockMember(ctx, userID); err != nil {
		return false, err
	}
	if _, err := tx.q.ExecContext(ctx, `
		DELETE FROM outbox WHERE user_id = $1 AND kind = $2 AND ($3 = '' OR tag = $3)`,
		userID, kind, tag); err != nil {
		return false, fmt.Errorf("store: withdraw: %w", err)
	}
	// Tags of one kind share a prefix (natter.MessageTag, natter.PostTag).
	prefix := tagPrefix(kind)
	if prefix == "" {
		return false, nil
	}
	rows, err := tx.q.QueryContext(ctx, `
		SELECT subscription_id, tag FROM push_sent
		WHERE user_id = $1 AND (tag = $2 OR ($2 = '' AND tag >= $3 AND tag < $4))
		ORDER BY subscription_id, tag`, userID, tag, prefix, prefix+"\x7f")
	if err != nil {
		return false, fmt.Errorf("store: withdraw: %w", err)
	}
	bySub := map[int64][]string{}
	var subs []int64
	for rows.Next() {
		var sub int64
		var t string
		if err := rows.Scan(&sub, &t); err != nil {
			rows.Close()
			return false, fmt.Errorf("store: withdraw: %w", err)
		}
		if _, ok := bySub[sub]; !ok {
			subs = append(subs, sub)
		}
		bySub[sub] = append(bySub[sub], t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("store: withdraw: %w", err)
	}
	if len(subs) == 0 {
		return false, nil
	}
	if _, err := tx.q.ExecContext(ctx, `
		DELETE FROM push_sent WHERE user_id = $1 AND (tag = $2 OR ($2 = '' AND tag >= $3 AND tag < $4))`,
		userID, tag, prefix, prefix+"\x7f"); err != nil {
		return false, fmt.Errorf("store: withdraw: %w", err)
	}
	for _, sub := range subs {
		tags, _ := json.Marshal(bySub[sub])
		first := bySub[sub][0]
		if len(bySub[sub]) > 1 {
			first = ""
		}
		if _, err := tx.q.ExecContext(ctx, `
			INSERT INTO outbox (user_id, channel, kind, item_id, tag, subscription_id, data, due_at, next_attempt_at)
			VALUES ($1, $2, $3, 0, $4, $5, $6, $7, $7)`,
			userID, natter.ChannelPush, natter.KindRead, first, sub, string(tags), micros(tx.now)); err != nil {
			return false, fmt.Errorf("store: queue read push: %w", err)
		}
	}
	return true, nil
}

func tagPrefix(kind string) string {
	switch kind {
	case natter.KindMessage:
		return natter.MessageTag(0)[:1]
	case natter.KindMention, natter.KindReply, natter.KindLike:
		return natter.PostTag(0)[:1]
	}
	return ""
}

const jobColumns = `id, user_id, channel, kind, item_id, tag, COALESCE(subscription_id, 0), data, due_at, attempts`

// ClaimJobs takes up to limit jobs that are due, for owner, for lease: no
// other worker takes them until the lease ends (when they are due again,
// should owner die). On PostgreSQL, SKIP LOCKED lets instances claim at
// once without waiting on, or taking, each other's rows; SQLite's single
// writer serialises claims by itself.
func (s *Store) ClaimJobs(ctx context.Context, owner string, limit int, lease time.Duration) ([]natter.Job, error) {
	lock := ""
	if s.dialect == Postgres {
		lock = "FOR UPDATE SKIP LOCKED"
	}
	now := s.now()
	until := micros(now.Add(lease))
	var jobs []natter.Job
	_, err := s.Update(ctx, func(t natter.Tx) error {
		jobs = jobs[:0]
		tx := t.(*Tx)
		rows, err := tx.q.QueryContext(ctx, `
			UPDATE outbox SET next_attempt_at = $1, lease_until = $1, lease_owner = $2, attempts = attempts + 1
			WHERE id IN (SELECT id FROM outbox WHERE next_attempt_at <= $3 ORDER BY next_attempt_at LIMIT $4 `+lock+`)
			RETURNING `+jobColumns, until, owner, micros(now), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var j natter.Job
			var data string
			var due int64
			if err := rows.Scan(&j.ID, &j.Item.UserID, &j.Channel, &j.Item.Kind, &j.Item.ID, &j.Tag,
				&j.SubscriptionID, &data, &due, &j.Attempts); err != nil {
				return err
			}
			j.Due = fromMicros(due)
			if j.Item.Kind != natter.KindRead {
				j.Data = data
			} else if data != "" {
				if err := json.Unmarshal([]byte(data), &j.Tags); err != nil {
					return fmt.Errorf("job %d: tags: %w", j.ID, err)
				}
			}
			jobs = append(jobs, j)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim jobs: %w", err)
	}
	return jobs, nil
}

// NextDue reports when the next job is due (or its lease ends); ok is
// false when the outbox is empty.
func (s *Store) NextDue(ctx context.Context) (t time.Time, ok bool, err error) {
	var next sql.NullInt64
	if err := s.rq.QueryRowContext(ctx, `SELECT MIN(next_attempt_at) FROM outbox`).Scan(&next); err != nil {
		return time.Time{}, false, fmt.Errorf("store: next due: %w", err)
	}
	if !next.Valid {
		return time.Time{}, false, nil
	}
	return fromMicros(next.Int64), true, nil
}

// ReleaseLeases makes every job taken by a worker due now. Only for SQLite
// at start: natter is then its database's only process, so whatever was
// taken was taken by a process that died.
func (s *Store) ReleaseLeases(ctx context.Context) error {
	if s.dialect != SQLite {
		return errors.New("store: ReleaseLeases is for SQLite, where no other instance holds leases")
	}
	now := micros(s.now())
	_, err := s.wq.ExecContext(ctx, `UPDATE outbox SET next_attempt_at = $1, lease_until = 0, lease_owner = ''
		WHERE lease_until > $1`, now)
	if err != nil {
		return fmt.Errorf("store: release leases: %w", err)
	}
	return nil
}

// A job is known by its id and its due time together: SQLite gives a new
// row the id of the newest one deleted, so a job that was finished (or
// withdrawn) while its worker still held it can have its id reused by a
// job owed just after, and its worker's last word must not touch that
// one. No two jobs with one id are due at the same microsecond.

// FinishJob removes a job that is done, or that will never be done.
func (s *Store) FinishJob(ctx context.Context, job natter.Job) error {
	if _, err := s.wq.ExecContext(ctx, `DELETE FROM outbox WHERE id = $1 AND due_at = $2`,
		job.ID, micros(job.Due)); err != nil {
		return fmt.Errorf("store: finish job: %w", err)
	}
	return nil
}

// RetryJob makes a job due again at at. A job held back (quiet hours)
// rather than failed passes counted false: its attempt is given back, so
// that back-off grows with failures only.
func (s *Store) RetryJob(ctx context.Context, job natter.Job, at time.Time, counted bool) error {
	undo := 0
	if !counted {
		undo = 1
	}
	_, err := s.wq.ExecContext(ctx, `UPDATE outbox SET next_attempt_at = $1, lease_until = 0, lease_owner = '',
		attempts = attempts - $2 WHERE id = $3 AND due_at = $4`, micros(at), undo, job.ID, micros(job.Due))
	if err != nil {
		return fmt.Errorf("store: retry job: %w", err)
	}
	return nil
}

// Unread reports whether the member has not yet read item. It is the one
// place that knows what "read" means for each kind.
func (s *Store) Unread(ctx context.Context, item natter.Item) (bool, error) {
	return unread(ctx, s.rq, item)
}

func unread(ctx context.Context, db dbtx, item natter.Item) (bool, error) {
	var n int
	var err error
	switch item.Kind {
	case natter.KindMessage:
		err = db.QueryRowContext(ctx, `
			SELECT count(*) FROM messages WHERE id = $1 AND recipient_id = $2 AND unread`,
			item.ID, item.UserID).Scan(&n)
	case natter.KindMention, natter.KindReply, natter.KindLike:
		// The item is the post (the mentioning post, the reply, the post
		// liked); its entries in the member's centre say whether it is
		// read. The kinds of items are the kinds of entries.
		err = db.QueryRowContext(ctx, `
			SELECT count(*) FROM activity
			WHERE user_id = $1 AND post_id = $2 AND kind = $3 AND unread`,
			item.UserID, item.ID, item.Kind).Scan(&n)
	default:
		return true, nil // reads and tests are never "read"
	}
	if err != nil {
		return false, fmt.Errorf("store: unread %s %d: %w", item.Kind, item.ID, err)
	}
	return n > 0, nil
}

// StartPush is the last step before a push about an item is sent: under
// the member's lock, it checks the item is still unread and records that
// the subscription was pushed about the tag, so that reading it from now
// on closes the notification there. It reports false, recording nothing,
// when the member has read it meanwhile.
func (s *Store) StartPush(ctx context.Context, job natter.Job) (bool, error) {
	ok := false
	_, err := s.Update(ctx, func(t natter.Tx) error {
		tx := t.(*Tx)
		if err := tx.lockMember(ctx, job.Item.UserID); err != nil {
			return err
		}
		u, err := unread(ctx, tx.q, job.Item)
		if err != nil || !u {
			ok = false
			return err
		}
		ok = true
		if job.Tag == "" || job.Item.Kind == natter.KindRead || job.Item.Kind == natter.KindTest {
			return nil
		}
		_, err = tx.q.ExecContext(ctx, `
			INSERT INTO push_sent (subscription_id, tag, user_id, sent_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (subscription_id, tag) DO UPDATE SET sent_at = excluded.sent_at`,
			job.SubscriptionID, job.Tag, job.Item.UserID, micros(tx.now))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: start push: %w", err)
	}
	return ok, nil
}

// ItemText is what a notification about item shows: who, what and which
// conversation or post. natter.ErrNotFound if the item is gone.
func (s *Store) ItemText(ctx context.Context, item natter.Item) (natter.ItemText, error) {
	var it natter.ItemText
	var err error
	switch item.Kind {
	case natter.KindMessage:
		err = s.rq.QueryRowContext(ctx, `
			SELECT u.id, u.username, m.body FROM messages m JOIN users u ON u.id = m.sender_id
			WHERE m.id = $1 AND m.recipient_id = $2`, item.ID, item.UserID).Scan(&it.Actor.ID, &it.Actor.Username, &it.Body)
	case natter.KindMention, natter.KindReply:
		it.PostID = item.ID
		err = s.rq.QueryRowContext(ctx, `
			SELECT u.id, u.username, p.body FROM posts p JOIN users u ON u.id = p.user_id
			WHERE p.id = $1 AND p.deleted_at = 0`, item.ID).Scan(&it.Actor.ID, &it.Actor.Username, &it.Body)
	case natter.KindLike:
		// Who liked it last, and the post liked; then the others whose
		// likes are unread, a few at most.
		it.PostID = item.ID
		err = s.rq.QueryRowContext(ctx, `
			SELECT u.id, u.username, p.body FROM activity a
			JOIN users u ON u.id = a.actor_id JOIN posts p ON p.id = a.post_id
			WHERE a.user_id = $1 AND a.post_id = $2 AND a.kind = $3 AND a.unread AND p.deleted_at = 0
			ORDER BY a.id DESC LIMIT 1`, item.UserID, item.ID, natter.ActivityLike).Scan(&it.Actor.ID, &it.Actor.Username, &it.Body)
		if err == nil {
			it.Others, err = s.otherLikers(ctx, item, it.Actor.ID)
		}
	default:
		return it, nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return it, natter.ErrNotFound
	}
	if err != nil {
		return it, fmt.Errorf("store: item text: %w", err)
	}
	return it, nil
}

// maxOtherLikers is how many other likers ItemText names at most.
const maxOtherLikers = 8

// otherLikers returns the members other than last whose likes of the post
// item are unread, newest first: at most maxOtherLikers names, read from at
// most twice as many of the newest unread likes (the activity_unread index).
func (s *Store) otherLikers(ctx context.Context, item natter.Item, last int64) ([]string, error) {
	rows, err := s.rq.QueryContext(ctx, `
		SELECT u.id, u.username FROM activity a JOIN users u ON u.id = a.actor_id
		WHERE a.user_id = $1 AND a.post_id = $2 AND a.kind = $3 AND a.unread
		ORDER BY a.id DESC LIMIT $4`, item.UserID, item.ID, natter.ActivityLike, 2*maxOtherLikers+1)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	seen := map[int64]bool{last: true}
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		if !seen[id] && len(names) < maxOtherLikers {
			seen[id] = true
			names = append(names, name)
		}
	}
	return names, rows.Err()
}

// SetPresence records that instance has pages open for members, until
// expires; the instance's earlier record of anyone else is dropped. Only
// PostgreSQL needs it: other instances read it with Present.
func (s *Store) SetPresence(ctx context.Context, instance string, members []int64, expires time.Time) error {
	_, err := s.Update(ctx, func(t natter.Tx) error {
		tx := t.(*Tx)
		if _, err := tx.q.ExecContext(ctx, `DELETE FROM presence WHERE instance = $1`, instance); err != nil {
			return err
		}
		// In batches, each one statement: a busy instance has thousands of
		// members online.
		const batch = 500
		for len(members) > 0 {
			n := min(batch, len(members))
			var b strings.Builder
			b.WriteString(`INSERT INTO presence (instance, user_id, expires_at) VALUES `)
			args := []any{instance, micros(expires)}
			for i, id := range members[:n] {
				if i > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "($1, $%d, $2)", i+3)
				args = append(args, id)
			}
			// Not prepared: the text varies with the batch's size.
			if _, err := tx.tx.ExecContext(ctx, b.String(), args...); err != nil {
				return err
			}
			members = members[n:]
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: set presence: %w", err)
	}
	return nil
}

// Present reports whether any instance has recorded, unexpired, that the
// member has a page open.
func (s *Store) Present(ctx context.Context, userID int64) (bool, error) {
	var n int
	err := s.rq.QueryRowContext(ctx, `SELECT count(*) FROM presence WHERE user_id = $1 AND expires_at > $2`,
		userID, micros(s.now())).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: presence: %w", err)
	}
	return n > 0, nil
}
