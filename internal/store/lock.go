package store

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// ErrLocked is returned by Open when another process (or another Store in
// this one) has the SQLite file open.
var ErrLocked = errors.New("store: database in use")

// fileLock is an exclusive flock(2) on a file beside the SQLite database.
//
// The store's caches (cache.go) and the live hub hold only while every
// write to the file goes through this Store: a second natter process on the
// same file would write around them, and its members would not see each
// other's events. SQLite's own locks do not say that, so Open takes this
// one and refuses to share. The lock goes with the open file description:
// the kernel drops it when the process dies, however it dies, so there is
// no stale lock to clean up, and a second Open in the same process conflicts
// too. The lock file itself stays; removing it on Close would let a third
// process lock a new file while the second still waits on the old one.
type fileLock struct {
	f *os.File
}

// lockPath names the lock file of the SQLite database at path.
func lockPath(path string) string { return path + ".lock" }

// lockSQLite takes the lock of the database at path without waiting.
func lockSQLite(path string) (*fileLock, error) {
	name := lockPath(path)
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: lock %s: %w", name, err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s is open in another natter process (it holds %s); "+
				"stop that process first, or use PostgreSQL to run several instances", ErrLocked, path, name)
		}
		return nil, fmt.Errorf("store: lock %s: %w", name, err)
	}
	return &fileLock{f: f}, nil
}

// release drops the lock (closing the file does it); again, it does nothing.
func (l *fileLock) release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
