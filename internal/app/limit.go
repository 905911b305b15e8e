package app

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limit allows Events per Per, in bursts of up to Events. The zero Limit
// allows everything.
type Limit struct {
	Events int
	Per    time.Duration
}

// limiter keeps one token bucket per key (a member, an address), forgetting
// keys idle long enough to be full again. It lives in memory: with several
// instances each enforces its own share.
type limiter struct {
	limit     Limit
	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	*rate.Limiter
	used time.Time
}

func newLimiter(l Limit) *limiter {
	return &limiter{limit: l, buckets: map[string]*bucket{}}
}

func (l *limiter) bucket(key string, now time.Time) *bucket {
	if now.Sub(l.lastSweep) > l.limit.Per {
		for k, b := range l.buckets {
			if now.Sub(b.used) > l.limit.Per {
				delete(l.buckets, k)
			}
		}
		l.lastSweep = now
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{Limiter: rate.NewLimiter(rate.Every(l.limit.Per/time.Duration(l.limit.Events)), l.limit.Events)}
		l.buckets[key] = b
	}
	b.used = now
	return b
}

// allow takes a token for key, or reports how long until one is free.
func (l *limiter) allow(key string, now time.Time) (bool, time.Duration) {
	if l == nil || l.limit.Events <= 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.bucket(key, now).ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// wait reports how long until key has a token, without taking one: login
// checks it first and spends a token only on a failed attempt.
func (l *limiter) wait(key string, now time.Time) time.Duration {
	if l == nil || l.limit.Events <= 0 {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.bucket(key, now).ReserveN(now, 1)
	d := r.DelayFrom(now)
	r.CancelAt(now)
	return d
}
