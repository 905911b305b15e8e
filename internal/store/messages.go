package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"natter/internal/natter"
	"slices"
)

// CreateMessage stores a message, moves the conversation to the top of both
// inboxes and counts it as unread for the recipient. It returns the message
// and the recipient's new unread count.
func (tx *Tx) CreateMessage(ctx context.Context, sender, recipient natter.MemberRef, body string) (natter.Message, int, error) {
	m := natter.Message{Sender: sender, Recipient: recipient, Body: body, CreatedAt: tx.now, Unread: true}
	if err := tx.lockMember(ctx, recipient.ID); err != nil {
		return natter.Message{}, 0, err
	}
	err := tx.q.QueryRowContext(ctx, `
		INSERT INTO messages (sender_id, recipient_id, body, created_at, unread) VALUES ($1, $2, $3, $4, TRUE) RETURNING id`,
		sender.ID, recipient.ID, body, micros(tx.now)).Scan(&m.ID)
	if err != nil {
		return natter.Message{}, 0, fmt.Errorf("store: create message: %w", err)
	}
	// Two members writing to each other at once touch the same two rows;
	// taking them in id order means neither transaction waits on the other's
	// second row (no deadlock on PostgreSQL).
	sides := []struct{ user, peer int64 }{{sender.ID, recipient.ID}, {recipient.ID, sender.ID}}
	if sender.ID > recipient.ID {
		sides[0], sides[1] = sides[1], sides[0]
	}
	for _, side := range sides {
		unread := 0
		if side.user == recipient.ID && side.user != sender.ID {
			unread = 1
		}
		_, err := tx.q.ExecContext(ctx, `
			INSERT INTO conversations (user_id, peer_id, last_message_id, unread) VALUES ($1, $2, $3, $4)
			ON CONFLICT (user_id, peer_id) DO UPDATE
			SET last_message_id = excluded.last_message_id, unread = conversations.unread + excluded.unread`,
			side.user, side.peer, m.ID, unread)
		if err != nil {
			return natter.Message{}, 0, fmt.Errorf("store: update conversation: %w", err)
		}
	}
	var count int
	tx.userChanged(recipient.ID)
	err = tx.q.QueryRowContext(ctx, `
		UPDATE users SET unread_messages = unread_messages + 1 WHERE id = $1 RETURNING unread_messages`,
		recipient.ID).Scan(&count)
	if err != nil {
		return natter.Message{}, 0, fmt.Errorf("store: count unread: %w", err)
	}
	return m, count, nil
}

// MarkMessagesRead marks read those of the messages ids that were sent to
// userID and were unread: the messages a page showed them. Each is one
// row's update by its key, and the counters go down by what changed. It
// returns the member's remaining unread count and true when something was
// unread, 0 and false otherwise.
func (tx *Tx) MarkMessagesRead(ctx context.Context, userID int64, ids []int64) (int, bool, error) {
	if err := tx.lockMember(ctx, userID); err != nil {
		return 0, false, err
	}
	ids = slices.Clone(ids)
	slices.Sort(ids)
	bySender := map[int64]int{}
	for _, id := range slices.Compact(ids) {
		var sender int64
		err := tx.q.QueryRowContext(ctx, `
			UPDATE messages SET unread = FALSE WHERE id = $1 AND recipient_id = $2 AND unread RETURNING sender_id`,
			id, userID).Scan(&sender)
		if errors.Is(err, sql.ErrNoRows) {
			continue // read already, or not theirs
		}
		if err != nil {
			return 0, false, fmt.Errorf("store: mark message read: %w", err)
		}
		bySender[sender]++
	}
	return tx.countRead(ctx, userID, bySender)
}

// markConversationRead is MarkConversationRead's statement. SQLite's
// planner, which has no statistics, would read the member's every message
// through messages_received (it holds the unread column too) rather than
// their few unread ones from one peer through messages_unread: INDEXED BY
// holds it to the latter (and fails the statement, rather than slowing it,
// should that index go). PostgreSQL needs no telling.
func markConversationRead(d Dialect) string {
	indexedBy := ""
	if d == SQLite {
		indexedBy = "INDEXED BY messages_unread "
	}
	return `UPDATE messages ` + indexedBy + `SET unread = FALSE WHERE recipient_id = $1 AND sender_id = $2 AND unread`
}

