package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Commits leave the WAL alone, and the checkpointer copies it into the
// database file by itself.
func TestCheckpointer(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "natter.db")
	s := openSQLite(t, path)

	var auto int
	_, err := s.update(ctx, func(tx *Tx) error {
		return tx.tx.QueryRowContext(ctx, `PRAGMA wal_autocheckpoint`).Scan(&auto)
	})
	if err != nil || auto != 0 {
		t.Fatalf("the writer's wal_autocheckpoint = %d, %v; want 0", auto, err)
	}

	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size()
	// 2 MiB of rows, which only a checkpoint moves from the WAL into the
	// database file.
	writePages(t, s, 0, 512)
	for deadline := time.Now().Add(10 * time.Second); size() < before+2<<20; {
		if time.Now().After(deadline) {
			t.Fatalf("database file %d bytes, %d before the writes: the checkpointer did not copy the WAL", size(), before)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// All of it: a checkpoint now finds every frame copied.
	_, logged, copied, err := walCheckpoint(ctx, s.ckpt.own, "PASSIVE")
	if err != nil || logged != copied {
		t.Errorf("checkpoint: %d frames logged, %d copied, %v", logged, copied, err)
	}
}

// Under writes that never pause, and readers beside them, the log still
// starts afresh again and again rather than growing without end. The
// checkpointer's turns are taken here, between batches of writes, so that
// the test does not depend on its timer keeping up with the writer.
func TestCheckpointerRestartsTheWAL(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "natter.db")
	s := openSQLite(t, path)
	c := s.ckpt
	c.halt()
	writePages(t, s, 0, 1)
	before := walRestarts(t, path)

	readCtx, stopReading := context.WithCancel(ctx)
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			for readCtx.Err() == nil {
				var n int
				s.read.QueryRowContext(readCtx, `SELECT count(*) FROM schema_migrations`).Scan(&n)
			}
		})
	}
	// Three restarts at the least, each after restartFrames pages: far
	// fewer rows than the cap, unless the log never starts afresh.
	const wantRestarts, maxRows = 3, 40 * restartFrames
	restarts, rows := 0, 0
	for ; restarts < wantRestarts && rows < maxRows; rows += 100 {
		writePages(t, s, 1+rows, 100)
		// A reader in the way makes a turn give up and pause; the pause
		// is the loop's business, not this test's.
		c.resume = time.Time{}
		_, restarted, err := c.turn(ctx)
		if err != nil {
			t.Fatalf("turn: %v", err)
		}
		if restarted {
			restarts++
		}
	}
	stopReading()
	readers.Wait()
	if restarts < wantRestarts {
		t.Fatalf("the log started afresh %d times while %d rows went through it, want %d", restarts, rows, wantRestarts)
	}
	// The log's header counts a restart when the next commit writes the
	// log from its start.
	writePages(t, s, 1+rows, 1)
	if n := walRestarts(t, path) - before; n < wantRestarts {
		t.Errorf("the WAL header counts %d restarts after %d reported ones", n, restarts)
	}
}

// walRestarts reads the checkpoint sequence number of the WAL file's header,
// which counts the times the log started afresh.
func walRestarts(t *testing.T, path string) uint32 {
	t.Helper()
	f, err := os.Open(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var hdr [32]byte
	if _, err := io.ReadFull(f, hdr[:]); err != nil {
		t.Fatal(err)
	}
	return binary.BigEndian.Uint32(hdr[12:16])
}

// A reader that holds on to the old log (a long backup) makes the restart
// give up; the checkpointer then leaves the writer alone for a while, and
// starts the log afresh once the reader is done.
func TestCheckpointerPausesForALongReader(t *testing.T) {
	ctx := context.Background()
	s := openSQLite(t, filepath.Join(t.TempDir(), "natter.db"))
	c := s.ckpt
	c.halt() // its turns are taken here

	writePages(t, s, 0, 10)
	conn, err := s.read.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	reader, err := conn.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := reader.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	writePages(t, s, 10, restartFrames)

	if _, restarted, err := c.turn(ctx); err != nil || restarted {
		t.Fatalf("turn beside a reader: restarted %v, %v; want it cut short", restarted, err)
	}
	pause := c.pause
	if pause <= 0 || !c.resume.After(time.Now()) {
		t.Fatalf("no pause after a restart cut short (pause %v, resume %v)", c.pause, c.resume)
	}
	if _, restarted, err := c.turn(ctx); err != nil || restarted || c.pause != pause {
		t.Fatalf("turn during the pause: restarted %v, pause %v, %v; want no restart tried", restarted, c.pause, err)
	}

	reader.Rollback()
	c.resume = time.Time{}
	if _, restarted, err := c.turn(ctx); err != nil || !restarted || c.pause != 0 {
		t.Fatalf("turn once the reader is done: restarted %v, pause %v, %v", restarted, c.pause, err)
	}
}

// The checkpointer looks at an idle log less and less often, and at a
// growing one often again.
func TestNextCheckpoint(t *testing.T) {
	every := checkpointEvery
	for range 10 {
		every = nextCheckpoint(every, true)
	}
	if every != idleCheckpointEvery {
		t.Errorf("after ten idle turns the wait is %v, want %v", every, idleCheckpointEvery)
	}
	if got := nextCheckpoint(every, false); got != checkpointEvery {
		t.Errorf("after a turn that found the log grown the wait is %v, want %v", got, checkpointEvery)
	}
	if got := nextCheckpoint(checkpointEvery, true); got != 2*checkpointEvery {
		t.Errorf("after one idle turn the wait is %v, want %v", got, 2*checkpointEvery)
	}
}

func openSQLite(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// writePages commits n rows of 4,000 bytes, one transaction each.
func writePages(t *testing.T, s *Store, from, n int) {
	t.Helper()
	ctx := context.Background()
	pad := strings.Repeat("x", 4000)
	for i := from; i < from+n; i++ {
		_, err := s.update(ctx, func(tx *Tx) error {
			_, err := tx.tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, 0)`,
				1_000_000+i, pad)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
