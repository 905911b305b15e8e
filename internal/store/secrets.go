package store

import (
	"context"
	"crypto/rand"
	"fmt"
)

// Secret returns the site's secret called name, making one of size random
// bytes the first time it is asked for. Every instance gets the same one:
// the first to insert it wins, and the others read what it wrote.
func (s *Store) Secret(ctx context.Context, name string, size int) ([]byte, error) {
	fresh := make([]byte, size)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	if _, err := s.wq.ExecContext(ctx, `INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`,
		name, fresh); err != nil {
		return nil, fmt.Errorf("store: make secret %s: %w", name, err)
	}
	var value []byte
	if err := s.rq.QueryRowContext(ctx, `SELECT value FROM secrets WHERE name = $1`, name).Scan(&value); err != nil {
		return nil, fmt.Errorf("store: read secret %s: %w", name, err)
	}
	return value, nil
}
