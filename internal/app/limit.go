package app

import (
	"math"
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
// instances each enforces the whole limit on what it serves, so a member
// spread over N instances gets up to N times the limit (docs/operations.md).
type limiter struct {
	limit     Limit
	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	*rate.Limiter
	used     time.Time
	inflight int // attempts begun and not ended
}

func newLimiter(l Limit) *limiter {
	return &limiter{limit: l, buckets: map[string]*bucket{}}
}

func (l *limiter) bucket(key string, now time.Time) *bucket {
	if now.Sub(l.lastSweep) > l.limit.Per {
		for k, b := range l.buckets {
			if now.Sub(b.used) > l.limit.Per && b.inflight == 0 {
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

// begin starts an attempt for key that spends a token only if it fails:
// end(true, now) spends it, end(false, now) does not. Attempts under way
// count against the tokens left, so that parallel attempts cannot
// outnumber them. With none left, begin reports how long until there is
// one (at least a nanosecond) and end is nil.
func (l *limiter) begin(key string, now time.Time) (end func(failed bool, now time.Time), wait time.Duration) {
	if l == nil || l.limit.Events <= 0 {
		return func(bool, time.Time) {}, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(key, now)
	if short := float64(b.inflight+1) - b.TokensAt(now); short > 0 {
		return nil, max(time.Duration(math.Ceil(short/float64(b.Limit())*float64(time.Second))), 1)
	}
	b.inflight++
	return func(failed bool, now time.Time) {
		l.mu.Lock()
		defer l.mu.Unlock()
		b.inflight--
		if failed {
			b.ReserveN(now, 1) // spend the token
		}
	}, 0
}
