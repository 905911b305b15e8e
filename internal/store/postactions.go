package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"

	"natter/internal/natter"
)

// What members do with posts (issue 15): reply, like, edit, delete. The
// counts of likes and replies live on the post's row and change in the
// transaction that changes what they count; every list shows them as read.

// Post returns the post with the given id inside the transaction, deleted
// ones included, or natter.ErrNotFound.
func (tx *Tx) Post(ctx context.Context, id int64) (natter.Post, error) {
	return onePost(queryPosts(ctx, tx.q, postByID, id))
}

// AttachReply makes the post reply answer the post parent, and counts it
// among parent's replies.
func (tx *Tx) AttachReply(ctx context.Context, reply, parent int64) error {
	tx.postsChanged()
	if _, err := tx.q.ExecContext(ctx, `UPDATE posts SET reply_to = $1 WHERE id = $2`, parent, reply); err != nil {
		return fmt.Errorf("store: attach reply: %w", err)
	}
	if _, err := tx.q.ExecContext(ctx, `UPDATE posts SET replies = replies + 1 WHERE id = $1`, parent); err != nil {
		return fmt.Errorf("store: count reply: %w", err)
	}
	return nil
}

// EditPost replaces the text of post id with body, keeping the text it
// replaces among the post's versions, and marks it edited now.
func (tx *Tx) EditPost(ctx context.Context, id int64, body string) error {
	tx.postsChanged()
	if _, err := tx.q.ExecContext(ctx, `
		INSERT INTO post_versions (post_id, body, written_at)
		SELECT id, body, CASE WHEN edited_at > 0 THEN edited_at ELSE created_at END FROM posts WHERE id = $1`,
		id); err != nil {
		return fmt.Errorf("store: keep post version: %w", err)
	}
	if _, err := tx.q.ExecContext(ctx, `UPDATE posts SET body = $1, edited_at = $2 WHERE id = $3`,
		body, micros(tx.now), id); err != nil {
		return fmt.Errorf("store: edit post: %w", err)
	}
	return nil
}

// PostBodies returns every text post id has had, the current one first,
// the earlier ones in no particular order.
func (tx *Tx) PostBodies(ctx context.Context, id int64) ([]string, error) {
	rows, err := tx.q.QueryContext(ctx, `
		SELECT body FROM posts WHERE id = $1
		UNION ALL
		SELECT body FROM post_versions WHERE post_id = $1`, id)
	if err != nil {
		return nil, fmt.Errorf("store: post bodies: %w", err)
	}
	defer rows.Close()
	var bodies []string
	for rows.Next() {
		var b string
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("store: post bodies: %w", err)
		}
		bodies = append(bodies, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: post bodies: %w", err)
	}
	return bodies, nil
}

// DeletePost deletes post id: its row stays, emptied and marked deleted,
// so that its page can say so and its replies what they answer; its
// earlier versions and its likes go, and the post it answers counts one
// reply fewer.
func (tx *Tx) DeletePost(ctx context.Context, id int64) error {
	tx.postsChanged()
	var author int64
	err := tx.q.QueryRowContext(ctx, `SELECT user_id FROM posts WHERE id = $1 AND deleted_at = 0`, id).Scan(&author)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // deleted already
	}
	if err != nil {
		return fmt.Errorf("store: delete post: %w", err)
	}
	if err := tx.countPosts(ctx, author, -1); err != nil {
		return fmt.Errorf("store: delete post: %w", err)
	}
	for _, q := range []string{
		`UPDATE posts SET replies = replies - 1 WHERE id = (SELECT reply_to FROM posts WHERE id = $1)`,
		`DELETE FROM post_versions WHERE post_id = $1`,
		`DELETE FROM likes WHERE post_id = $1`,
	} {
		if _, err := tx.q.ExecContext(ctx, q, id); err != nil {
			return fmt.Errorf("store: delete post: %w", err)
		}
	}
	_, err = tx.q.ExecContext(ctx, `UPDATE posts SET body = '', likes = 0, edited_at = 0, deleted_at = $1 WHERE id = $2`,
		micros(tx.now), id)
	if err != nil {
		return fmt.Errorf("store: delete post: %w", err)
	}
	tx.unposted = append(tx.unposted, id)
	return nil
}

