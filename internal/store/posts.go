package store

import (
	"context"
	"fmt"
	"natter/internal/natter"
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
	return p, nil
}

// Timeline returns every member's posts, newest first. Newest first is id
// order, so the primary key serves it. The slice may be shared: callers
// must not change it.
func (s *Store) Timeline(ctx context.Context, p natter.Pagination) ([]natter.Post, error) {
	return s.posts(ctx, postsKey{0, p}, `
		SELECT p.id, p.body, p.created_at, u.id, u.username
		FROM posts p JOIN users u ON u.id = p.user_id
		ORDER BY p.id DESC LIMIT $1 OFFSET $2`, p.Limit, p.Offset)
}

// PostsByUser returns one member's posts, newest first, served by
// posts_user_id. The slice may be shared: callers must not change it.
func (s *Store) PostsByUser(ctx context.Context, userID int64, p natter.Pagination) ([]natter.Post, error) {
	return s.posts(ctx, postsKey{userID, p}, `
		SELECT p.id, p.body, p.created_at, u.id, u.username
		FROM posts p JOIN users u ON u.id = p.user_id
		WHERE p.user_id = $3
		ORDER BY p.id DESC LIMIT $1 OFFSET $2`, p.Limit, p.Offset, userID)
}

func (s *Store) posts(ctx context.Context, key postsKey, query string, args ...any) ([]natter.Post, error) {
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
	rows, err := s.rq.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: posts: %w", err)
	}
	defer rows.Close()
	var posts []natter.Post
	for rows.Next() {
		var p natter.Post
		var created int64
		if err := rows.Scan(&p.ID, &p.Body, &created, &p.Author.ID, &p.Author.Username); err != nil {
			return nil, fmt.Errorf("store: scan post: %w", err)
		}
		p.CreatedAt = fromMicros(created)
		posts = append(posts, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: posts: %w", err)
	}
	return posts, nil
}

// Post returns the post with the given id, or natter.ErrNotFound.
func (s *Store) Post(ctx context.Context, id int64) (natter.Post, error) {
	posts, err := s.queryPosts(ctx, `
		SELECT p.id, p.body, p.created_at, u.id, u.username
		FROM posts p JOIN users u ON u.id = p.user_id WHERE p.id = $1`, id)
	if err != nil {
		return natter.Post{}, err
	}
	if len(posts) == 0 {
		return natter.Post{}, natter.ErrNotFound
	}
	return posts[0], nil
}
