package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"

	"natter/internal/app"
	"natter/internal/live"
	"natter/internal/natter"
	"natter/internal/store"
)

// runWrites is scenario 5: messages per second through the app layer, in
// this process: SQLite with one instance, PostgreSQL with two (two Stores
// and Apps on one database, each with its own pool, hub and LISTEN
// connection, as two natter processes would have).
func (r *runner) runWrites(ctx context.Context) error {
	dbPath := filepath.Join(r.work, "writes.db")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(dbPath + suffix)
	}
	w, err := r.writeRun(ctx, "SQLite", dbPath, 1)
	if err != nil {
		return err
	}
	w.Note = "WAL, synchronous=NORMAL: a commit is in the WAL file (the OS) before SendMessage returns, so it survives a crash of the process; only a power loss may roll back the last commits"
	r.res.Writes = append(r.res.Writes, w)

	if r.opt.pgURL == "" {
		return nil
	}
	name := fmt.Sprintf("natter_bench_%d", os.Getpid())
	dsn, err := createPostgresDatabase(ctx, r.opt.pgURL, name)
	if err != nil {
		return err
	}
	defer func() {
		if err := dropPostgresDatabase(context.Background(), r.opt.pgURL, name); err != nil {
			logf("drop %s: %v", name, err)
		}
	}()
	w, err = r.writeRun(ctx, "PostgreSQL", dsn, 2)
	if err != nil {
		return err
	}
	w.Note = "two instances (two Store+App+hub+LISTEN connection sets) in one process, workers split between them; synchronous_commit as configured on the server"
	r.res.Writes = append(r.res.Writes, w)
	return nil
}

func (r *runner) writeRun(ctx context.Context, engine, dsn string, instances int) (WriteRun, error) {
	o := r.opt
	wr := WriteRun{Engine: engine, Instances: instances, Workers: o.writeWorkers}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	apps := make([]*app.App, instances)
	var first *store.Store
	lctx, stopListeners := context.WithCancel(ctx)
	defer stopListeners()
	for i := range apps {
		st, err := store.Open(ctx, dsn, store.Options{})
		if err != nil {
			return wr, err
		}
		defer st.Close()
		if first == nil {
			first = st
		}
		hub := live.NewHub(8)
		if st.Dialect() == store.Postgres {
			go live.NewListener(dsn, hub, quiet).Run(lctx)
		}
		if apps[i], err = app.New(st, hub, app.Config{SendPerMember: app.NoLimit}); err != nil {
			return wr, err
		}
	}
	refs, err := first.BulkLoader().CreateUsers(ctx, "w", o.writeMembers, "bench-no-password")
	if err != nil {
		return wr, err
	}
	users := make([]natter.Account, len(refs))
	for i, u := range refs {
		if users[i], err = apps[0].Account(ctx, u.ID); err != nil {
			return wr, err
		}
	}

	var profFile *os.File
	if o.profileDir != "" {
		if profFile, err = os.Create(filepath.Join(o.profileDir, "writes-"+engine+"-cpu.pb.gz")); err == nil {
			pprof.StartCPUProfile(profFile)
		}
	}
	logf("writes on %s: %d workers over %d instance(s) for %s", engine, o.writeWorkers, instances, o.writeDur)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		lat      []float64
		errs     atomic.Int64
		firstErr error
	)
	r.waitQuiet()
	meter := startMeter(0)
	start := time.Now()
	end := start.Add(o.writeDur)
	for w := 0; w < o.writeWorkers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			a := apps[w%instances]
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			var mine []float64
			for ctx.Err() == nil && time.Now().Before(end) {
				s := rng.IntN(len(users))
				to := (s + 1 + rng.IntN(len(users)-1)) % len(users)
				t := time.Now()
				_, err := a.SendMessage(ctx, users[s], users[to].Username, "a benchmark message")
				if err != nil {
					if errs.Add(1) == 1 {
						mu.Lock()
						firstErr = err
						mu.Unlock()
					}
					continue
				}
				mine = append(mine, durMS(time.Since(t)))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	wall := time.Since(start)
	_, _, cpu, other := meter.stop()
	if profFile != nil {
		pprof.StopCPUProfile()
		profFile.Close()
	}
	if firstErr != nil {
		logf("write errors: %d, first: %v", errs.Load(), firstErr)
	}
	wr.Seconds = wall.Seconds()
	wr.Messages, wr.Errors = len(lat), int(errs.Load())
	wr.PerSecond = float64(len(lat)) / wall.Seconds()
	wr.Latency = summarize(lat)
	wr.CPU, wr.OtherCPU = cpu, other
	logf("writes on %s: %.0f messages/s, p50 %.2f ms, p99 %.2f ms, CPU %.0f%%, others %.0f%%", engine, wr.PerSecond, wr.Latency.P50, wr.Latency.P99, wr.CPU, wr.OtherCPU)
	return wr, nil
}
