package store

import (
	"context"
	"fmt"
	"strconv"

	"natter/internal/natter"
)

// Writings returns everything the member wrote or was sent: their posts and
// every message they sent or received, oldest first (the export).
func (s *Store) Writings(ctx context.Context, userID int64) ([]natter.Post, []natter.Message, error) {
	posts, err := s.queryPosts(ctx, `SELECT `+postColumns+` FROM posts p JOIN users u ON u.id = p.user_id `+postParent+`
		WHERE p.user_id = $1 AND p.deleted_at = 0 ORDER BY p.id`, userID)
	if err != nil {
		return nil, nil, err
	}
	msgs, err := scanMessages(s.rq.QueryContext(ctx, `
		SELECT `+messageColumns+`
		FROM messages m JOIN users s ON s.id = m.sender_id JOIN users r ON r.id = m.recipient_id
		WHERE m.sender_id = $1 OR m.recipient_id = $1
		ORDER BY m.id`, userID))
	return posts, msgs, err
}

// DeletedName is what a deleted member is shown as beside the messages
// they sent.
const DeletedName = "[deleted]"

// DeleteAccount removes what the member wrote for everyone to see and
// empties their row, keeping it as a tombstone (docs/operations.md, "Deleting an
// account"): their posts go, with the mentions of others that pointed at
// them; the messages they exchanged stay in the other members'
// conversations, from a sender shown as DeletedName; their own inbox,
// notification centre, notifications and blocks go (and their sessions,
// which the caller ends after the commit: Store.EndLogins). The row keeps
// its username key, so the name (and their former names) stay taken, and
// the messages a sender. It returns the members whose unread counts of
// notification-centre entries it lowered, with the new counts.
func (tx *Tx) DeleteAccount(ctx context.Context, id int64) (map[int64]int, error) {
	// Others' centres lose the mentions and replies of posts that are
	// going, and the member's likes: count whose unread ones.
	rows, err := tx.q.QueryContext(ctx, `SELECT DISTINCT a.user_id FROM activity a JOIN posts p ON p.id = a.post_id
		WHERE p.user_id = $1 AND a.user_id <> $1
		UNION
		SELECT p.user_id FROM likes l JOIN posts p ON p.id = l.post_id WHERE l.user_id = $1 AND p.user_id <> $1`, id)
	if err != nil {
		return nil, fmt.Errorf("store: delete account: %w", err)
	}
	var others []int64
	for rows.Next() {
		var uid int64
		if err := rows.Scan(&uid); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: delete account: %w", err)
		}
		others = append(others, uid)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: delete account: %w", err)
	}
	for _, uid := range others {
		if err := tx.lockMember(ctx, uid); err != nil {
			return nil, err
		}
	}
	for _, q := range []string{
		// Their likes and replies no longer count on others' posts; their
		// posts' likes and earlier versions go with the posts. Replies to
		// their posts stay, answering a deleted post.
		`DELETE FROM activity WHERE kind = 'like' AND actor_id = $1 AND post_id IN (SELECT post_id FROM likes WHERE user_id = $1)`,
		`UPDATE posts SET likes = likes - 1 WHERE id IN (SELECT post_id FROM likes WHERE user_id = $1)`,
		`DELETE FROM likes WHERE user_id = $1`,
		`DELETE FROM likes WHERE post_id IN (SELECT id FROM posts WHERE user_id = $1)`,
		`DELETE FROM post_versions WHERE post_id IN (SELECT id FROM posts WHERE user_id = $1)`,
		`UPDATE posts SET replies = replies - (SELECT count(*) FROM posts r
			WHERE r.reply_to = posts.id AND r.user_id = $1 AND r.deleted_at = 0)
		WHERE id IN (SELECT reply_to FROM posts WHERE user_id = $1 AND deleted_at = 0)`,
		`DELETE FROM activity WHERE post_id IN (SELECT id FROM posts WHERE user_id = $1)`,
		`DELETE FROM activity WHERE user_id = $1`,
		`DELETE FROM activity_groups WHERE user_id = $1`,
		`DELETE FROM posts WHERE user_id = $1`,
		`DELETE FROM conversations WHERE user_id = $1`,
		`DELETE FROM notifications WHERE user_id = $1`,
		`DELETE FROM blocks WHERE blocker_id = $1 OR blocked_id = $1`,
		// Nothing is owed to, or pushed to, an account that is gone.
		`DELETE FROM outbox WHERE user_id = $1`,
		`DELETE FROM push_sent WHERE user_id = $1`,
		`DELETE FROM push_subscriptions WHERE user_id = $1`,
		`DELETE FROM notification_prefs WHERE user_id = $1`,
		`DELETE FROM notification_settings WHERE user_id = $1`,
		`DELETE FROM email_tokens WHERE user_id = $1`,
		`DELETE FROM mail_counts WHERE user_id = $1`,
	} {
		if _, err := tx.q.ExecContext(ctx, q, id); err != nil {
			return nil, fmt.Errorf("store: delete account: %w", err)
		}
	}
	tx.userChanged(id)
	tx.postsChanged()
	_, err = tx.q.ExecContext(ctx, `UPDATE users SET username = $1, email = '', email_key = $2, email_verified = 0, pending_email = '', password_hash = '',
		about_me = '', unread_messages = 0, unread_activity = 0, post_count = 0, hide_last_seen = FALSE, deleted_at = $3 WHERE id = $4`,
		DeletedName, "deleted:"+strconv.FormatInt(id, 10), micros(tx.now), id)
	if err != nil {
		return nil, fmt.Errorf("store: delete account: %w", err)
	}
	counts := map[int64]int{}
	for _, uid := range others {
		tx.userChanged(uid)
		// Their groups lost entries: count them again, and drop the ones
		// left empty. This member's groups only, through their index.
		for _, q := range []string{
			`UPDATE activity_groups SET
				entries = (SELECT count(*) FROM activity a WHERE a.group_id = activity_groups.id),
				actors = (SELECT count(DISTINCT a.actor_id) FROM activity a WHERE a.group_id = activity_groups.id),
				unread = (SELECT count(*) FROM activity a WHERE a.group_id = activity_groups.id AND a.unread),
				last_id = COALESCE((SELECT max(a.id) FROM activity a WHERE a.group_id = activity_groups.id), 0)
			WHERE user_id = $1`,
			`DELETE FROM activity_groups WHERE user_id = $1 AND entries = 0`,
		} {
			if _, err := tx.q.ExecContext(ctx, q, uid); err != nil {
				return nil, fmt.Errorf("store: recount activity groups: %w", err)
			}
		}
		var n int
		err := tx.q.QueryRowContext(ctx, `UPDATE users SET unread_activity =
			(SELECT count(*) FROM activity a WHERE a.user_id = users.id AND a.unread)
			WHERE id = $1 RETURNING unread_activity`, uid).Scan(&n)
		if err != nil {
			return nil, fmt.Errorf("store: recount activity: %w", err)
		}
		counts[uid] = n
	}
	return counts, nil
}
