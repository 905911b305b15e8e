package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"natter/internal/natter"
	"natter/internal/store"
)

// runPages is scenarios 3 and 4: the pages on a database with smallRows
// posts and messages, the trivial handler, then the same pages after the
// database has grown to largeRows.
func (r *runner) runPages(ctx context.Context) error {
	o := r.opt
	if o.pageMembers < o.pageWorkers+2 {
		return fmt.Errorf("-page-members must exceed -page-workers")
	}
	res := &Pages{Workers: o.pageWorkers, Seconds: o.pageDur.Seconds(), Members: o.pageMembers}
	r.res.Pages = res
	dbPath := filepath.Join(r.work, "pages.db")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(dbPath + suffix)
	}

	st, err := store.Open(ctx, dbPath, store.Options{})
	if err != nil {
		return err
	}
	l := st.BulkLoader()
	users, err := l.CreateUsers(ctx, "p", o.pageMembers, "bench-no-password")
	if err != nil {
		st.Close()
		return err
	}
	// The workers' members get sessions; everyone posts and writes.
	ms, err := sessionsFor(ctx, l, users[:o.pageWorkers])
	if err != nil {
		st.Close()
		return err
	}
	t0 := time.Now()
	if err := growTo(ctx, l, users, o.smallRows); err != nil {
		st.Close()
		return err
	}
	res.Small.LoadSeconds = time.Since(t0).Seconds()
	if err := likeOnePost(ctx, l); err != nil {
		st.Close()
		return err
	}
	res.Small.Posts, res.Small.Messages, err = l.Counts(ctx)
	st.Close()
	if err != nil {
		return err
	}
	res.Small.DBBytes = dbSize(dbPath)
	other := users[o.pageWorkers+1].Username // a member with posts, not a worker
	pages := []struct{ name, path string }{
		{"/index", "/index"},
		{"/user/{name}", "/user/" + other},
		{"/user/{name}/popup", "/user/" + other + "/popup"},
		{"/messages", "/messages"},
		{"/notifications", "/notifications?since=0"},
		// Deep pages. Posts are numbered from 1, so before=1000 is 9,000
		// posts down the small timeline and 9,999,000 down the large one;
		// page 100 is the deepest the seed's ?page=N goes (app.MaxPage).
		{"/index?before=1000", "/index?before=1000"},
		{"/index?page=100", "/index?page=100"},
		{"/user/{name}?before=1000", "/user/" + other + "?before=1000"},
		// A post's page with no likes and with popularLikes: the count
		// is a column of the post's row, so both cost the same.
		{"/post/{id} (0 likes)", fmt.Sprintf("/post/%d", plainPost)},
		{fmt.Sprintf("/post/{id} (%d likes)", popularLikes), fmt.Sprintf("/post/%d", popularPost)},
	}
	measure := func(label string, ds *DataSet) error {
		srv, err := r.startNatter(ctx, label, dbPath)
		if err != nil {
			return err
		}
		defer srv.stop()
		for _, p := range pages {
			pr, err := r.loadPage(ctx, srv, label, p.name, p.path, ms)
			if err != nil {
				return err
			}
			ds.Pages = append(ds.Pages, pr)
		}
		return nil
	}
	// The ceiling, right before and right after, with the same client.
	trivial := func() (PageRun, error) {
		triv, err := r.startTrivial(ctx)
		if err != nil {
			return PageRun{}, err
		}
		defer triv.stop()
		return r.loadPage(ctx, triv, "trivial", "trivial handler", "/", ms)
	}
	if res.TrivialBefore, err = trivial(); err != nil {
		return err
	}
	logf("pages on %d posts and %d messages", res.Small.Posts, res.Small.Messages)
	if err := measure("pages-small", &res.Small); err != nil {
		return err
	}
	if res.Trivial, err = trivial(); err != nil {
		return err
	}

	if o.skipLarge || o.largeRows <= o.smallRows {
		return nil
	}
	res.Large = &DataSet{}
	logf("growing the database to %d posts and %d messages", o.largeRows, o.largeRows)
	st, err = store.Open(ctx, dbPath, store.Options{})
	if err != nil {
		return err
	}
	l = st.BulkLoader()
	t0 = time.Now()
	err = growTo(ctx, l, users, o.largeRows)
	res.Large.LoadSeconds = time.Since(t0).Seconds()
	if err == nil {
		res.Large.Posts, res.Large.Messages, err = l.Counts(ctx)
	}
	st.Close()
	if err != nil {
		return err
	}
	res.Large.DBBytes = dbSize(dbPath)
	logf("loaded in %.0f s; database %.2f GiB", res.Large.LoadSeconds, float64(res.Large.DBBytes)/(1<<30))
	return measure("pages-large", res.Large)
}

// The post with popularLikes likes, and one beside it with none (posts
// are numbered from 1).
const (
	popularPost  = 1
	plainPost    = 2
	popularLikes = 100_000
)

// likeOnePost has popularLikes members of their own like popularPost.
func likeOnePost(ctx context.Context, l *store.BulkLoader) error {
	t0 := time.Now()
	likers, err := l.CreateUsers(ctx, "l", popularLikes, "bench-no-password")
	if err != nil {
		return err
	}
	err = l.GenerateLikes(ctx, popularPost, store.IDRange{First: likers[0].ID, N: len(likers)}, time.Now())
	if err == nil {
		logf("  %d likes of post %d in %.1f s", popularLikes, popularPost, time.Since(t0).Seconds())
	}
	return err
}