// MarkConversationRead marks the messages from peerID to userID read,
// finding the unread ones through messages_unread. It returns the member's
// remaining unread count and true when something was unread, 0 and false
// otherwise.
func (tx *Tx) MarkConversationRead(ctx context.Context, userID, peerID int64) (int, bool, error) {
	if err := tx.lockMember(ctx, userID); err != nil {
		return 0, false, err
	}
	res, err := tx.q.ExecContext(ctx, markConversationRead(tx.store.dialect), userID, peerID)
	if err != nil {
		return 0, false, fmt.Errorf("store: mark conversation read: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, false, fmt.Errorf("store: mark conversation read: %w", err)
	}
	return tx.countRead(ctx, userID, map[int64]int{peerID: int(n)})
}

// countRead takes the messages just marked read, counted by sender, off
// userID's conversations and unread count. It returns what is left, and
// whether anything was marked.
func (tx *Tx) countRead(ctx context.Context, userID int64, bySender map[int64]int) (int, bool, error) {
	total := 0
	for _, sender := range slices.Sorted(maps.Keys(bySender)) {
		n := bySender[sender]
		if n == 0 {
			continue
		}
		total += n
		if _, err := tx.q.ExecContext(ctx, `UPDATE conversations SET unread = unread - $1 WHERE user_id = $2 AND peer_id = $3`,
			n, userID, sender); err != nil {
			return 0, false, fmt.Errorf("store: count conversation read: %w", err)
		}
	}
	if total == 0 {
		return 0, false, nil
	}
	var left int
	tx.userChanged(userID)
	err := tx.q.QueryRowContext(ctx, `
		UPDATE users SET unread_messages = unread_messages - $1 WHERE id = $2 RETURNING unread_messages`,
		total, userID).Scan(&left)
	if err != nil {
		return 0, false, fmt.Errorf("store: count unread: %w", err)
	}
	return left, true, nil
}

// MessageUnread reports whether the message is still unread by its
// recipient.
func (s *Store) MessageUnread(ctx context.Context, id int64) (bool, error) {
	var unread bool
	err := s.rq.QueryRowContext(ctx, `SELECT unread FROM messages WHERE id = $1`, id).Scan(&unread)
	if errors.Is(err, sql.ErrNoRows) {
		return false, natter.ErrNotFound
	}
	if err != nil {
		return false, fmt.Errorf("store: message unread: %w", err)
	}
	return unread, nil
}

const messageColumns = `m.id, m.body, m.created_at, m.unread, s.id, s.username, r.id, r.username`

func scanMessages(rows *sql.Rows, err error) ([]natter.Message, error) {
	if err != nil {
		return nil, fmt.Errorf("store: messages: %w", err)
	}
	defer rows.Close()
	var msgs []natter.Message
	for rows.Next() {
		var m natter.Message
		var created int64
		if err := rows.Scan(&m.ID, &m.Body, &created, &m.Unread, &m.Sender.ID, &m.Sender.Username,
			&m.Recipient.ID, &m.Recipient.Username); err != nil {
			return nil, fmt.Errorf("store: scan message: %w", err)
		}
		m.CreatedAt = fromMicros(created)
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: messages: %w", err)
	}
	return msgs, nil
}

// MessagesReceived returns the messages sent to userID, newest first. The
// recipient, the same for all, is read once (r.id = $1), not once a row.
func (s *Store) MessagesReceived(ctx context.Context, userID int64, p natter.Pagination) ([]natter.Message, error) {
	return scanMessages(s.rq.QueryContext(ctx, `
		SELECT `+messageColumns+`
		FROM messages m JOIN users s ON s.id = m.sender_id JOIN users r ON r.id = $1
		WHERE m.recipient_id = $1
		ORDER BY m.id DESC LIMIT $2 OFFSET $3`, userID, p.Limit, p.Offset))
}

// ConversationMessages returns up to limit messages between userID and
// peerID with ids below before (0: the newest), newest first. Each direction
// is read from messages_pair on its own, so the cost does not grow with
// either member's other conversations.
func (s *Store) ConversationMessages(ctx context.Context, userID, peerID, before int64, limit int) ([]natter.Message, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	return scanMessages(s.rq.QueryContext(ctx, `
		SELECT `+messageColumns+`
		FROM (
			SELECT * FROM (SELECT id FROM messages WHERE sender_id = $1 AND recipient_id = $2 AND id < $3
				ORDER BY id DESC LIMIT $4) a
			UNION ALL
			SELECT * FROM (SELECT id FROM messages WHERE sender_id = $2 AND recipient_id = $1 AND id < $3
				ORDER BY id DESC LIMIT $4) b
		) ids
		JOIN messages m ON m.id = ids.id JOIN users s ON s.id = m.sender_id JOIN users r ON r.id = m.recipient_id
		ORDER BY m.id DESC LIMIT $4`, userID, peerID, before, limit))
}

// The queries of a member's inbox, read from a window's position (see
// timelineOlder), served by conversations_recent.
const (
	conversationsOlder = `
		SELECT c.unread, ` + messageColumns + `
		FROM conversations c
		JOIN messages m ON m.id = c.last_message_id
		JOIN users s ON s.id = m.sender_id JOIN users r ON r.id = m.recipient_id
		WHERE c.user_id = $1 AND c.last_message_id < $2
		ORDER BY c.last_message_id DESC LIMIT $3 OFFSET $4`
	conversationsNewer = `
		SELECT c.unread, ` + messageColumns + `
		FROM conversations c
		JOIN messages m ON m.id = c.last_message_id
		JOIN users s ON s.id = m.sender_id JOIN users r ON r.id = m.recipient_id
		WHERE c.user_id = $1 AND c.last_message_id > $2
		ORDER BY c.last_message_id LIMIT $3`
)

// Conversations returns a window of userID's inbox: one row per peer, the
// most recent exchange first. A conversation's position is the id of its
// last message.
func (s *Store) Conversations(ctx context.Context, userID int64, w natter.Window) ([]natter.Conversation, error) {
	query, args := windowQuery(w, conversationsOlder, conversationsNewer, userID)
	rows, err := s.rq.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: conversations: %w", err)
	}
	convs, err := scanConversations(rows, userID)
	if err != nil {
		return nil, fmt.Errorf("store: conversations: %w", err)
	}
	if w.After > 0 {
		slices.Reverse(convs) // read oldest first
	}
	return convs, nil
}

