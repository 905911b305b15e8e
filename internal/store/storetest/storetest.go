// Package storetest opens real databases for tests: a SQLite file in the
// test's temporary directory, and, when NATTER_TEST_POSTGRES_URL names a
// PostgreSQL database, a fresh schema in it that is dropped afterwards.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"natter/internal/store"
)

// PostgresEnv names the environment variable with the test database's URL.
const PostgresEnv = "NATTER_TEST_POSTGRES_URL"

// RequireAllEnv, when set (as .ci/run does), turns every "component
// missing" skip into a failure, so that CI cannot pass by skipping.
const RequireAllEnv = "NATTER_TEST_REQUIRE_ALL"

// SkipUnlessRequired skips the test with the message, or fails it when
// RequireAllEnv is set. The first skip of each message in a package is also
// told to whoever ran go test (see tell).
func SkipUnlessRequired(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv(RequireAllEnv) != "" {
		t.Fatalf("required by %s: "+format, append([]any{RequireAllEnv}, args...)...)
	}
	msg := fmt.Sprintf(format, args...)
	if _, told := told.LoadOrStore(msg, true); !told && !testing.Verbose() {
		tell(msg)
	}
	t.Skip(msg)
}

// told holds the skip messages this test binary has told.
var told sync.Map

// tell writes "natter: <package>: msg" where the go command that runs this
// test binary writes its own errors.
//
// go test ./... shows nothing of a passing package but its "ok" line: a
// skip's message, and anything a test or TestMain writes to its standard
// output or error, are dropped unless -v is given. So a newcomer would not
// learn that the PostgreSQL tests were skipped, nor how to run them. The
// test binary's parent is the go command, and its standard error is the
// newcomer's terminal, or the pipe or log file they sent it to: on Linux
// the binary can write there through /proc. Elsewhere the controlling
// terminal is the one way around it. A package whose result go test takes
// from its cache does not run, and says nothing again (go test -count=1
// runs it).
func tell(msg string) {
	line := fmt.Sprintf("natter: %s: %s (go test -v lists them)\n", packageDir(), msg)
	for _, path := range []string{fmt.Sprintf("/proc/%d/fd/2", os.Getppid()), "/dev/tty"} {
		if f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0); err == nil {
			_, err = f.WriteString(line)
			f.Close()
			if err == nil {
				return
			}
		}
	}
}

// packageDir is the directory go test runs the package's tests in, relative
// to the repository's root: the outermost directory with a go.mod (the
// benchmark tool is a module of its own inside natter's).
func packageDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return "?"
	}
	root := ""
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			root = dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	if root == "" {
		return wd
	}
	rel, err := filepath.Rel(root, wd)
	if err != nil {
		return wd
	}
	return filepath.ToSlash(rel)
}

// Dialects lists the engines tests can run against here: SQLite always,
// PostgreSQL when PostgresEnv is set.
func Dialects() []store.Dialect {
	if os.Getenv(PostgresEnv) != "" {
		return []store.Dialect{store.SQLite, store.Postgres}
	}
	return []store.Dialect{store.SQLite}
}

// ForEach runs fn as a subtest per dialect, each with its own empty store.
// When PostgreSQL is not configured its subtest is skipped with a message
// saying how to enable it.
func ForEach(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			fn(t, Open(t, d, store.Options{}))
		})
	}
}

// DSN returns a connection string for an empty database of dialect d, and
// registers its removal with t. For PostgreSQL it skips the test when
// PostgresEnv is unset.
func DSN(t testing.TB, d store.Dialect) string {
	t.Helper()
	if d == store.SQLite {
		return filepath.Join(t.TempDir(), "natter.db")
	}
	base := os.Getenv(PostgresEnv)
	if base == "" {
		SkipUnlessRequired(t, "PostgreSQL tests skipped: set %s (for example postgres://postgres@127.0.0.1:5432/test) to run them", PostgresEnv)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)

	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		admin.Close()
		t.Fatalf("create test schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop test schema: %v", err)
		}
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema) // pgx sends unknown parameters as run-time settings
	u.RawQuery = q.Encode()
	return u.String()
}

// Open returns a migrated, empty store of dialect d, closed when the test
// ends.
func Open(t testing.TB, d store.Dialect, opts store.Options) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), DSN(t, d), opts)
	if err != nil {
		t.Fatalf("open %s store: %v", d, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// OpenRaw opens dsn (from DSN) with database/sql alone, for a test that
// shapes a database by hand: the state a migration starts from, or a
// sequence set where no other test's numbers are. It is closed when the
// test ends.
func OpenRaw(t testing.TB, d store.Dialect, dsn string) *sql.DB {
	t.Helper()
	driver := "sqlite"
	if d == store.Postgres {
		driver = "pgx"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
