// Package store holds all of natter's SQL. One Store serves SQLite (the
// embedded default) and PostgreSQL (for several instances) through
// database/sql; nothing above this package sees SQL.
//
// Writes go through Update, which runs a function in one transaction with one
// clock reading, the way every use case in package app expects. Reads that
// need no transaction are methods on Store.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"natter/internal/natter"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib" // also registers the "pgx" driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect names the SQL engine behind a Store.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Options tune Open. The zero value is sensible.
type Options struct {
	// MaxConns bounds the PostgreSQL pool, or SQLite's reader pool.
	// Zero means a default suited to the engine.
	MaxConns int
	// Now is the clock; nil means time.Now. Tests set it.
	Now func() time.Time
	// StatementTimeout bounds every PostgreSQL statement (the server's
	// statement_timeout, unless the URL sets one); zero means none.
	StatementTimeout time.Duration
}

// Store is natter's database. It is safe for concurrent use.
type Store struct {
	dialect Dialect
	// read serves queries; write serves transactions. On SQLite write is a
	// single connection (SQLite has one writer; queuing in Go is cheaper than
	// SQLITE_BUSY retries), on PostgreSQL both are the same pool.
	read, write *sql.DB
	// rq and wq run natter's queries on read and write through prepared
	// statements.
	rq, wq *prepared
	// cache keeps hot reads on SQLite (cache.go); on PostgreSQL its
	// caches are nil and keep nothing.
	cache *caches
	// ckpt checkpoints SQLite's WAL; nil on PostgreSQL.
	ckpt *checkpointer
	// probe keeps the readiness probe's answer (health.go).
	probe probe
	// lock keeps other processes off the SQLite file (lock.go).
	lock *fileLock
	now  func() time.Time
}

// Open connects to the database named by dsn — a postgres:// URL, or else a
// SQLite file path (optionally prefixed "sqlite:") — and applies any pending
// migrations.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	s := &Store{now: opts.Now}
	if s.now == nil {
		s.now = time.Now
	}
	var err error
	if IsPostgresURL(dsn) {
		err = s.openPostgres(dsn, opts)
	} else {
		err = s.openSQLite(ctx, dsn, opts)
	}
	if err != nil {
		s.lock.release()
		return nil, err
	}
	s.rq, s.wq = newPrepared(s.read), newPrepared(s.write)
	if s.read == s.write {
		s.wq = s.rq
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// IsPostgresURL reports whether dsn selects PostgreSQL.
func IsPostgresURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

func (s *Store) openPostgres(dsn string, opts Options) error {
	cfg, err := PostgresConfig(dsn, opts.StatementTimeout)
	if err != nil {
		return fmt.Errorf("store: open postgres: %w", err)
	}
	db := stdlib.OpenDB(*cfg)
	n := opts.MaxConns
	if n <= 0 {
		n = 20
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(5 * time.Minute)
	s.dialect, s.read, s.write = Postgres, db, db
	s.cache = &caches{} // nothing kept: other instances write too
	return nil
}

// Every wait on PostgreSQL has an end: a server that accepts connections
// but never answers, or a connection that a failover or a NAT silently
// dropped, must not hold a request, the start or the listener for as long
// as TCP takes to give up (some fifteen minutes).
const (
	// pgConnectTimeout bounds connecting, unless the URL's
	// connect_timeout says otherwise.
	pgConnectTimeout = 5 * time.Second
	// pgKeepAlive probes an idle connection after this long, then every
	// pgKeepAlive/3, and drops it after three unanswered probes.
	pgKeepAlive = 15 * time.Second
)

// PostgresConfig parses dsn and sets natter's limits where it sets none: a
// connect timeout, TCP keepalives, and statementTimeout as the server's
// statement_timeout (zero: none). Calls are also bounded by their
// contexts: pgx interrupts a call whose context ends by putting a deadline
// on its connection, which works when the server does not answer.
func PostgresConfig(dsn string, statementTimeout time.Duration) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = pgConnectTimeout
	}
	dialer := &net.Dialer{
		Timeout: cfg.ConnectTimeout,
		KeepAliveConfig: net.KeepAliveConfig{
			Enable:   true,
			Idle:     pgKeepAlive,
			Interval: pgKeepAlive / 3,
			Count:    3,
		},
	}
	cfg.DialFunc = dialer.DialContext
	if _, set := cfg.RuntimeParams["statement_timeout"]; !set && statementTimeout > 0 {
		cfg.RuntimeParams["statement_timeout"] = strconv.FormatInt(statementTimeout.Milliseconds(), 10)
	}
	return cfg, nil
}

