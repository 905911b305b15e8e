package store

import "natter/internal/natter"

// Notifications returns the notifications tx has written so far.
func (tx *Tx) Notifications() []natter.Notification { return tx.notes }

// WatchQueries has fn told every query s runs, with its arguments, from now
// on. Call it before s is used.
func (s *Store) WatchQueries(fn func(query string, args []any)) {
	s.rq.watch, s.wq.watch = fn, fn
}