// LastSent returns, of userID's newest limit conversations whose last
// message's id is above above, those whose last message userID sent, newest
// first: the inbox's "You: ..." rows. The others' last messages are ones
// userID received, which the inbox has from its page of received messages
// (when above is the oldest of that page): they are neither joined to their
// members nor returned. conversations_recent finds the limit conversations.
func (s *Store) LastSent(ctx context.Context, userID, above int64, limit int) ([]natter.Conversation, error) {
	rows, err := s.rq.QueryContext(ctx, `
		SELECT c.unread, `+messageColumns+`
		FROM (SELECT peer_id, last_message_id, unread FROM conversations
			WHERE user_id = $1 AND last_message_id > $2
			ORDER BY last_message_id DESC LIMIT $3) c
		JOIN messages m ON m.id = c.last_message_id
		JOIN users s ON s.id = m.sender_id JOIN users r ON r.id = m.recipient_id
		WHERE m.sender_id = $1
		ORDER BY c.last_message_id DESC`, userID, above, limit)
	if err != nil {
		return nil, fmt.Errorf("store: last sent: %w", err)
	}
	convs, err := scanConversations(rows, userID)
	if err != nil {
		return nil, fmt.Errorf("store: last sent: %w", err)
	}
	return convs, nil
}

// scanConversations reads rows of a conversation's unread count and its
// last message (messageColumns), as userID sees them: the peer is whoever
// of the two is not userID. It closes rows.
func scanConversations(rows *sql.Rows, userID int64) ([]natter.Conversation, error) {
	defer rows.Close()
	var convs []natter.Conversation
	for rows.Next() {
		var c natter.Conversation
		var created int64
		m := &c.Last
		if err := rows.Scan(&c.Unread, &m.ID, &m.Body, &created, &m.Unread, &m.Sender.ID, &m.Sender.Username,
			&m.Recipient.ID, &m.Recipient.Username); err != nil {
			return nil, err
		}
		m.CreatedAt = fromMicros(created)
		c.Peer = m.Sender
		if c.Peer.ID == userID {
			c.Peer = m.Recipient
		}
		convs = append(convs, c)
	}
	return convs, rows.Err()
}

// Block records that blocker no longer accepts messages or mentions from
// blocked. Blocking twice is not an error.
func (tx *Tx) Block(ctx context.Context, blocker, blocked int64) error {
	_, err := tx.q.ExecContext(ctx, `
		INSERT INTO blocks (blocker_id, blocked_id, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (blocker_id, blocked_id) DO NOTHING`, blocker, blocked, micros(tx.now))
	if err != nil {
		return fmt.Errorf("store: block: %w", err)
	}
	return nil
}

// Unblock undoes Block.
func (tx *Tx) Unblock(ctx context.Context, blocker, blocked int64) error {
	_, err := tx.q.ExecContext(ctx, `DELETE FROM blocks WHERE blocker_id = $1 AND blocked_id = $2`, blocker, blocked)
	if err != nil {
		return fmt.Errorf("store: unblock: %w", err)
	}
	return nil
}

func blocks(ctx context.Context, db dbtx, blocker, blocked int64) (bool, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM blocks WHERE blocker_id = $1 AND blocked_id = $2`,
		blocker, blocked).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: blocks: %w", err)
	}
	return n > 0, nil
}

// Blocks reports whether blocker has blocked blocked.
func (s *Store) Blocks(ctx context.Context, blocker, blocked int64) (bool, error) {
	return blocks(ctx, s.rq, blocker, blocked)
}

// Blocks reports whether blocker has blocked blocked.
func (tx *Tx) Blocks(ctx context.Context, blocker, blocked int64) (bool, error) {
	return blocks(ctx, tx.q, blocker, blocked)
}