// sqliteBusyTimeout is how long a SQLite connection waits for another
// process's lock.
const sqliteBusyTimeout = 10 * time.Second

func (s *Store) openSQLite(ctx context.Context, dsn string, opts Options) error {
	path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite://"), "sqlite:")
	if path == "" || strings.ContainsAny(path, "?#") {
		return fmt.Errorf("store: bad SQLite path %q", path)
	}
	var err error
	if s.lock, err = lockSQLite(path); err != nil {
		return err
	}
	// WAL lets readers run beside the writer; synchronous=NORMAL in WAL mode
	// loses nothing when the process crashes (only on power loss may the last
	// commits roll back); the busy timeout covers other processes.
	pragmas := []string{
		fmt.Sprintf("busy_timeout(%d)", sqliteBusyTimeout.Milliseconds()),
		"journal_mode(WAL)",
		"synchronous(NORMAL)",
		"foreign_keys(1)",
	}
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	base := "file:" + (&url.URL{Path: path}).EscapedPath()

	wq := cloneValues(q)
	wq.Set("_txlock", "immediate") // take the write lock at BEGIN, not mid-transaction
	// Commits leave checkpoints to the checkpointer (checkpoint.go); a log
	// grown large (by a bulk load) shrinks back when it starts afresh.
	wq.Add("_pragma", "wal_autocheckpoint(0)")
	wq.Add("_pragma", "journal_size_limit(67108864)")
	write, err := sql.Open("sqlite", base+"?"+wq.Encode())
	if err != nil {
		return fmt.Errorf("store: open sqlite: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)

	rq := cloneValues(q)
	rq.Add("_pragma", "query_only(1)")
	read, err := sql.Open("sqlite", base+"?"+rq.Encode())
	if err != nil {
		write.Close()
		return fmt.Errorf("store: open sqlite: %w", err)
	}
	n := opts.MaxConns
	if n <= 0 {
		n = 8
	}
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	read.SetConnMaxIdleTime(0)
	read.SetConnMaxLifetime(0)

	s.dialect, s.read, s.write = SQLite, read, write
	s.cache = newCaches()
	// The writer creates the file and switches it to WAL before any reader,
	// which is opened query-only, touches it.
	if err := pingSQLite(ctx, write); err != nil {
		s.Close()
		return fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	if s.ckpt, err = startCheckpointer(base+"?"+q.Encode(), write); err != nil {
		s.Close()
		return err
	}
	return nil
}

// pingSQLite opens the first connection. Switching a new file to WAL needs
// it alone, and when two processes try at once one of them gets SQLITE_BUSY
// straight away rather than through the busy handler (waiting could
// deadlock), so it waits its turn here instead, as long as the busy timeout.
func pingSQLite(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(sqliteBusyTimeout)
	for delay := time.Millisecond; ; delay = min(2*delay, 100*time.Millisecond) {
		err := db.PingContext(ctx)
		if !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
	}
}

func isBusy(err error) bool {
	var sqlErr *sqlite.Error
	return errors.As(err, &sqlErr) && sqlErr.Code()&0xff == sqlite3.SQLITE_BUSY
}

func cloneValues(v url.Values) url.Values {
	c := make(url.Values, len(v))
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// Dialect reports which engine the Store uses.
func (s *Store) Dialect() Dialect { return s.dialect }

// Close closes the database.
func (s *Store) Close() error {
	if s.rq != nil {
		s.rq.close()
		if s.wq != s.rq {
			s.wq.close()
		}
	}
	var err error
	if s.ckpt != nil {
		err = s.ckpt.close()
	}
	err = errors.Join(err, s.write.Close())
	if s.read != s.write {
		err = errors.Join(err, s.read.Close())
	}
	return errors.Join(err, s.lock.release())
}

// Ping checks the database answers; /readyz uses it.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.write.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// PoolStats are a connection pool's statistics, for monitoring.
type PoolStats = sql.DBStats

// Pools names the Store's connection pools: "read" and "write" on SQLite
// (one writer connection, a pool of readers), "pool" on PostgreSQL.
func (s *Store) Pools() []string {
	if s.read == s.write {
		return []string{"pool"}
	}
	return []string{"read", "write"}
}

// PoolStats reports the statistics of the pool that Pools names.
func (s *Store) PoolStats(pool string) PoolStats {
	if pool == "write" {
		return s.write.Stats()
	}
	return s.read.Stats()
}

// Now is the Store's clock.
func (s *Store) Now() time.Time { return s.now() }

// dbtx is what both *sql.DB and *sql.Tx offer; query helpers take it so that
// the same helper serves a plain read and a read inside a transaction.
type dbtx interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Store and Tx are natter's storage.
var (
	_ natter.Store = (*Store)(nil)
	_ natter.Tx    = (*Tx)(nil)
)

// Tx is one write transaction. Its methods are the only way to change data.
type Tx struct {
	tx    *sql.Tx
	q     preparedTx // tx's queries, through the store's prepared statements
	store *Store
	now   time.Time
	// notes collects the notifications written, so that the caller can
	// publish them once the transaction has committed.
	notes []natter.Notification
	// What the caches forget when the transaction commits (cache.go).
	changedUsers []int64
	changedPosts bool
	changedNames bool
	// posted are the posts created, unposted those deleted, announced to
	// other instances' timelines on PostgreSQL (announce).
	posted, unposted []int64
}

// Now is the single clock reading of this transaction: every row it writes
// carries the same time.
func (tx *Tx) Now() time.Time { return tx.now }

// Update runs fn in one write transaction and commits it if fn returns nil;
// any error or panic rolls it back. On PostgreSQL a serialization failure or
// deadlock is retried a few times, so fn must not have effects outside tx.
// It returns the notifications the committed transaction wrote.
func (s *Store) Update(ctx context.Context, fn func(natter.Tx) error) ([]natter.Notification, error) {
	const attempts = 4
	// Statements first met in the transaction are prepared once it is
	// over (see preparedTx).
	defer s.wq.preparePending(context.WithoutCancel(ctx))
	for i := 1; ; i++ {
		notes, err := s.update(ctx, func(tx *Tx) error { return fn(tx) })
		if err == nil || i == attempts || !retryable(err) {
			return notes, err
		}
	}
}

func (s *Store) update(ctx context.Context, fn func(*Tx) error) (notes []natter.Notification, err error) {
	sqltx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		if ctx.Err() != nil {
			// Queued behind other writes or another process's lock:
			// nothing was written, and the caller's deadline says so.
			return nil, fmt.Errorf("store: gave up waiting to write: %w", err)
		}
		return nil, fmt.Errorf("store: begin: %w", err)
	}
	tx := &Tx{tx: sqltx, q: preparedTx{sqltx, s.wq}, store: s, now: s.now().UTC().Truncate(time.Microsecond)}
	defer func() {
		if p := recover(); p != nil {
			sqltx.Rollback()
			panic(p)
		}
		if err != nil {
			sqltx.Rollback()
		}
	}()
	if err := fn(tx); err != nil {
		return nil, err
	}
	if err := tx.announce(ctx); err != nil {
		return nil, err
	}
	if err := sqltx.Commit(); err != nil {
		return nil, fmt.Errorf("store: commit: %w", err)
	}
	s.cache.committed(tx)
	return tx.notes, nil
}

// retryable reports whether a PostgreSQL transaction failed only because of
// a concurrent one and may succeed if run again.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "40001" || pgErr.Code == "40P01"
	}
	return false
}

// uniqueViolation reports whether err is a unique-constraint violation, and
// on which column, as far as the engine says.
func uniqueViolation(err error) (detail string, ok bool) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return pgErr.ConstraintName, true
	}
	var sqlErr *sqlite.Error
	if errors.As(err, &sqlErr) && (sqlErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || sqlErr.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) {
		return sqlErr.Error(), true
	}
	return "", false
}

// micros converts a time to the Unix microseconds stored in every time column.
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros is micros' inverse.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }
