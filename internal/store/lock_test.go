package store

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A second Open of a SQLite file that a Store has open fails with a message
// naming the file and the way out; Close lets the next one in.
func TestOpenRefusesALockedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "natter.db")
	first, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	second, err := Open(t.Context(), path, Options{})
	if err == nil {
		second.Close()
		first.Close()
		t.Fatal("second Open succeeded while the first Store is open")
	}
	if !errors.Is(err, ErrLocked) {
		t.Errorf("second Open: %v; want ErrLocked", err)
	}
	for _, want := range []string{path, "another natter process", "PostgreSQL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	again.Close()
}

// lockChildEnv carries the database path to the child process of
// TestOpenRefusesAnotherProcess.
const lockChildEnv = "NATTER_TEST_LOCK_CHILD_DB"

// The same across processes, which is the case the lock is for: a child
// process (this test binary again) cannot open the file the parent holds.
func TestOpenRefusesAnotherProcess(t *testing.T) {
	if path := os.Getenv(lockChildEnv); path != "" {
		s, err := Open(t.Context(), path, Options{})
		if err == nil {
			s.Close()
			t.Fatal("child: Open succeeded")
		}
		if !errors.Is(err, ErrLocked) {
			t.Fatalf("child: %v; want ErrLocked", err)
		}
		return
	}
	path := filepath.Join(t.TempDir(), "natter.db")
	s, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestOpenRefusesAnotherProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), lockChildEnv+"="+path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child process: %v\n%s", err, out)
	}
}

// A crashed process leaves its lock file behind, but not its lock.
func TestOpenAfterALeftoverLockFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "natter.db")
	if err := os.WriteFile(lockPath(path), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatalf("Open beside a leftover lock file: %v", err)
	}
	s.Close()
}
