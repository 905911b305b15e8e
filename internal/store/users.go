package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// User is a member.
type User struct {
	ID           int64
	Username     string // as typed at registration or last rename
	Email        string
	PasswordHash string
	AboutMe      string
	CreatedAt    time.Time
	LastSeen     time.Time
	// UnreadMessages and UnreadActivity are the badge counts.
	UnreadMessages int
	UnreadActivity int
	// NotificationSeq is the last notification sequence number written for
	// this member; a page rendered now has seen everything up to it.
	NotificationSeq int64
}

// UserRef is the part of a user shown beside a post or message.
type UserRef struct {
	ID       int64
	Username string
}

// Key is the case-folded form under which usernames and emails are unique.
func Key(s string) string { return strings.ToLower(s) }

const userColumns = `id, username, email, password_hash, about_me, created_at, last_seen,
	unread_messages, unread_activity, notification_seq`

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	var created, seen int64
	err := row.Scan(&u.ID, &u.Username, &u.Email, &u.PasswordHash, &u.AboutMe, &created, &seen,
		&u.UnreadMessages, &u.UnreadActivity, &u.NotificationSeq)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("store: scan user: %w", err)
	}
	u.CreatedAt, u.LastSeen = fromMicros(created), fromMicros(seen)
	return u, nil
}

func userByID(ctx context.Context, db dbtx, id int64) (User, error) {
	return scanUser(db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
}

func userByName(ctx context.Context, db dbtx, username string) (User, error) {
	return scanUser(db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE username_key = $1`, Key(username)))
}

// UserByID returns the member with that id, or ErrNotFound.
func (s *Store) UserByID(ctx context.Context, id int64) (User, error) {
	u, ok, gen := s.cache.users.get(id)
	if ok {
		return u, nil
	}
	u, err := userByID(ctx, s.rq, id)
	if err == nil {
		s.cache.users.put(id, u, gen)
	}
	return u, err
}

// UserByName returns the member with that username in any case, or ErrNotFound.
func (s *Store) UserByName(ctx context.Context, username string) (User, error) {
	return userByName(ctx, s.rq, username)
}

// UserByID returns the member with that id, or ErrNotFound.
func (tx *Tx) UserByID(ctx context.Context, id int64) (User, error) {
	return userByID(ctx, tx.q, id)
}

// UserByName returns the member with that username in any case, or ErrNotFound.
func (tx *Tx) UserByName(ctx context.Context, username string) (User, error) {
	return userByName(ctx, tx.q, username)
}

// UsersByName returns the members among names that exist, keyed by Key(name).
func (tx *Tx) UsersByName(ctx context.Context, names []string) (map[string]User, error) {
	users := make(map[string]User, len(names))
	for _, n := range names {
		if _, ok := users[Key(n)]; ok {
			continue
		}
		u, err := tx.UserByName(ctx, n)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		users[Key(n)] = u
	}
	return users, nil
}

// CreateUser inserts a member. A taken username or email is ErrUsernameTaken
// or ErrEmailTaken.
func (tx *Tx) CreateUser(ctx context.Context, username, email, passwordHash string) (User, error) {
	if err := tx.checkFree(ctx, 0, username, email); err != nil {
		return User{}, err
	}
	now := micros(tx.now)
	var id int64
	err := tx.q.QueryRowContext(ctx, `
		INSERT INTO users (username, username_key, email, email_key, password_hash, created_at, last_seen)
		VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id`,
		username, Key(username), email, Key(email), passwordHash, now).Scan(&id)
	if err != nil {
		return User{}, conflictError(err)
	}
	return tx.UserByID(ctx, id)
}

// checkFree reports ErrUsernameTaken or ErrEmailTaken if another member than
// self holds the name or the email (an empty one is not checked).
func (tx *Tx) checkFree(ctx context.Context, self int64, username, email string) error {
	var n int
	err := tx.q.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE username_key = $1 AND id <> $2`,
		Key(username), self).Scan(&n)
	if err != nil {
		return fmt.Errorf("store: check username: %w", err)
	}
	if n > 0 {
		return ErrUsernameTaken
	}
	if email == "" {
		return nil
	}
	err = tx.q.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE email_key = $1 AND id <> $2`,
		Key(email), self).Scan(&n)
	if err != nil {
		return fmt.Errorf("store: check email: %w", err)
	}
	if n > 0 {
		return ErrEmailTaken
	}
	return nil
}

// conflictError turns a unique violation that slipped past checkFree (two
// registrations racing on PostgreSQL) into the matching sentinel.
func conflictError(err error) error {
	if detail, ok := uniqueViolation(err); ok {
		if strings.Contains(detail, "email") {
			return ErrEmailTaken
		}
		return ErrUsernameTaken
	}
	return fmt.Errorf("store: %w", err)
}

// UpdateProfile changes a member's username and about-me text.
func (tx *Tx) UpdateProfile(ctx context.Context, id int64, username, aboutMe string) error {
	if err := tx.checkFree(ctx, id, username, ""); err != nil {
		return err
	}
	tx.userChanged(id)
	tx.postsChanged() // lists of posts show the name
	_, err := tx.q.ExecContext(ctx, `UPDATE users SET username = $1, username_key = $2, about_me = $3 WHERE id = $4`,
		username, Key(username), aboutMe, id)
	if err != nil {
		return conflictError(err)
	}
	return nil
}

// lockMember takes the member's row for the rest of the transaction. Every
// transaction that reads a member's counters to change them takes it
// first, so that on PostgreSQL (READ COMMITTED) two of them run one after
// the other and the second sees what the first wrote: counters never
// drift from what they count. It is the lock an UPDATE of the counters
// takes (NO KEY UPDATE), which leaves foreign-key checks on the row free:
// FOR UPDATE would deadlock two members messaging each other. SQLite's
// transactions take the whole database (BEGIN IMMEDIATE) and need nothing
// more.
func (tx *Tx) lockMember(ctx context.Context, id int64) error {
	if tx.store.dialect != Postgres {
		return nil
	}
	if _, err := tx.q.ExecContext(ctx, `SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE`, id); err != nil {
		return fmt.Errorf("store: lock member: %w", err)
	}
	return nil
}

// TouchLastSeen records that the member was seen at the transaction's time,
// unless that was already recorded less than interval ago: the condition in
// the UPDATE makes concurrent requests write at most once.
func (tx *Tx) TouchLastSeen(ctx context.Context, id int64, interval time.Duration) error {
	tx.userChanged(id)
	_, err := tx.q.ExecContext(ctx, `UPDATE users SET last_seen = $1 WHERE id = $2 AND last_seen < $3`,
		micros(tx.now), id, micros(tx.now.Add(-interval)))
	if err != nil {
		return fmt.Errorf("store: touch last seen: %w", err)
	}
	return nil
}