// Like records that userID likes postID. It reports whether that is new
// (false: they already did) and the post's count of likes.
func (tx *Tx) Like(ctx context.Context, userID, postID int64) (bool, int, error) {
	res, err := tx.q.ExecContext(ctx, `
		INSERT INTO likes (post_id, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		postID, userID, micros(tx.now))
	if err != nil {
		return false, 0, fmt.Errorf("store: like: %w", err)
	}
	n, _ := res.RowsAffected()
	return tx.countLikes(ctx, postID, int(n))
}

// Unlike takes back userID's like of postID. It reports whether there was
// one, and the post's count of likes.
func (tx *Tx) Unlike(ctx context.Context, userID, postID int64) (bool, int, error) {
	res, err := tx.q.ExecContext(ctx, `DELETE FROM likes WHERE post_id = $1 AND user_id = $2`, postID, userID)
	if err != nil {
		return false, 0, fmt.Errorf("store: unlike: %w", err)
	}
	n, _ := res.RowsAffected()
	return tx.countLikes(ctx, postID, -int(n))
}

// countLikes adds by to the post's count of likes and returns it.
func (tx *Tx) countLikes(ctx context.Context, postID int64, by int) (bool, int, error) {
	if by != 0 {
		tx.postsChanged()
	}
	var likes int
	err := tx.q.QueryRowContext(ctx, `UPDATE posts SET likes = likes + $1 WHERE id = $2 RETURNING likes`, by, postID).Scan(&likes)
	if err != nil {
		return false, 0, fmt.Errorf("store: count likes: %w", err)
	}
	return by != 0, likes, nil
}

// WithdrawActivity removes the notification-centre entries about postID
// (mentions in it, the reply it is, likes of it) — only those of kind by
// actor when kind is given (a like taken back) — from every centre they
// are in, with their groups' and members' counts. It returns, member by
// member in id order, what each lost.
func (tx *Tx) WithdrawActivity(ctx context.Context, postID int64, kind string, actor int64) ([]natter.Withdrawn, error) {
	const which = `post_id = $1 AND ($2 = '' OR (kind = $2 AND actor_id = $3))`
	rows, err := tx.q.QueryContext(ctx, `SELECT DISTINCT user_id FROM activity WHERE `+which, postID, kind, actor)
	if err != nil {
		return nil, fmt.Errorf("store: withdraw activity: %w", err)
	}
	var members []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: withdraw activity: %w", err)
		}
		members = append(members, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: withdraw activity: %w", err)
	}
	if len(members) == 0 {
		return nil, nil
	}
	// In id order, as every transaction locks several members.
	slices.Sort(members)
	for _, id := range members {
		if err := tx.lockMember(ctx, id); err != nil {
			return nil, err
		}
	}
	rows, err = tx.q.QueryContext(ctx, `DELETE FROM activity WHERE `+which+` RETURNING user_id, group_id, kind, actor_id, unread`,
		postID, kind, actor)
	if err != nil {
		return nil, fmt.Errorf("store: withdraw activity: %w", err)
	}
	type groupLoss struct {
		user            int64
		entries, unread int
		actors          map[int64]bool
	}
	groups := map[int64]*groupLoss{}
	lost := map[int64]*natter.Withdrawn{}
	for rows.Next() {
		var user, group, actorID int64
		var k string
		var unread bool
		if err := rows.Scan(&user, &group, &k, &actorID, &unread); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: withdraw activity: %w", err)
		}
		g := groups[group]
		if g == nil {
			g = &groupLoss{user: user, actors: map[int64]bool{}}
			groups[group] = g
		}
		g.entries++
		g.actors[actorID] = true
		w := lost[user]
		if w == nil {
			w = &natter.Withdrawn{UserID: user}
			lost[user] = w
		}
		if !slices.Contains(w.Kinds, k) {
			w.Kinds = append(w.Kinds, k)
		}
		if unread {
			g.unread++
			w.Unread++
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: withdraw activity: %w", err)
	}
	for _, id := range slices.Sorted(maps.Keys(groups)) {
		if err := tx.shrinkGroup(ctx, id, groups[id].entries, groups[id].unread, slices.Sorted(maps.Keys(groups[id].actors))); err != nil {
			return nil, err
		}
	}
	var out []natter.Withdrawn
	for _, w := range lost {
		if w.Unread > 0 {
			tx.userChanged(w.UserID)
			err := tx.q.QueryRowContext(ctx, `
				UPDATE users SET unread_activity = unread_activity - $1 WHERE id = $2 RETURNING unread_activity`,
				w.Unread, w.UserID).Scan(&w.Left)
			if err != nil {
				return nil, fmt.Errorf("store: count withdrawn activity: %w", err)
			}
		}
		out = append(out, *w)
	}
	slices.SortFunc(out, func(a, b natter.Withdrawn) int { return cmp.Compare(a.UserID, b.UserID) })
	return out, nil
}

// shrinkGroup takes entries (unread of them unread) off a group's counts,
// and the actors among actors who have no entry left in it; a group left
// empty goes. Every step reads the group's own index, however large the
// group.
func (tx *Tx) shrinkGroup(ctx context.Context, group int64, entries, unread int, actors []int64) error {
	gone := 0
	for _, a := range actors {
		var n int
		err := tx.q.QueryRowContext(ctx, `SELECT count(*) FROM activity WHERE group_id = $1 AND actor_id = $2`, group, a).Scan(&n)
		if err != nil {
			return fmt.Errorf("store: shrink activity group: %w", err)
		}
		if n == 0 {
			gone++
		}
	}
	var left int
	err := tx.q.QueryRowContext(ctx, `
		UPDATE activity_groups SET entries = entries - $1, unread = unread - $2, actors = actors - $3,
			last_id = COALESCE((SELECT max(id) FROM activity WHERE group_id = $4), 0)
		WHERE id = $4 RETURNING entries`, entries, unread, gone, group).Scan(&left)
	if err != nil {
		return fmt.Errorf("store: shrink activity group: %w", err)
	}
	if left == 0 {
		if _, err := tx.q.ExecContext(ctx, `DELETE FROM activity_groups WHERE id = $1`, group); err != nil {
			return fmt.Errorf("store: drop activity group: %w", err)
		}
	}
	return nil
}

// UnreadReplies returns the replies to postID that userID has unread
// entries about, through activity_groups_open and activity_group.
func (tx *Tx) UnreadReplies(ctx context.Context, userID, postID int64) ([]int64, error) {
	rows, err := tx.q.QueryContext(ctx, `
		SELECT post_id FROM activity WHERE unread AND group_id IN (
			SELECT id FROM activity_groups WHERE user_id = $1 AND kind = $2 AND subject_id = $3 AND unread > 0)`,
		userID, natter.ActivityReply, postID)
	if err != nil {
		return nil, fmt.Errorf("store: unread replies: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: unread replies: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: unread replies: %w", err)
	}
	return ids, nil
}

// Replies returns up to limit replies to postID with ids above after,
// oldest first, through posts_replies. Deleted replies are left out.
func (s *Store) Replies(ctx context.Context, postID, after int64, limit int) ([]natter.Post, error) {
	return s.queryPosts(ctx, `SELECT `+postColumns+`
		FROM posts p JOIN users u ON u.id = p.user_id `+postParent+`
		WHERE p.reply_to = $1 AND p.id > $2 AND p.deleted_at = 0
		ORDER BY p.id LIMIT $3`, postID, after, limit)
}

// PostVersions returns the earlier texts of postID, newest first.
func (s *Store) PostVersions(ctx context.Context, postID int64) ([]natter.PostVersion, error) {
	rows, err := s.rq.QueryContext(ctx, `
		SELECT body, written_at FROM post_versions WHERE post_id = $1 ORDER BY id DESC`, postID)
	if err != nil {
		return nil, fmt.Errorf("store: post versions: %w", err)
	}
	defer rows.Close()
	var list []natter.PostVersion
	for rows.Next() {
		var v natter.PostVersion
		var at int64
		if err := rows.Scan(&v.Body, &at); err != nil {
			return nil, fmt.Errorf("store: post versions: %w", err)
		}
		v.WrittenAt = fromMicros(at)
		list = append(list, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: post versions: %w", err)
	}
	return list, nil
}

// Liked returns which of the posts ids userID likes. One query reads the
// member's likes between the lowest and highest id through likes_user, so
// a page of posts costs one query however many likes each has.
func (s *Store) Liked(ctx context.Context, userID int64, ids []int64) (map[int64]bool, error) {
	liked := map[int64]bool{}
	if len(ids) == 0 {
		return liked, nil
	}
	lo, hi := slices.Min(ids), slices.Max(ids)
	rows, err := s.rq.QueryContext(ctx, `
		SELECT post_id FROM likes WHERE user_id = $1 AND post_id >= $2 AND post_id <= $3`, userID, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("store: liked: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: liked: %w", err)
		}
		if slices.Contains(ids, id) {
			liked[id] = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: liked: %w", err)
	}
	return liked, nil
}
