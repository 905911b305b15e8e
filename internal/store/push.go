package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"natter/internal/natter"
)

// SavePushSubscription stores a browser's subscription for the member. The
// endpoint is unique: subscribing again (new keys, or another member now
// logged in on that browser) updates the row rather than adding one.
func (tx *Tx) SavePushSubscription(ctx context.Context, sub natter.PushSubscription) (natter.PushSubscription, error) {
	sub.CreatedAt = tx.now
	err := tx.q.QueryRowContext(ctx, `
		INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, user_agent, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id, p256dh = excluded.p256dh,
			auth = excluded.auth, user_agent = excluded.user_agent, failing_since = 0
		RETURNING id, created_at`,
		sub.UserID, sub.Endpoint, sub.P256DH, sub.Auth, sub.UserAgent, micros(tx.now)).Scan(&sub.ID, new(int64))
	if err != nil {
		return natter.PushSubscription{}, fmt.Errorf("store: save push subscription: %w", err)
	}
	// A browser that changed hands keeps nothing of its last member's.
	if _, err := tx.q.ExecContext(ctx, `DELETE FROM push_sent WHERE subscription_id = $1 AND user_id <> $2`, sub.ID, sub.UserID); err != nil {
		return natter.PushSubscription{}, fmt.Errorf("store: save push subscription: %w", err)
	}
	if _, err := tx.q.ExecContext(ctx, `DELETE FROM outbox WHERE subscription_id = $1 AND user_id <> $2`, sub.ID, sub.UserID); err != nil {
		return natter.PushSubscription{}, fmt.Errorf("store: save push subscription: %w", err)
	}
	return sub, nil
}

// DeletePushSubscription removes the member's subscription with endpoint
// or, when endpoint is empty, with id. It reports whether there was one.
func (tx *Tx) DeletePushSubscription(ctx context.Context, userID, id int64, endpoint string) (bool, error) {
	res, err := tx.q.ExecContext(ctx, `
		DELETE FROM push_subscriptions WHERE user_id = $1 AND (endpoint = $2 OR ($2 = '' AND id = $3))`,
		userID, endpoint, id)
	if err != nil {
		return false, fmt.Errorf("store: delete push subscription: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// DropPushSubscription removes a subscription the push service has
// forgotten or that kept failing, with what was owed to it.
func (s *Store) DropPushSubscription(ctx context.Context, id int64) error {
	if _, err := s.wq.ExecContext(ctx, `DELETE FROM push_subscriptions WHERE id = $1`, id); err != nil {
		return fmt.Errorf("store: drop push subscription: %w", err)
	}
	return nil
}

const pushSubscriptionColumns = `id, user_id, endpoint, p256dh, auth, user_agent, created_at, last_success_at, failing_since`

func scanPushSubscription(row interface{ Scan(...any) error }) (natter.PushSubscription, error) {
	var p natter.PushSubscription
	var created, success, failing int64
	if err := row.Scan(&p.ID, &p.UserID, &p.Endpoint, &p.P256DH, &p.Auth, &p.UserAgent, &created, &success, &failing); err != nil {
		return natter.PushSubscription{}, err
	}
	p.CreatedAt = fromMicros(created)
	if success != 0 {
		p.LastSuccess = fromMicros(success)
	}
	if failing != 0 {
		p.FailingSince = fromMicros(failing)
	}
	return p, nil
}

// PushSubscriptions lists the member's subscriptions, oldest first.
func (s *Store) PushSubscriptions(ctx context.Context, userID int64) ([]natter.PushSubscription, error) {
	rows, err := s.rq.QueryContext(ctx, `SELECT `+pushSubscriptionColumns+` FROM push_subscriptions WHERE user_id = $1 ORDER BY id`, userID)
	if err != nil {
		return nil, fmt.Errorf("store: push subscriptions: %w", err)
	}
	defer rows.Close()
	var list []natter.PushSubscription
	for rows.Next() {
		p, err := scanPushSubscription(rows)
		if err != nil {
			return nil, fmt.Errorf("store: push subscriptions: %w", err)
		}
		list = append(list, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: push subscriptions: %w", err)
	}
	return list, nil
}

// PushSubscription returns one subscription; natter.ErrNotFound if it is
// gone.
func (s *Store) PushSubscription(ctx context.Context, id int64) (natter.PushSubscription, error) {
	p, err := scanPushSubscription(s.rq.QueryRowContext(ctx, `SELECT `+pushSubscriptionColumns+` FROM push_subscriptions WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return p, natter.ErrNotFound
	}
	if err != nil {
		return p, fmt.Errorf("store: push subscription: %w", err)
	}
	return p, nil
}

// PushSucceeded records that the push service accepted a push.
func (s *Store) PushSucceeded(ctx context.Context, id int64) error {
	_, err := s.wq.ExecContext(ctx, `UPDATE push_subscriptions SET last_success_at = $1, failing_since = 0 WHERE id = $2`,
		micros(s.now()), id)
	if err != nil {
		return fmt.Errorf("store: push succeeded: %w", err)
	}
	return nil
}

// PushFailed records that a push failed, and returns since when the
// subscription has been failing.
func (s *Store) PushFailed(ctx context.Context, id int64) (time.Time, error) {
	var since int64
	err := s.wq.QueryRowContext(ctx, `
		UPDATE push_subscriptions SET failing_since = CASE WHEN failing_since = 0 THEN $1 ELSE failing_since END
		WHERE id = $2 RETURNING failing_since`, micros(s.now()), id).Scan(&since)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, natter.ErrNotFound
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("store: push failed: %w", err)
	}
	return fromMicros(since), nil
}