// sessionsFor logs users in (bulk sessions).
func sessionsFor(ctx context.Context, l *store.BulkLoader, users []natter.MemberRef) ([]member, error) {
	ms := make([]member, len(users))
	sess := make([]store.BulkSession, len(users))
	for i, u := range users {
		ms[i] = member{ID: u.ID, Name: u.Username, Token: fmt.Sprintf("bench-page-session-%d-%d", u.ID, time.Now().UnixNano())}
		sess[i] = store.BulkSession{Token: ms[i].Token, UserID: u.ID}
	}
	return ms, l.Sessions(ctx, sess, time.Now().Add(7*24*time.Hour))
}

var bodies = []string{
	"Just shipped a small fix, feeling good about it.",
	"Anyone else reading the Go release notes today? The new bits look neat.",
	"Coffee first, then code. In that order, always.",
	"Short note: the meetup moved to Thursday at seven, same place as last time.",
	"Thanks for the tip about the index, the page is fast again!",
}

// peers is how many others each member writes to.
const peers = 8

// growTo adds posts and messages until there are n of each. Posts are by
// every member in turn; each member writes to eight peers.
func growTo(ctx context.Context, l *store.BulkLoader, users []natter.MemberRef, n int) error {
	posts, msgs, err := l.Counts(ctx)
	if err != nil {
		return err
	}
	rng := store.IDRange{First: users[0].ID, N: len(users)}
	if users[len(users)-1].ID-users[0].ID != int64(len(users)-1) {
		return fmt.Errorf("members' ids are not contiguous")
	}
	start := time.Now().Add(-time.Duration(n) * time.Second)
	if int(posts) < n {
		t0 := time.Now()
		if err := l.GeneratePosts(ctx, int(posts), n, rng, start, bodies); err != nil {
			return err
		}
		logf("  %d posts in %.1f s", n-int(posts), time.Since(t0).Seconds())
	}
	if int(msgs) < n {
		t0 := time.Now()
		if err := l.GenerateMessages(ctx, int(msgs), n, rng, peers, start, bodies); err != nil {
			return err
		}
		logf("  %d messages in %.1f s", n-int(msgs), time.Since(t0).Seconds())
	}
	return nil
}

func dbSize(path string) int64 {
	var n int64
	for _, suffix := range []string{"", "-wal"} {
		if fi, err := os.Stat(path + suffix); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// loadPage runs pageWorkers closed-loop clients on path for pageDur (after
// pageWarm), each logged in as its own member, over keep-alive HTTP/1.1.
func (r *runner) loadPage(ctx context.Context, srv *child, label, name, path string, ms []member) (PageRun, error) {
	o := r.opt
	pr := PageRun{Name: name, Path: path}
	tr := h1Transport(sourceIP(0, 1), o.pageWorkers)
	defer tr.CloseIdleConnections()
	client := noRedirect(tr, 30*time.Second)
	url := srv.base + path
	// One request to check the page answers 200 to a member.
	status, n, err := get(ctx, client, url, ms[0].Token)
	if err != nil {
		return pr, fmt.Errorf("%s: %w", name, err)
	}
	if status != http.StatusOK {
		return pr, fmt.Errorf("%s: status %d", name, status)
	}
	pr.Bytes = n

	var (
		mu       sync.Mutex
		lat      []float64
		errs     int
		firstErr error
		wg       sync.WaitGroup
	)
	r.waitQuiet()
	warmEnd := time.Now().Add(o.pageWarm)
	end := warmEnd.Add(o.pageDur)
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		time.Sleep(time.Until(warmEnd))
		m := startMeter(srv.pid)
		time.Sleep(time.Until(end))
		_, pr.ServerCPU, pr.ClientCPU, pr.OtherCPU = m.stop()
	}()
	profiled := make(chan struct{})
	go func() {
		defer close(profiled)
		time.Sleep(time.Until(warmEnd))
		r.profileAsync(ctx, srv, fmt.Sprintf("%s-%s-cpu.pb.gz", label, profName(name)), o.pageDur)()
	}()
	for w := 0; w < o.pageWorkers; w++ {
		wg.Add(1)
		go func(token string) {
			defer wg.Done()
			var mine []float64
			var myErrs int
			var myFirst error
			for ctx.Err() == nil {
				t := time.Now()
				if t.After(end) {
					break
				}
				status, _, err := get(ctx, client, url, token)
				if err == nil && status != http.StatusOK {
					err = fmt.Errorf("status %d", status)
				}
				if t.Before(warmEnd) {
					continue
				}
				if err != nil {
					myErrs++
					if myFirst == nil {
						myFirst = err
					}
					continue
				}
				mine = append(mine, durMS(time.Since(t)))
			}
			mu.Lock()
			lat = append(lat, mine...)
			errs += myErrs
			if firstErr == nil {
				firstErr = myFirst
			}
			mu.Unlock()
		}(ms[w%len(ms)].Token)
	}
	wg.Wait()
	<-sampled
	<-profiled
	measured := o.pageDur
	if firstErr != nil {
		logf("%s %s: %d errors, first: %v", label, name, errs, firstErr)
	}
	pr.Requests, pr.Errors = len(lat), errs
	pr.RPS = float64(len(lat)) / measured.Seconds()
	pr.Latency = summarize(lat)
	logf("%s %-20s %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  server CPU %3.0f%%  client CPU %3.0f%%  others %3.0f%%",
		label, name, pr.RPS, pr.Latency.P50, pr.Latency.P99, pr.ServerCPU, pr.ClientCPU, pr.OtherCPU)
	return pr, nil
}

func profName(s string) string {
	s = strings.NewReplacer("/", "_", "{", "", "}", "", " ", "_").Replace(s)
	return strings.Trim(s, "_")
}
