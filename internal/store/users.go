package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"natter/internal/natter"
	"strings"
	"time"
)

// accountColumns are a member's row without the password hash, which only
// Credentials reads.
const accountColumns = `id, username, email, about_me, created_at, last_seen,
	unread_messages, unread_activity, notification_seq, post_count, hide_last_seen, email_verified, pending_email`

func scanAccount(row interface{ Scan(...any) error }) (natter.Account, error) {
	var a natter.Account
	var created, seen int64
	var verified int
	err := row.Scan(&a.ID, &a.Username, &a.Email, &a.AboutMe, &created, &seen,
		&a.UnreadMessages, &a.UnreadActivity, &a.NotificationSeq, &a.PostCount, &a.HideLastSeen, &verified, &a.PendingEmail)
	a.EmailVerified = verified != 0
	if errors.Is(err, sql.ErrNoRows) {
		return natter.Account{}, natter.ErrNotFound
	}
	if err != nil {
		return natter.Account{}, fmt.Errorf("store: scan member: %w", err)
	}
	a.CreatedAt, a.LastSeen = fromMicros(created), fromMicros(seen)
	return a, nil
}

func accountByID(ctx context.Context, db dbtx, id int64) (natter.Account, error) {
	return scanAccount(db.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM users WHERE id = $1 AND deleted_at = 0`, id))
}

// memberByName reads the whole account, but returns only what anyone may
// see: one query (and one prepared statement) serves both.
func memberByName(ctx context.Context, db dbtx, username string) (natter.Member, error) {
	a, err := scanAccount(db.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM users WHERE username_key = $1 AND deleted_at = 0`, natter.Key(username)))
	return a.Member(), err
}

// Account returns the member with that id as they see themselves, or
// ErrNotFound. On SQLite it may come from memory.
func (s *Store) Account(ctx context.Context, id int64) (natter.Account, error) {
	a, ok, gen := s.cache.users.get(id)
	if ok {
		return a, nil
	}
	a, err := accountByID(ctx, s.rq, id)
	if err == nil {
		s.cache.users.put(id, a, gen)
	}
	return a, err
}

// MemberByName returns the member with that username in any case, or
// ErrNotFound.
func (s *Store) MemberByName(ctx context.Context, username string) (natter.Member, error) {
	return memberByName(ctx, s.rq, username)
}

// MembersByPrefix returns up to limit members whose username begins with
// prefix, in any case, in the order of their names: the suggestions of a
// name field. Usernames are ASCII letters, digits and underscores, so the
// names with the prefix are the range from the prefix to the prefix and
// "~" (above every such character) of the username_key index; a prefix
// with any other character has no members. (Under a PostgreSQL collation
// other than C, which orders by more than the bytes, the range is wider
// than the prefix and the check below keeps what matches.)
func (s *Store) MembersByPrefix(ctx context.Context, prefix string, limit int) ([]natter.MemberRef, error) {
	key := natter.Key(prefix)
	if key == "" || strings.IndexFunc(key, func(r rune) bool {
		return !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '_')
	}) >= 0 {
		return nil, nil
	}
	rows, err := s.rq.QueryContext(ctx, `SELECT id, username FROM users
		WHERE username_key >= $1 AND username_key < $2 AND deleted_at = 0
		ORDER BY username_key LIMIT $3`, key, key+"~", limit)
	if err != nil {
		return nil, fmt.Errorf("store: members by prefix: %w", err)
	}
	defer rows.Close()
	var refs []natter.MemberRef
	for rows.Next() {
		var m natter.MemberRef
		if err := rows.Scan(&m.ID, &m.Username); err != nil {
			return nil, fmt.Errorf("store: members by prefix: %w", err)
		}
		if strings.HasPrefix(natter.Key(m.Username), key) {
			refs = append(refs, m)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: members by prefix: %w", err)
	}
	return refs, nil
}

// Credentials returns what a login with that username (in any case) is
// checked against, or ErrNotFound. It is the only read of the password
// hash, and nothing keeps what it returns.
func (s *Store) Credentials(ctx context.Context, username string) (natter.Credentials, error) {
	var c natter.Credentials
	err := s.rq.QueryRowContext(ctx, `SELECT id, password_hash FROM users WHERE username_key = $1 AND deleted_at = 0`,
		natter.Key(username)).Scan(&c.MemberID, &c.PasswordHash)
	if errors.Is(err, sql.ErrNoRows) {
		return natter.Credentials{}, natter.ErrNotFound
	}
	if err != nil {
		return natter.Credentials{}, fmt.Errorf("store: credentials: %w", err)
	}
	return c, nil
}

// Account returns the member with that id, or ErrNotFound.
func (tx *Tx) Account(ctx context.Context, id int64) (natter.Account, error) {
	return accountByID(ctx, tx.q, id)
}

// MemberByName returns the member with that username in any case, or
// ErrNotFound.
func (tx *Tx) MemberByName(ctx context.Context, username string) (natter.Member, error) {
	return memberByName(ctx, tx.q, username)
}

