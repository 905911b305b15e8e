package store

// WatchQueries has fn told every query s runs, with its arguments, from now
// on. Call it before s is used.
func (s *Store) WatchQueries(fn func(query string, args []any)) {
	s.rq.watch, s.wq.watch = fn, fn
}
