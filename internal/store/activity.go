package store

import (
	"context"
	"database/sql"
	"fmt"
	"natter/internal/natter"
)

// AddActivity records an entry for userID and counts it unread. It returns
// the member's new unread count.
func (tx *Tx) AddActivity(ctx context.Context, userID int64, kind string, actor natter.MemberRef, postID, messageID int64) (int, error) {
	if err := tx.lockMember(ctx, userID); err != nil {
		return 0, err
	}
	_, err := tx.q.ExecContext(ctx, `
		INSERT INTO activity (user_id, kind, actor_id, post_id, message_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		userID, kind, actor.ID, nullID(postID), nullID(messageID), micros(tx.now))
	if err != nil {
		return 0, fmt.Errorf("store: add activity: %w", err)
	}
	var count int
	tx.userChanged(userID)
	err = tx.q.QueryRowContext(ctx, `
		UPDATE users SET unread_activity = unread_activity + 1 WHERE id = $1 RETURNING unread_activity`,
		userID).Scan(&count)
	if err != nil {
		return 0, fmt.Errorf("store: count activity: %w", err)
	}
	return count, nil
}

func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

// MarkActivityRead marks every entry of the member's centre read and reports
// whether any was unread. Entries above activity_read_id are the unread ones,
// so this is one row's update however long the history.
func (tx *Tx) MarkActivityRead(ctx context.Context, userID int64) (bool, error) {
	if err := tx.lockMember(ctx, userID); err != nil {
		return false, err
	}
	var before int
	err := tx.q.QueryRowContext(ctx, `SELECT unread_activity FROM users WHERE id = $1`, userID).Scan(&before)
	if err != nil {
		return false, fmt.Errorf("store: unread activity: %w", err)
	}
	tx.userChanged(userID)
	_, err = tx.q.ExecContext(ctx, `
		UPDATE users SET unread_activity = 0,
			activity_read_id = COALESCE((SELECT MAX(id) FROM activity WHERE user_id = $1), 0)
		WHERE id = $1`, userID)
	if err != nil {
		return false, fmt.Errorf("store: mark activity read: %w", err)
	}
	return before > 0, nil
}

// Activity returns the member's notification centre, newest first.
func (s *Store) Activity(ctx context.Context, userID int64, p natter.Pagination) ([]natter.Activity, error) {
	rows, err := s.rq.QueryContext(ctx, `
		SELECT a.id, a.kind, a.created_at, actor.id, actor.username,
			COALESCE(a.post_id, 0), COALESCE(a.message_id, 0), COALESCE(p.body, m.body, ''),
			a.id > me.activity_read_id
		FROM activity a
		JOIN users me ON me.id = a.user_id
		JOIN users actor ON actor.id = a.actor_id
		LEFT JOIN posts p ON p.id = a.post_id
		LEFT JOIN messages m ON m.id = a.message_id
		WHERE a.user_id = $1
		ORDER BY a.id DESC LIMIT $2 OFFSET $3`, userID, p.Limit, p.Offset)
	if err != nil {
		return nil, fmt.Errorf("store: activity: %w", err)
	}
	defer rows.Close()
	var list []natter.Activity
	for rows.Next() {
		var a natter.Activity
		var created int64
		if err := rows.Scan(&a.ID, &a.Kind, &created, &a.Actor.ID, &a.Actor.Username,
			&a.PostID, &a.MessageID, &a.Body, &a.Unread); err != nil {
			return nil, fmt.Errorf("store: scan activity: %w", err)
		}
		a.CreatedAt = fromMicros(created)
		list = append(list, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: activity: %w", err)
	}
	return list, nil
}