// CreateUser inserts a member. A taken username or email is natter.ErrUsernameTaken
// or natter.ErrEmailTaken.
func (tx *Tx) CreateUser(ctx context.Context, username, email, passwordHash string) (natter.Account, error) {
	if err := tx.checkFree(ctx, 0, username, email); err != nil {
		return natter.Account{}, err
	}
	now := micros(tx.now)
	key := natter.Key(email)
	if email == "" {
		// A member whose address waits to be proved (email on) has none
		// yet; the key must still be unique.
		key = "none:" + rand.Text()
	}
	tx.namesChanged()
	var id int64
	err := tx.q.QueryRowContext(ctx, `
		INSERT INTO users (username, username_key, email, email_key, password_hash, created_at, last_seen)
		VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id`,
		username, natter.Key(username), email, key, passwordHash, now).Scan(&id)
	if err != nil {
		return natter.Account{}, conflictError(err)
	}
	return tx.Account(ctx, id)
}

// checkFree reports natter.ErrUsernameTaken or natter.ErrEmailTaken if another member than
// self holds the name or the email (an empty one is not checked).
func (tx *Tx) checkFree(ctx context.Context, self int64, username, email string) error {
	var n int
	err := tx.q.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE username_key = $1 AND id <> $2`,
		natter.Key(username), self).Scan(&n)
	if err != nil {
		return fmt.Errorf("store: check username: %w", err)
	}
	if n > 0 {
		return natter.ErrUsernameTaken
	}
	if taken, err := tx.formerNameTaken(ctx, self, username); err != nil || taken {
		if err != nil {
			return err
		}
		return natter.ErrUsernameTaken
	}
	if email == "" {
		return nil
	}
	err = tx.q.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE email_key = $1 AND id <> $2`,
		natter.Key(email), self).Scan(&n)
	if err != nil {
		return fmt.Errorf("store: check email: %w", err)
	}
	if n > 0 {
		return natter.ErrEmailTaken
	}
	return nil
}

// conflictError turns a unique violation that slipped past checkFree (two
// registrations racing on PostgreSQL) into the matching sentinel.
func conflictError(err error) error {
	if detail, ok := uniqueViolation(err); ok {
		if strings.Contains(detail, "email") {
			return natter.ErrEmailTaken
		}
		return natter.ErrUsernameTaken
	}
	return fmt.Errorf("store: %w", err)
}

// UpdateProfile changes a member's username and about-me text.
func (tx *Tx) UpdateProfile(ctx context.Context, id int64, username, aboutMe string) error {
	if err := tx.checkFree(ctx, id, username, ""); err != nil {
		return err
	}
	old, err := tx.Account(ctx, id)
	if err != nil {
		return err
	}
	if err := tx.recordRename(ctx, id, old.Username, username); err != nil {
		return err
	}
	tx.userChanged(id)
	tx.postsChanged() // lists of posts show the name
	_, err = tx.q.ExecContext(ctx, `UPDATE users SET username = $1, username_key = $2, about_me = $3 WHERE id = $4`,
		username, natter.Key(username), aboutMe, id)
	if err != nil {
		return conflictError(err)
	}
	return nil
}

// SetHideLastSeen records whether the member hides when they were last
// seen from others.
func (tx *Tx) SetHideLastSeen(ctx context.Context, id int64, hide bool) error {
	tx.userChanged(id)
	if _, err := tx.q.ExecContext(ctx, `UPDATE users SET hide_last_seen = $1 WHERE id = $2`, hide, id); err != nil {
		return fmt.Errorf("store: set hide last seen: %w", err)
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

// SetPassword replaces the member's password hash.
func (tx *Tx) SetPassword(ctx context.Context, id int64, passwordHash string) error {
	tx.userChanged(id) // the cached account holds no hash, but the rule is simple
	if _, err := tx.q.ExecContext(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2`, passwordHash, id); err != nil {
		return fmt.Errorf("store: set password: %w", err)
	}
	return nil
}

// SetEmail changes the member's email address; one another member holds
// is natter.ErrEmailTaken.
func (tx *Tx) SetEmail(ctx context.Context, id int64, email string) error {
	var n int
	if err := tx.q.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE email_key = $1 AND id <> $2`,
		natter.Key(email), id).Scan(&n); err != nil {
		return fmt.Errorf("store: check email: %w", err)
	}
	if n > 0 {
		return natter.ErrEmailTaken
	}
	tx.userChanged(id)
	if _, err := tx.q.ExecContext(ctx, `UPDATE users SET email = $1, email_key = $2 WHERE id = $3`,
		email, natter.Key(email), id); err != nil {
		return conflictError(err)
	}
	return nil
}

// Members returns every member who has not deleted their account, in the
// order they registered (natter user list).
func (s *Store) Members(ctx context.Context) ([]natter.Account, error) {
	rows, err := s.rq.QueryContext(ctx, `SELECT `+accountColumns+` FROM users WHERE deleted_at = 0 ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("store: members: %w", err)
	}
	defer rows.Close()
	var out []natter.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
