package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"
)

// SiteKey returns the value kept under name in the site's secrets, making
// it with mk the first time any instance asks: every instance of a site gets
// the same (the first insert wins, and every one reads what it wrote). The
// signing keys of notices and device cookies and the VAPID key pair all live
// here.
func (s *Store) SiteKey(ctx context.Context, name string, mk func() ([]byte, error)) ([]byte, error) {
	var v []byte
	err := s.rq.QueryRowContext(ctx, `SELECT value FROM secrets WHERE name = $1`, name).Scan(&v)
	if err == nil {
		return v, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: secret %s: %w", name, err)
	}
	fresh, err := mk()
	if err != nil {
		return nil, err
	}
	_, err = s.update(ctx, func(tx *Tx) error {
		if _, err := tx.q.ExecContext(ctx, `INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, name, fresh); err != nil {
			return err
		}
		return tx.q.QueryRowContext(ctx, `SELECT value FROM secrets WHERE name = $1`, name).Scan(&v)
	})
	if err != nil {
		return nil, fmt.Errorf("store: secret %s: %w", name, err)
	}
	return v, nil
}

// Secret is SiteKey for a key of size random bytes.
func (s *Store) Secret(ctx context.Context, name string, size int) ([]byte, error) {
	return s.SiteKey(ctx, name, func() ([]byte, error) {
		b := make([]byte, size)
		rand.Read(b)
		return b, nil
	})
}

// probeEvery is how long a readiness probe's answer is kept: probes cost a
// write each, and a load balancer may ask every second.
const probeEvery = 2 * time.Second

// probe is the cached answer of the write probe.
type probe struct {
	mu      sync.Mutex
	checked time.Time
	err     error
}

// Ready reports whether the database takes writes. Answering a query is not
// enough: a full disk, a file gone read-only or a write lock another
// process holds let every page load while every message fails. So Ready
// writes a row, at most every probeEvery (the answer in between is the
// last one), and recovers by itself once a write succeeds again.
func (s *Store) Ready(ctx context.Context) error {
	s.probe.mu.Lock()
	defer s.probe.mu.Unlock()
	if !s.probe.checked.IsZero() && time.Since(s.probe.checked) < probeEvery {
		return s.probe.err
	}
	s.probe.err = s.writeProbe(ctx)
	s.probe.checked = time.Now()
	return s.probe.err
}

func (s *Store) writeProbe(ctx context.Context) error {
	stamp := binary.BigEndian.AppendUint64(nil, uint64(time.Now().UnixNano()))
	_, err := s.update(ctx, func(tx *Tx) error {
		_, err := tx.tx.ExecContext(ctx, `INSERT INTO secrets (name, value) VALUES ('readiness-probe', $1)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value`, stamp)
		return err
	})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, sql.ErrConnDone) || ctx.Err() != nil:
		return fmt.Errorf("database cannot write: no write went through in time (another process holding the write lock, or the database not answering): %w", err)
	}
	return fmt.Errorf("database cannot write: %w", err)
}
