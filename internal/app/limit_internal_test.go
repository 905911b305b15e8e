package app

import (
	"context"
	"runtime"
	"testing"
)

// One client's flood fills its own share of the hashing queue and is
// refused at once; another client still gets a place.
func TestHashQueueFairShare(t *testing.T) {
	q := newHashQueue(1, 4, 2)
	release, err := q.acquire(context.Background(), "flood") // runs
	if err != nil {
		t.Fatal(err)
	}
	second := queued(t, q, "flood", 2) // waits for the worker
	if _, err := q.acquire(context.Background(), "flood"); err != errHashingBusy {
		t.Fatalf("a third hash from the flood = %v, want errHashingBusy", err)
	}
	other := queued(t, q, "other", 3)
	release()
	for _, c := range []chan error{second, other} {
		if err := <-c; err != nil {
			t.Fatalf("a queued hash: %v", err)
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.admitted != 0 || len(q.byKey) != 0 {
		t.Errorf("after every release: admitted %d, byKey %v", q.admitted, q.byKey)
	}
}

// queued starts acquire(key) in the background and returns once the queue
// holds admitted places; the channel gets its result once it ran (its
// release done).
func queued(t *testing.T, q *hashQueue, key string, admitted int) chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		release, err := q.acquire(context.Background(), key)
		if err == nil {
			release()
		}
		done <- err
	}()
	for {
		q.mu.Lock()
		n := q.admitted
		q.mu.Unlock()
		if n >= admitted {
			return done
		}
		runtime.Gosched()
	}
}

// A full queue refuses at once.
func TestHashQueueFull(t *testing.T) {
	q := newHashQueue(1, 1, 5)
	r1, err := q.acquire(context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	defer r1()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := q.acquire(ctx, "b"); done <- err }()
	for {
		q.mu.Lock()
		n := q.admitted
		q.mu.Unlock()
		if n == 2 {
			break
		}
		runtime.Gosched()
	}
	if _, err := q.acquire(context.Background(), "c"); err != errHashingBusy {
		t.Errorf("acquire on a full queue = %v, want errHashingBusy", err)
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("a cancelled wait = %v", err)
	}
}

func TestAddressKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":            "192.0.2.1",
		"::ffff:192.0.2.1":     "192.0.2.1",
		"2001:db8:1:2::1":      "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::9": "2001:db8:1:2::/64",
		"garbage":              "garbage",
	} {
		if got := addressKey(in); got != want {
			t.Errorf("addressKey(%q) = %q, want %q", in, got, want)
		}
	}
}
