package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sync"
	"time"
)

const (
	// checkpointEvery is how often the checkpointer looks at the WAL while
	// it is being written; with nothing written, it looks less and less
	// often, down to every idleCheckpointEvery.
	checkpointEvery     = 100 * time.Millisecond
	idleCheckpointEvery = time.Second
	// restartFrames is the WAL length (in pages) past which the checkpointer
	// has the writer start it afresh: SQLite's own default checkpoint size.
	restartFrames = 1000
	// restartWait bounds how long that restart waits for readers of the old
	// log (a backup, say) while it holds up writers; after one that waited
	// in vain, the next waits a pause that doubles up to maxRestartPause.
	restartWait     = 100 * time.Millisecond
	maxRestartPause = 10 * time.Second
)

// A checkpointer copies SQLite's write-ahead log back into the database
// file beside the writer rather than in its commits.
//
// Left to itself SQLite runs a checkpoint inside the commit that takes the
// WAL past 1,000 pages: one send in a hundred waited some 10 ms for it,
// which was all of delivery's p99. natter turns that off on the writer
// (wal_autocheckpoint=0) and, every checkpointEvery:
//
//   - runs a PASSIVE checkpoint from a connection of its own, which copies
//     the log while the writer goes on writing and readers go on reading;
//   - once the log is past restartFrames, has the writer run a RESTART
//     checkpoint in its turn. The PASSIVE one has just copied nearly
//     everything, so this one copies the few pages written since, waits for
//     readers of the old log to finish, and lets the next commit write the
//     log from its start. Without it a busy writer would never find the log
//     wholly copied, and the file would grow without end. A reader that
//     holds on to the old log (a long backup) makes it give up and wait a
//     while before it tries again, rather than hold writers up each turn.
type checkpointer struct {
	own    *sql.DB // one connection for PASSIVE checkpoints
	writer *sql.DB // the Store's writer
	stop   chan struct{}
	halted sync.Once
	done   sync.WaitGroup

	// Kept by the loop: no RESTART before resume.
	pause  time.Duration
	resume time.Time
}

func startCheckpointer(dsn string, writer *sql.DB) (*checkpointer, error) {
	own, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite checkpointer: %w", err)
	}
	own.SetMaxOpenConns(1)
	own.SetMaxIdleConns(1)
	own.SetConnMaxIdleTime(0)
	own.SetConnMaxLifetime(0)
	c := &checkpointer{own: own, writer: writer, stop: make(chan struct{})}
	c.done.Go(c.loop)
	return c, nil
}

func (c *checkpointer) loop() {
	every := checkpointEvery
	t := time.NewTimer(every)
	defer t.Stop()
	last := -1
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		// A failed turn (another process checkpointing, say) costs
		// nothing but itself: the next one copies the rest.
		logged, _, err := c.turn(context.Background())
		every = nextCheckpoint(every, err == nil && logged == last)
		last = logged
		t.Reset(every)
	}
}

// nextCheckpoint is the wait before the next turn: checkpointEvery after
// a turn that found the log grown, twice the last wait (up to
// idleCheckpointEvery) after one that found it as it was.
func nextCheckpoint(every time.Duration, unchanged bool) time.Duration {
	if !unchanged {
		return checkpointEvery
	}
	return min(2*every, idleCheckpointEvery)
}

// turn is one look at the WAL. It reports the pages in the log and whether
// it was started afresh.
func (c *checkpointer) turn(ctx context.Context) (logged int, restarted bool, err error) {
	_, logged, _, err = walCheckpoint(ctx, c.own, "PASSIVE")
	if err != nil || logged < restartFrames || time.Now().Before(c.resume) {
		return logged, false, err
	}
	busy, err := c.restart(ctx)
	if err != nil || busy {
		// A reader holds on to the old log: leave the writer alone for a
		// while, longer each time, and try again.
		c.pause = min(max(2*c.pause, 2*checkpointEvery), maxRestartPause)
		c.resume = time.Now().Add(c.pause)
		return logged, false, err
	}
	c.pause = 0
	return logged, true, nil
}

// restart runs a RESTART checkpoint on the writer's connection, in the
// writer's queue, waiting at most restartWait for readers.
func (c *checkpointer) restart(ctx context.Context) (busy bool, err error) {
	conn, err := c.writer.Conn(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA busy_timeout = %d`, restartWait.Milliseconds())); err != nil {
		return false, err
	}
	busy, _, _, err = walCheckpoint(ctx, conn, "RESTART")
	if _, rerr := conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA busy_timeout = %d`, sqliteBusyTimeout.Milliseconds())); rerr != nil {
		// A writer that no longer waits for other processes must not
		// go back to the pool.
		conn.Raw(func(any) error { return driver.ErrBadConn })
		return busy, rerr
	}
	return busy, err
}

// halt ends the loop; turns may still be taken by hand (tests do).
func (c *checkpointer) halt() {
	c.halted.Do(func() { close(c.stop) })
	c.done.Wait()
}

func (c *checkpointer) close() error {
	c.halt()
	return c.own.Close()
}

// walCheckpoint runs one checkpoint and reports whether it was cut short
// by a reader or another checkpoint, the pages in the log, and how many of
// them are now in the database file.
func walCheckpoint(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, mode string) (busy bool, logged, copied int, err error) {
	err = q.QueryRowContext(ctx, `PRAGMA wal_checkpoint(`+mode+`)`).Scan(&busy, &logged, &copied)
	return busy, logged, copied, err
}
