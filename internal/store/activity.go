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

// AddActivity records an entry for a member, in the newest group of its
// kind and subject if that began within the entry's window, or else in a
// new group, and counts it unread. It returns the entry and the member's
// new unread count.
func (tx *Tx) AddActivity(ctx context.Context, na natter.NewActivity) (natter.Activity, int, error) {
	// The member's lock orders every change to their centre, so that two
	// entries cannot both start a group or miscount one.
	if err := tx.lockMember(ctx, na.UserID); err != nil {
		return natter.Activity{}, 0, err
	}
	a := natter.Activity{Kind: na.Kind, Actor: na.Actor, PostID: na.PostID, CreatedAt: tx.now, Unread: true}
	err := tx.q.QueryRowContext(ctx, `
		SELECT id FROM activity_groups
		WHERE user_id = $1 AND kind = $2 AND subject_id = $3 AND first_at > $4
		ORDER BY first_at DESC LIMIT 1`,
		na.UserID, na.Kind, na.Subject, micros(tx.now.Add(-na.Window))).Scan(&a.GroupID)
	if errors.Is(err, sql.ErrNoRows) {
		err = tx.q.QueryRowContext(ctx, `
			INSERT INTO activity_groups (user_id, kind, subject_id, first_at, last_id, entries, actors, unread)
			VALUES ($1, $2, $3, $4, 0, 0, 0, 0) RETURNING id`,
			na.UserID, na.Kind, na.Subject, micros(tx.now)).Scan(&a.GroupID)
	}
	if err != nil {
		return natter.Activity{}, 0, fmt.Errorf("store: activity group: %w", err)
	}
	var seen int
	err = tx.q.QueryRowContext(ctx, `SELECT count(*) FROM activity WHERE group_id = $1 AND actor_id = $2`,
		a.GroupID, na.Actor.ID).Scan(&seen)
	if err != nil {
		return natter.Activity{}, 0, fmt.Errorf("store: activity actors: %w", err)
	}
	newActor := 0
	if seen == 0 {
		newActor = 1
	}
	err = tx.q.QueryRowContext(ctx, `
		INSERT INTO activity (user_id, group_id, kind, actor_id, post_id, created_at, unread)
		VALUES ($1, $2, $3, $4, $5, $6, TRUE) RETURNING id`,
		na.UserID, a.GroupID, na.Kind, na.Actor.ID, nullID(na.PostID), micros(tx.now)).Scan(&a.ID)
	if err != nil {
		return natter.Activity{}, 0, fmt.Errorf("store: add activity: %w", err)
	}
	_, err = tx.q.ExecContext(ctx, `
		UPDATE activity_groups SET last_id = $1, entries = entries + 1, actors = actors + $2, unread = unread + 1
		WHERE id = $3`, a.ID, newActor, a.GroupID)
	if err != nil {
		return natter.Activity{}, 0, fmt.Errorf("store: count activity group: %w", err)
	}
	var count int
	tx.userChanged(na.UserID)
	err = tx.q.QueryRowContext(ctx, `
		UPDATE users SET unread_activity = unread_activity + 1 WHERE id = $1 RETURNING unread_activity`,
		na.UserID).Scan(&count)
	if err != nil {
		return natter.Activity{}, 0, fmt.Errorf("store: count activity: %w", err)
	}
	return a, count, nil
}

func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

// MarkActivityRead marks read the member's unread entries with ids up to
// upTo: those the member saw listed. One that arrived meanwhile has a
// higher id and stays unread. It returns the member's remaining unread
// count and true when something was unread, 0 and false otherwise.
func (tx *Tx) MarkActivityRead(ctx context.Context, userID, upTo int64) (int, bool, error) {
	return tx.readActivity(ctx, userID, `
		UPDATE activity SET unread = FALSE WHERE user_id = $1 AND unread AND id <= $2 RETURNING group_id`,
		userID, upTo)
}

// MarkPostActivityRead marks read the member's entries about the post: the
// member has opened it. It returns what MarkActivityRead does.
//
// The post's page lists its replies: the member's groups of replies to it
// are read too, found through activity_groups_open.
func (tx *Tx) MarkPostActivityRead(ctx context.Context, userID, postID int64) (int, bool, error) {
	left, changed, err := tx.readActivity(ctx, userID, `
		UPDATE activity SET unread = FALSE WHERE user_id = $1 AND unread AND post_id = $2 RETURNING group_id`,
		userID, postID)
	if err != nil {
		return 0, false, err
	}
	left2, changed2, err := tx.readActivity(ctx, userID, `
		UPDATE activity SET unread = FALSE WHERE unread AND group_id IN (
			SELECT id FROM activity_groups WHERE user_id = $1 AND kind = $2 AND subject_id = $3 AND unread > 0)
		RETURNING group_id`,
		userID, natter.ActivityReply, postID)
	if err != nil || !changed2 {
		return left, changed, err
	}
	return left2, true, nil
}

