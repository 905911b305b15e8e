package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// BackupResult describes a finished backup.
type BackupResult struct {
	Size     int64
	Duration time.Duration
}

// Backup copies the SQLite database named by dsn into a new file at dest,
// consistently and without stopping natter: VACUUM INTO reads the database
// in one read transaction, which in WAL mode never waits for writers nor
// makes them wait, and unlike the online backup API it does not start over
// whenever another connection writes (on a busy site that never finished).
// The copy is written beside dest and renamed into place only when
// complete, so a failed backup leaves no half-written file. PostgreSQL is
// backed up with pg_dump.
func Backup(ctx context.Context, dsn, dest string) (BackupResult, error) {
	start := time.Now()
	if IsPostgresURL(dsn) {
		return BackupResult{}, errors.New("store: backup: natter backs up SQLite; back up PostgreSQL with pg_dump (docs/operations.md)")
	}
	path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite://"), "sqlite:")
	if _, err := os.Stat(path); err != nil {
		return BackupResult{}, fmt.Errorf("store: backup: %w", err)
	}
	if _, err := os.Stat(dest); err == nil {
		return BackupResult{}, fmt.Errorf("store: backup: %s already exists; natter does not overwrite a backup", dest)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".partial-*")
	if err != nil {
		return BackupResult{}, fmt.Errorf("store: backup: %w", err)
	}
	tmp.Close()
	// VACUUM INTO wants a file that does not exist or is empty; the name
	// is taken only so that no one else takes it.
	defer os.Remove(tmp.Name())

	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", sqliteBusyTimeout.Milliseconds()))
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return BackupResult{}, fmt.Errorf("store: backup: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `VACUUM INTO $1`, tmp.Name()); err != nil {
		return BackupResult{}, fmt.Errorf("store: backup %s: %w", path, err)
	}
	f, err := os.Open(tmp.Name())
	if err != nil {
		return BackupResult{}, fmt.Errorf("store: backup: %w", err)
	}
	err = f.Sync()
	f.Close()
	if err != nil {
		return BackupResult{}, fmt.Errorf("store: backup: %w", err)
	}
	info, err := os.Stat(tmp.Name())
	if err != nil {
		return BackupResult{}, fmt.Errorf("store: backup: %w", err)
	}
	// Link, not rename: a file that appeared at dest meanwhile is kept.
	if err := os.Link(tmp.Name(), dest); err != nil {
		return BackupResult{}, fmt.Errorf("store: backup: %w", err)
	}
	return BackupResult{Size: info.Size(), Duration: time.Since(start)}, nil
}
