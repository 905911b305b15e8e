package store

import (
	"context"
	"natter/internal/natter"
	"path/filepath"
	"testing"
)

// A statement first met inside a transaction runs unprepared there (the
// transaction holds SQLite's one writer connection) and is prepared once
// the transaction is over; later transactions reuse it.
func TestPreparedAfterTransaction(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "natter.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const q = `SELECT count(*) FROM users WHERE id = $1`
	count := func() {
		t.Helper()
		_, err := s.Update(ctx, func(ntx natter.Tx) error {
			tx := ntx.(*Tx)
			var n int
			return tx.q.QueryRowContext(ctx, q, 1).Scan(&n)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	count()
	if s.wq.cached(q) == nil {
		t.Fatal("the statement was not prepared after the transaction")
	}
	count()

	// Reads prepare on first use.
	var n int
	if err := s.rq.QueryRowContext(ctx, q, 1).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if s.rq.cached(q) == nil {
		t.Error("the read statement was not kept")
	}
}
