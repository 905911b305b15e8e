package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"natter/internal/natter"
)

// Sessions keeps login sessions in the database, so that they survive a
// restart and are shared by every instance. It implements the store
// interfaces of github.com/alexedwards/scs/v2 (Store and CtxStore) without
// importing it.
type Sessions struct{ s *Store }

// Sessions returns the session store.
func (s *Store) Sessions() Sessions { return Sessions{s} }

// FindCtx returns the data of a session neither expired nor idle past its
// idle_until (logins.go).
func (ss Sessions) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	now := ss.s.now()
	e, ok, gen := ss.s.cache.sessions.get(token)
	if ok && e.live(now) {
		return e.data, true, nil
	}
	var data []byte
	var expiry int64
	var l natter.Login
	var remember, created, active, idle int64
	err := ss.s.rq.QueryRowContext(ctx, `SELECT data, expiry, user_id, remember, user_agent, address, created_at, last_active, idle_until
		FROM sessions WHERE token = $1 AND expiry > $2 AND (idle_until = 0 OR idle_until > $2)`,
		token, micros(now)).Scan(&data, &expiry, &l.MemberID, &remember, &l.UserAgent, &l.Address, &created, &active, &idle)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("store: find session: %w", err)
	}
	l.ID, l.Remember = loginID(token), remember != 0
	l.CreatedAt, l.LastActive, l.IdleUntil = fromMicros(created), fromMicros(active), fromMicros(idle)
	ss.s.cache.sessions.put(token, sessionEntry{data: data, expiry: fromMicros(expiry), login: l}, gen)
	return data, true, nil
}

// CommitCtx saves a session's data and expiry.
func (ss Sessions) CommitCtx(ctx context.Context, token string, data []byte, expiry time.Time) error {
	_, err := ss.s.wq.ExecContext(ctx, `
		INSERT INTO sessions (token, data, expiry) VALUES ($1, $2, $3)
		ON CONFLICT (token) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`,
		token, data, micros(expiry))
	ss.s.cache.sessions.forget(token)
	if err != nil {
		return fmt.Errorf("store: commit session: %w", err)
	}
	return nil
}

// DeleteCtx removes a session: logging out makes its cookie worthless.
func (ss Sessions) DeleteCtx(ctx context.Context, token string) error {
	_, err := ss.s.wq.ExecContext(ctx, `DELETE FROM sessions WHERE token = $1`, token)
	ss.s.cache.sessions.forget(token)
	if err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// Find, Commit and Delete are the context-free forms scs.Store requires.
func (ss Sessions) Find(token string) ([]byte, bool, error) {
	return ss.FindCtx(context.Background(), token)
}

// Commit is CommitCtx without a context.
func (ss Sessions) Commit(token string, data []byte, expiry time.Time) error {
	return ss.CommitCtx(context.Background(), token, data, expiry)
}

// Delete is DeleteCtx without a context.
func (ss Sessions) Delete(token string) error {
	return ss.DeleteCtx(context.Background(), token)
}

// DeleteExpired removes sessions past their expiry or idle too long.
func (ss Sessions) DeleteExpired(ctx context.Context) (int64, error) {
	// Two statements, each read through its own index: an OR of the two
	// would scan the table.
	var n int64
	for _, q := range []string{
		`DELETE FROM sessions WHERE expiry <= $1`,
		`DELETE FROM sessions WHERE idle_until > 0 AND idle_until <= $1`,
	} {
		res, err := ss.s.wq.ExecContext(ctx, q, micros(ss.s.now()))
		if err != nil {
			return n, fmt.Errorf("store: delete expired sessions: %w", err)
		}
		m, err := res.RowsAffected()
		if err != nil {
			return n, err
		}
		n += m
	}
	return n, nil
}
