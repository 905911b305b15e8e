package store

import (
	"context"
	"database/sql"
	"sync"
)

// prepared runs queries through prepared statements that it keeps, one per
// query text, so that the engine parses and plans each statement once per
// connection instead of on every call. On SQLite parsing and planning cost
// more than running natter's indexed queries; on PostgreSQL it saves a
// round trip's worth of planning too.
//
// Only natter's own fixed query texts go through it; bulk loading and
// migrations, whose texts vary or hold several statements, use the pools
// directly.
type prepared struct {
	db    *sql.DB
	stmts sync.Map // query text → *sql.Stmt

	mu sync.Mutex
	// pending are texts first met inside a transaction, to prepare once it
	// has ended (see preparedTx).
	pending map[string]bool

	// watch, when set, is told every query run through p with its
	// arguments, so that the query-plan test checks the SQL the store
	// runs rather than copies of it (export_test.go). It is set before
	// the Store is used, and never in production.
	watch func(query string, args []any)
}

// ran tells p.watch of a query.
func (p *prepared) ran(query string, args []any) {
	if p.watch != nil {
		p.watch(query, args)
	}
}

func newPrepared(db *sql.DB) *prepared { return &prepared{db: db} }

// stmt returns the prepared statement for query, preparing it on first use.
// No lock is held while preparing, which waits for a connection: a
// transaction holding SQLite's one writer connection may need p meanwhile.
func (p *prepared) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st := p.cached(query); st != nil {
		return st, nil
	}
	st, err := p.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := p.stmts.LoadOrStore(query, st); loaded {
		st.Close() // another goroutine prepared it first
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

func (p *prepared) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	p.ran(query, args)
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (p *prepared) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	p.ran(query, args)
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (p *prepared) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	p.ran(query, args)
	st, err := p.stmt(ctx, query)
	if err != nil {
		// A *sql.Row cannot be made to carry err; the unprepared query
		// fails the same way and reports it through Scan.
		return p.db.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// cached returns the statement for query if it has been prepared.
func (p *prepared) cached(query string) *sql.Stmt {
	if st, ok := p.stmts.Load(query); ok {
		return st.(*sql.Stmt)
	}
	return nil
}

// later notes query, met inside a transaction, for preparePending.
func (p *prepared) later(query string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pending == nil {
		p.pending = map[string]bool{}
	}
	p.pending[query] = true
}

// preparePending prepares the texts noted by later. It runs outside any
// transaction, when the pool has a connection to spare.
func (p *prepared) preparePending(ctx context.Context) {
	p.mu.Lock()
	pending := p.pending
	p.pending = nil
	p.mu.Unlock()
	for query := range pending {
		// An error shows again, and is reported, when the query runs.
		p.stmt(ctx, query)
	}
}

// close closes every statement.
func (p *prepared) close() {
	p.stmts.Range(func(_, st any) bool {
		st.(*sql.Stmt).Close()
		return true
	})
}

// preparedTx runs a transaction's queries through the statements of its
// pool: database/sql reuses a statement already prepared on the
// transaction's connection. A text not prepared yet runs unprepared and is
// prepared after the transaction: preparing it now would need a second
// connection, and SQLite's writer pool has one, which the transaction holds.
type preparedTx struct {
	tx *sql.Tx
	p  *prepared
}

func (t preparedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	t.p.ran(query, args)
	if st := t.p.cached(query); st != nil {
		return t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	t.p.later(query)
	return t.tx.ExecContext(ctx, query, args...)
}

func (t preparedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	t.p.ran(query, args)
	if st := t.p.cached(query); st != nil {
		return t.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	t.p.later(query)
	return t.tx.QueryContext(ctx, query, args...)
}

func (t preparedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	t.p.ran(query, args)
	if st := t.p.cached(query); st != nil {
		return t.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	t.p.later(query)
	return t.tx.QueryRowContext(ctx, query, args...)
}
