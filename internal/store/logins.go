package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"time"

	"natter/internal/natter"
)

// A login is a row of the sessions table seen from natter's side: scs
// writes its token, data and expiry, natter the member, the browser and the
// times (migration 0007). Sessions.FindCtx finds no session past its
// idle_until, so an idle session is logged out everywhere at once.

// loginID names a session on pages without revealing its token.
func loginID(token string) string {
	sum := sha256.Sum256([]byte("natter login id\x00" + token))
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

const loginColumns = `token, user_id, remember, user_agent, address, created_at, last_active, idle_until`

func scanLogin(row interface{ Scan(...any) error }) (natter.Login, error) {
	var l natter.Login
	var token string
	var remember, created, active, idle int64
	if err := row.Scan(&token, &l.MemberID, &remember, &l.UserAgent, &l.Address, &created, &active, &idle); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return natter.Login{}, natter.ErrNotFound
		}
		return natter.Login{}, fmt.Errorf("store: scan login: %w", err)
	}
	l.ID, l.Remember = loginID(token), remember != 0
	l.CreatedAt, l.LastActive, l.IdleUntil = fromMicros(created), fromMicros(active), fromMicros(idle)
	return l, nil
}

// StartLogin records the login under token. It runs before the session
// store first writes the session (at the end of the request), so it makes
// the row, with no data yet, and the session store's upsert keeps what it
// wrote.
func (s *Store) StartLogin(ctx context.Context, token string, l natter.Login) error {
	remember := 0
	if l.Remember {
		remember = 1
	}
	_, err := s.wq.ExecContext(ctx, `
		INSERT INTO sessions (token, data, expiry, user_id, remember, user_agent, address, created_at, last_active, idle_until)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $3)
		ON CONFLICT (token) DO UPDATE SET user_id = excluded.user_id, remember = excluded.remember,
			user_agent = excluded.user_agent, address = excluded.address, created_at = excluded.created_at,
			last_active = excluded.last_active, idle_until = excluded.idle_until`,
		token, []byte{}, micros(l.IdleUntil), l.MemberID, remember, l.UserAgent, l.Address, micros(l.CreatedAt))
	s.cache.sessions.forget(token)
	if err != nil {
		return fmt.Errorf("store: start login: %w", err)
	}
	return nil
}

// Login returns the live login session with that token, or
// natter.ErrNotFound. On SQLite it comes from the session cache, with the
// session's data.
func (s *Store) Login(ctx context.Context, token string) (natter.Login, error) {
	now := s.now()
	if e, ok, _ := s.cache.sessions.get(token); ok && e.live(now) {
		return e.login, nil
	}
	l, err := scanLogin(s.rq.QueryRowContext(ctx, `SELECT `+loginColumns+` FROM sessions
		WHERE token = $1 AND expiry > $2 AND (idle_until = 0 OR idle_until > $2)`, token, micros(now)))
	if err != nil {
		return natter.Login{}, err
	}
	return l, nil
}

// Logins returns the member's live login sessions, the most recently
// active first.
func (s *Store) Logins(ctx context.Context, userID int64) ([]natter.Login, error) {
	now := micros(s.now())
	rows, err := s.rq.QueryContext(ctx, `SELECT `+loginColumns+` FROM sessions
		WHERE user_id = $1 AND expiry > $2 AND (idle_until = 0 OR idle_until > $2)`, userID, now)
	if err != nil {
		return nil, fmt.Errorf("store: logins: %w", err)
	}
	defer rows.Close()
	var out []natter.Login
	for rows.Next() {
		l, err := scanLogin(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: logins: %w", err)
	}
	slices.SortFunc(out, func(a, b natter.Login) int { return b.LastActive.Compare(a.LastActive) })
	return out, nil
}

// TouchLogin records the session as active at now, lasting unused until
// idleUntil.
func (s *Store) TouchLogin(ctx context.Context, token string, now, idleUntil time.Time) error {
	_, err := s.wq.ExecContext(ctx, `UPDATE sessions SET last_active = $1, idle_until = $2 WHERE token = $3 AND user_id <> 0`,
		micros(now), micros(idleUntil), token)
	s.cache.sessions.forget(token)
	if err != nil {
		return fmt.Errorf("store: touch login: %w", err)
	}
	return nil
}

// EndLogins deletes the member's login sessions with the given IDs, or all
// of them when none are given.
func (s *Store) EndLogins(ctx context.Context, userID int64, ids ...string) (int, error) {
	rows, err := s.wq.QueryContext(ctx, `SELECT token FROM sessions WHERE user_id = $1`, userID)
	if err != nil {
		return 0, fmt.Errorf("store: end logins: %w", err)
	}
	var tokens []string
	for rows.Next() {
		var token string
		if err := rows.Scan(&token); err != nil {
			rows.Close()
			return 0, fmt.Errorf("store: end logins: %w", err)
		}
		if len(ids) == 0 || slices.Contains(ids, loginID(token)) {
			tokens = append(tokens, token)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("store: end logins: %w", err)
	}
	for _, token := range tokens {
		if err := s.Sessions().DeleteCtx(ctx, token); err != nil {
			return 0, err
		}
	}
	return len(tokens), nil
}
