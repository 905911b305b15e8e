package store

import (
	"context"
	"fmt"
	"math"
	"natter/internal/natter"
	"slices"
)

// CreatePost inserts a post by author.
func (tx *Tx) CreatePost(ctx context.Context, author natter.MemberRef, body string) (natter.Post, error) {
	p := natter.Post{Author: author, Body: body, CreatedAt: tx.now}
	tx.postsChanged()
	err := tx.q.QueryRowContext(ctx, `INSERT INTO posts (user_id, body, created_at) VALUES ($1, $2, $3) RETURNING id`,
		author.ID, body, micros(tx.now)).Scan(&p.ID)
	if err != nil {
		return natter.Post{}, fmt.Errorf("store: create post: %w", err)
	}
	if err := tx.countPosts(ctx, author.ID, +1); err != nil {
		return natter.Post{}, fmt.Errorf("store: create post: %w", err)
	}
	tx.posted = append(tx.posted, p.ID)
	return p, nil
}

// countPosts moves the author's post count (the hover card's "12 posts",
// never a count(*)) by delta: +1 for a post created, -1 for one deleted,
// in the transaction that does it.
func (tx *Tx) countPosts(ctx context.Context, authorID int64, delta int) error {
	tx.userChanged(authorID)
	_, err := tx.q.ExecContext(ctx, `UPDATE users SET post_count = post_count + $1 WHERE id = $2`, delta, authorID)
	return err
}

// The queries of the lists of posts, read from a window's position: older
// items newest first, newer ones oldest first (the window's end nearest
// its position) and then turned round. Newest first is id order, so the
// primary key serves the timeline and posts_user_id a profile.
const (
	timelineOlder = `
		SELECT ` + postColumns + `
		FROM posts p JOIN users u ON u.id = p.user_id ` + postParent + `
		WHERE p.id < $1 AND p.deleted_at = 0
		ORDER BY p.id DESC LIMIT $2 OFFSET $3`
	timelineNewer = `
		SELECT ` + postColumns + `
		FROM posts p JOIN users u ON u.id = p.user_id ` + postParent + `
		WHERE p.id > $1 AND p.deleted_at = 0
		ORDER BY p.id LIMIT $2`
	postsByUserOlder = `
		SELECT ` + postColumns + `
		FROM posts p JOIN users u ON u.id = p.user_id ` + postParent + `
		WHERE p.user_id = $1 AND p.id < $2 AND p.deleted_at = 0
		ORDER BY p.id DESC LIMIT $3 OFFSET $4`
	postsByUserNewer = `
		SELECT ` + postColumns + `
		FROM posts p JOIN users u ON u.id = p.user_id ` + postParent + `
		WHERE p.user_id = $1 AND p.id > $2 AND p.deleted_at = 0
		ORDER BY p.id LIMIT $3`
)

// postColumns are what every list of posts reads, in queryPosts's order:
// the post, its author, the post it answers and that post's author (found
// through postParent), its counts and its edit and delete times.
const (
	postColumns = `p.id, p.body, p.created_at, u.id, u.username,
		COALESCE(p.reply_to, 0), COALESCE(ru.id, 0), COALESCE(ru.username, ''),
		p.likes, p.replies, p.edited_at, p.deleted_at`
	postParent = `LEFT JOIN posts rp ON rp.id = p.reply_to LEFT JOIN users ru ON ru.id = rp.user_id`
)

// Timeline returns a window of every member's posts, newest first. The
// slice may be shared: callers must not change it.
func (s *Store) Timeline(ctx context.Context, w natter.Window) ([]natter.Post, error) {
	query, args := windowQuery(w, timelineOlder, timelineNewer)
	return s.posts(ctx, postsKey{0, w}, w, query, args...)
}

// PostsByUser returns a window of one member's posts, newest first. The
// slice may be shared: callers must not change it.
func (s *Store) PostsByUser(ctx context.Context, userID int64, w natter.Window) ([]natter.Post, error) {
	query, args := windowQuery(w, postsByUserOlder, postsByUserNewer, userID)
	return s.posts(ctx, postsKey{userID, w}, w, query, args...)
}

// windowQuery picks the query that reads window w, older or newer, and
// appends w's arguments to the list's own: the position and the limit, and
// when reading older items the skip.
func windowQuery(w natter.Window, older, newer string, args ...any) (string, []any) {
	if w.After > 0 {
		return newer, append(args, w.After, w.Limit)
	}
	before := w.Before
	if before <= 0 {
		before = math.MaxInt64
	}
	return older, append(args, before, w.Limit, w.Skip)
}

// posts reads a window of posts. The windows at the top of a list (its
// first page, and the seed's numbered pages) are kept in memory; a window
// by position is read from the index where it points, which costs little,
// and a reader walking deep into the timeline does not push the first page
// out of the cache.
func (s *Store) posts(ctx context.Context, key postsKey, w natter.Window, query string, args ...any) ([]natter.Post, error) {
	top := w.Before == 0 && w.After == 0
	if !top {
		posts, err := s.queryPosts(ctx, query, args...)
		if w.After > 0 {
			slices.Reverse(posts) // read oldest first
		}
		return posts, err
	}
	posts, ok, gen := s.cache.posts.get(key)
	if ok {
		return posts, nil
	}
	posts, err := s.queryPosts(ctx, query, args...)
	if err == nil {
		s.cache.posts.put(key, posts, gen)
	}
	return posts, err
}

func (s *Store) queryPosts(ctx context.Context, query string, args ...any) ([]natter.Post, error) {
	return queryPosts(ctx, s.rq, query, args...)
}

func queryPosts(ctx context.Context, db dbtx, query string, args ...any) ([]natter.Post, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: posts: %w", err)
	}
	defer rows.Close()
	var posts []natter.Post
	for rows.Next() {
		var p natter.Post
		var created, edited, deleted int64
		if err := rows.Scan(&p.ID, &p.Body, &created, &p.Author.ID, &p.Author.Username,
			&p.ReplyTo, &p.ReplyToAuthor.ID, &p.ReplyToAuthor.Username,
			&p.Likes, &p.Replies, &edited, &deleted); err != nil {
			return nil, fmt.Errorf("store: scan post: %w", err)
		}
		p.CreatedAt = fromMicros(created)
		if edited != 0 {
			p.EditedAt = fromMicros(edited)
		}
		p.Deleted = deleted != 0
		posts = append(posts, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: posts: %w", err)
	}
	return posts, nil
}

// postByID reads one post, deleted or not.
const postByID = `SELECT ` + postColumns + `
	FROM posts p JOIN users u ON u.id = p.user_id ` + postParent + ` WHERE p.id = $1`

// Post returns the post with the given id, deleted ones included (Deleted
// set, emptied), or natter.ErrNotFound.
func (s *Store) Post(ctx context.Context, id int64) (natter.Post, error) {
	return onePost(s.queryPosts(ctx, postByID, id))
}

func onePost(posts []natter.Post, err error) (natter.Post, error) {
	if err != nil {
		return natter.Post{}, err
	}
	if len(posts) == 0 {
		return natter.Post{}, natter.ErrNotFound
	}
	return posts[0], nil
}