// readActivity runs update, which marks some of userID's entries read
// (found through activity_unread, which holds unread entries only) and
// returns their groups, and takes them off the groups' and the member's
// counts.
func (tx *Tx) readActivity(ctx context.Context, userID int64, update string, args ...any) (int, bool, error) {
	if err := tx.lockMember(ctx, userID); err != nil {
		return 0, false, err
	}
	rows, err := tx.q.QueryContext(ctx, update, args...)
	if err != nil {
		return 0, false, fmt.Errorf("store: mark activity read: %w", err)
	}
	byGroup := map[int64]int{}
	total := 0
	for rows.Next() {
		var g int64
		if err := rows.Scan(&g); err != nil {
			rows.Close()
			return 0, false, fmt.Errorf("store: mark activity read: %w", err)
		}
		byGroup[g]++
		total++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, false, fmt.Errorf("store: mark activity read: %w", err)
	}
	if total == 0 {
		return 0, false, nil
	}
	for _, g := range slices.Sorted(maps.Keys(byGroup)) {
		if _, err := tx.q.ExecContext(ctx, `UPDATE activity_groups SET unread = unread - $1 WHERE id = $2`,
			byGroup[g], g); err != nil {
			return 0, false, fmt.Errorf("store: count activity group read: %w", err)
		}
	}
	var left int
	tx.userChanged(userID)
	err = tx.q.QueryRowContext(ctx, `
		UPDATE users SET unread_activity = unread_activity - $1 WHERE id = $2 RETURNING unread_activity`,
		total, userID).Scan(&left)
	if err != nil {
		return 0, false, fmt.Errorf("store: count activity read: %w", err)
	}
	return left, true, nil
}

// ActivityGroups returns up to limit of the member's groups whose newest
// entry is below before (0: from the newest), newest first, through
// activity_groups_recent, each with up to recent of its newest entries
// through activity_group.
func (s *Store) ActivityGroups(ctx context.Context, userID, before int64, limit, recent int) ([]natter.ActivityGroup, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.rq.QueryContext(ctx, `
		SELECT id, kind, subject_id, last_id, entries, actors, unread FROM activity_groups
		WHERE user_id = $1 AND last_id < $2
		ORDER BY last_id DESC LIMIT $3`, userID, before, limit)
	if err != nil {
		return nil, fmt.Errorf("store: activity groups: %w", err)
	}
	var groups []natter.ActivityGroup
	for rows.Next() {
		var g natter.ActivityGroup
		if err := rows.Scan(&g.ID, &g.Kind, &g.Subject, &g.LastID, &g.Entries, &g.Actors, &g.Unread); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: scan activity group: %w", err)
		}
		groups = append(groups, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: activity groups: %w", err)
	}
	for i := range groups {
		// Only entries up to the group's newest as read above: the
		// group's counts and the page's "mark all read" go by it.
		if groups[i].Recent, err = s.groupEntries(ctx, groups[i].ID, groups[i].LastID, recent); err != nil {
			return nil, err
		}
	}
	return groups, nil
}

func (s *Store) groupEntries(ctx context.Context, groupID, upTo int64, limit int) ([]natter.Activity, error) {
	rows, err := s.rq.QueryContext(ctx, `
		SELECT a.id, a.group_id, a.kind, a.created_at, actor.id, actor.username,
			COALESCE(a.post_id, 0), COALESCE(p.body, ''), a.unread
		FROM activity a
		JOIN users actor ON actor.id = a.actor_id
		LEFT JOIN posts p ON p.id = a.post_id
		WHERE a.group_id = $1 AND a.id <= $2
		ORDER BY a.id DESC LIMIT $3`, groupID, upTo, limit)
	if err != nil {
		return nil, fmt.Errorf("store: activity: %w", err)
	}
	defer rows.Close()
	var list []natter.Activity
	for rows.Next() {
		var a natter.Activity
		var created int64
		if err := rows.Scan(&a.ID, &a.GroupID, &a.Kind, &created, &a.Actor.ID, &a.Actor.Username,
			&a.PostID, &a.Body, &a.Unread); err != nil {
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

// ActivityUnread reports whether the entry of a notification centre is
// still unread.
func (s *Store) ActivityUnread(ctx context.Context, id int64) (bool, error) {
	var unread bool
	err := s.rq.QueryRowContext(ctx, `SELECT unread FROM activity WHERE id = $1`, id).Scan(&unread)
	if errors.Is(err, sql.ErrNoRows) {
		return false, natter.ErrNotFound
	}
	if err != nil {
		return false, fmt.Errorf("store: activity unread: %w", err)
	}
	return unread, nil
}
