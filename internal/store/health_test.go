package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"natter/internal/natter"
)

// openFaultStore opens a migrated SQLite store in the test's directory.
func openFaultStore(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "natter.db")
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// eventually calls f until it returns nil, or fails the test after a
// bound that is a guard against hanging, not a measurement.
func eventually(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A database that answers queries but takes no writes is not ready, and
// says why; reads go on; it is ready again by itself once writes work.
func TestReadyWhenUnwritable(t *testing.T) {
	ctx := context.Background()
	s, _ := openFaultStore(t)
	if err := s.Ready(ctx); err != nil {
		t.Fatalf("a fresh database: %v", err)
	}

	// The writer's file turns read-only: SQLite answers every write
	// with SQLITE_READONLY, as for a file or mount gone read-only.
	if _, err := s.write.ExecContext(ctx, `PRAGMA query_only = 1`); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Ready while read-only", func() error {
		if err := s.Ready(ctx); err == nil || !strings.Contains(err.Error(), "cannot write") || !strings.Contains(err.Error(), "readonly") {
			return fmt.Errorf("Ready = %v, want the read-only database named", err)
		}
		return nil
	})
	if _, err := s.SchemaVersion(ctx); err != nil {
		t.Errorf("reads fail too: %v", err)
	}

	if _, err := s.write.ExecContext(ctx, `PRAGMA query_only = 0`); err != nil {
		t.Fatal(err)
	}
	eventually(t, "Ready after recovery", func() error { return s.Ready(ctx) })
}

// Another process holding SQLite's write lock (a shell left in a
// transaction, a lost lock) makes the database not ready within the probe's
// deadline, and a queued write gives up at its deadline with a clear error
// instead of waiting out the busy timeout and more.
func TestReadyWhenLockHeld(t *testing.T) {
	ctx := context.Background()
	s, path := openFaultStore(t)
	other, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	holder, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := holder.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}

	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if err := s.Ready(short); err == nil || !strings.Contains(err.Error(), "cannot write") {
		t.Errorf("Ready with the lock held elsewhere = %v, want not ready", err)
	}
	short2, cancel2 := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel2()
	_, err = s.Update(short2, func(tx natter.Tx) error {
		_, err := tx.CreateUser(short2, "alice", "alice@example.com", "x")
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "gave up waiting to write") {
		t.Errorf("a write queued behind the lock: %v, want it to give up at its deadline", err)
	}

	if _, err := holder.ExecContext(ctx, `ROLLBACK`); err != nil {
		t.Fatal(err)
	}
	holder.Close()
	eventually(t, "Ready after the lock is released", func() error { return s.Ready(ctx) })
}

// natter backup copies a database that is being written to: the copy is
// complete and consistent (every message acknowledged before it began is
// there, and nothing from a half-done transaction).
func TestBackupUnderWriteLoad(t *testing.T) {
	ctx := context.Background()
	s, path := openFaultStore(t)
	var alice, bob natter.Account
	_, err := s.Update(ctx, func(tx natter.Tx) (err error) {
		if alice, err = tx.CreateUser(ctx, "alice", "alice@example.com", "x"); err != nil {
			return err
		}
		bob, err = tx.CreateUser(ctx, "bob", "bob@example.com", "x")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	var (
		mu    sync.Mutex
		acked []int64
	)
	loadCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	started := make(chan struct{})
	var once sync.Once
	for w := 0; w < 4; w++ {
		wg.Go(func() {
			for n := 0; loadCtx.Err() == nil; n++ {
				var m natter.Message
				_, err := s.Update(loadCtx, func(tx natter.Tx) (err error) {
					m, _, err = tx.CreateMessage(loadCtx, alice.Ref(), bob.Ref(), strings.Repeat("x", 140))
					return err
				})
				if err != nil {
					continue // cancelled at the end: not acknowledged
				}
				mu.Lock()
				acked = append(acked, m.ID)
				if len(acked) == 200 {
					once.Do(func() { close(started) })
				}
				mu.Unlock()
			}
		})
	}
	<-started
	mu.Lock()
	before := append([]int64(nil), acked...)
	mu.Unlock()

	dest := filepath.Join(t.TempDir(), "backup.db")
	res, err := Backup(ctx, path, dest)
	stop()
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if res.Size <= 0 {
		t.Errorf("backup size %d", res.Size)
	}

	copyDB, err := sql.Open("sqlite", "file:"+dest+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer copyDB.Close()
	var check string
	if err := copyDB.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q %v", check, err)
	}
	have := map[int64]bool{}
	rows, err := copyDB.Query(`SELECT id FROM messages`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		have[id] = true
	}
	rows.Close()
	for _, id := range before {
		if !have[id] {
			t.Fatalf("message %d, acknowledged before the backup began, is not in it (%d of %d there)", id, len(have), len(before))
		}
	}
	// Consistent: bob's unread counter, kept by the same transactions,
	// matches the messages the copy holds.
	var unread int
	if err := copyDB.QueryRow(`SELECT unread_messages FROM users WHERE id = $1`, bob.ID).Scan(&unread); err != nil {
		t.Fatal(err)
	}
	if unread != len(have) {
		t.Errorf("the copy counts %d unread for %d messages: not one moment's state", unread, len(have))
	}

	if _, err := Backup(ctx, path, dest); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("a second backup over the first: %v, want a refusal", err)
	}
}
