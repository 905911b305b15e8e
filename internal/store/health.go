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

// Secret returns the value kept under name, made of size random bytes the
// first time any instance asks: every instance of a site gets the same.
func (s *Store) Secret(ctx context.Context, name string, size int) ([]byte, error) {
	fresh := make([]byte, size)
	rand.Read(fresh)
	var v []byte
	_, err := s.update(ctx, func(tx *Tx) error {
		if _, err := tx.tx.ExecContext(ctx, `INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, name, fresh); err != nil {
			return err
		}
		return tx.tx.QueryRowContext(ctx, `SELECT value FROM secrets WHERE name = $1`, name).Scan(&v)
	})
	if err != nil {
		return nil, fmt.Errorf("store: secret %s: %w", name, err)
	}
	return v, nil
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
