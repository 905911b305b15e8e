package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"natter/internal/store"
)

// runSoak is the "soak" scenario: natter on a fresh SQLite file with
// -soak-streams open event streams, -soak-rate messages and -soak-page-rate
// page reads a second, for -soak-duration. Each minute it notes the
// errors, the p99 of sends, page reads and deliveries, natter's RSS and its
// goroutines: a leak shows as a column that only grows, a stall as a
// minute whose p99 jumps.
func (r *runner) runSoak(ctx context.Context) error {
	o := r.opt
	res := &Soak{Streams: o.soakStreams, Proto: o.soakProto, Rate: o.soakRate, Senders: o.senders, PageRate: o.soakPageRate}
	r.res.Soak = res

	dbPath := filepath.Join(r.work, "soak.db")
	for _, suffix := range []string{"", "-wal", "-shm", ".lock"} {
		os.Remove(dbPath + suffix)
	}
	st, err := store.Open(ctx, dbPath, store.Options{})
	if err != nil {
		return err
	}
	members, err := seedMembers(ctx, st.BulkLoader(), "k", o.soakStreams+o.senders)
	st.Close()
	if err != nil {
		return err
	}
	streamers, senders := members[:o.soakStreams], members[o.soakStreams:]

	srv, err := r.startNatter(ctx, "soak", dbPath)
	if err != nil {
		return err
	}
	defer srv.stop()
	goroutines := func() int {
		return int(metricValue(ctx, "http://"+srv.debug+"/metrics", "go_goroutines"))
	}

	ss := newStreamSet(srv.base, o.soakProto, len(streamers), o.ips, o.perConn)
	defer ss.close()
	logf("soak: opening %d streams over %s", len(streamers), o.soakProto)
	if err := ss.open(ctx, streamers, o.openConcurrency, 5*time.Minute); err != nil {
		return err
	}
	res.RSSStart, res.GoroutinesStart = srv.proc().RSS, goroutines()

	client := noRedirect(h1Transport(sourceIP(0, 1), 128), 30*time.Second)
	defer client.Transport.(*http.Transport).CloseIdleConnections()
	// Pages that change nothing: /messages would mark messages read and
	// push a count of its own, which the delivery check would count.
	pages := func() string {
		switch rand.IntN(4) {
		case 0:
			return "/index"
		case 1:
			return "/user/" + streamers[rand.IntN(len(streamers))].Name
		case 2:
			return "/user/" + streamers[rand.IntN(len(streamers))].Name + "/popup"
		default:
			return "/activity" // reads nothing: only opening a post or "Mark all read" does
		}
	}

	var (
		mu      sync.Mutex
		minutes []*soakMinute
		wg      sync.WaitGroup
	)
	start := time.Now()
	startStamp := float64(start.UnixMicro())/1e6 - 0.001
	minuteOf := func(t time.Time) *soakMinute {
		i := int(t.Sub(start) / time.Minute)
		for len(minutes) <= i {
			minutes = append(minutes, &soakMinute{})
		}
		return minutes[i]
	}
	note := func(at time.Time, send bool, d time.Duration, err error) {
		mu.Lock()
		defer mu.Unlock()
		m := minuteOf(at)
		switch {
		case err != nil && send:
			m.sendErrs++
			res.noteError("send", err)
		case err != nil:
			m.pageErrs++
			res.noteError("page", err)
		case send:
			m.sends = append(m.sends, durMS(d))
		default:
			m.pages = append(m.pages, durMS(d))
		}
	}
	sendOne := func(i int) {
		defer wg.Done()
		to, from := streamers[rand.IntN(len(streamers))], senders[i%len(senders)]
		form := url.Values{"message": {"soak message " + strconv.Itoa(i)}}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.base+"/send-message/"+to.Name, bytes.NewBufferString(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Cookie", sessionCookie(from.Token))
		t := time.Now()
		resp, err := client.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther {
				err = fmt.Errorf("POST /send-message: %s", resp.Status)
			}
		}
		note(t, true, time.Since(t), err)
	}
	readOne := func(i int) {
		defer wg.Done()
		m := streamers[rand.IntN(len(streamers))]
		path := pages()
		t := time.Now()
		status, _, err := get(ctx, client, srv.base+path, m.Token)
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("GET %s: %d", path, status)
		}
		note(t, false, time.Since(t), err)
	}

	ss.takeArrivals()
	ss.recording.Store(true)
	rc0 := ss.reconnects.Load()
	logf("soak: %d messages and %d page reads a second for %s", o.soakRate, o.soakPageRate, o.soakDur)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	nextSample := start.Add(time.Minute)
	cpu := startMeter(srv.pid)
	sends, reads := 0, 0
	for time.Since(start) < o.soakDur && ctx.Err() == nil {
		el := time.Since(start).Seconds()
		for ; sends < int(el*float64(o.soakRate)); sends++ {
			wg.Add(1)
			go sendOne(sends)
		}
		for ; reads < int(el*float64(o.soakPageRate)); reads++ {
			wg.Add(1)
			go readOne(reads)
		}
		if now := time.Now(); !now.Before(nextSample) {
			rss, g := srv.proc().RSS, goroutines()
			_, server, _, other := cpu.stop()
			cpu = startMeter(srv.pid)
			mu.Lock()
			m := minuteOf(nextSample.Add(-time.Second))
			m.rss, m.goroutines, m.serverCPU, m.otherCPU = rss, g, server, other
			mu.Unlock()
			logf("soak: minute %d, RSS %.0f MiB, %d goroutines", int(nextSample.Sub(start)/time.Minute), mib(rss), g)
			nextSample = nextSample.Add(time.Minute)
		}
		<-tick.C
	}
	wg.Wait()
	// The last deliveries, 10 s at most.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if ss.countArrivals("unread_message_count", startStamp) >= sends {
			break
		}
	}
	ss.recording.Store(false)
	res.Seconds = time.Since(start).Seconds()
	res.Reconnects = ss.reconnects.Load() - rc0
	res.RSSEnd, res.GoroutinesEnd = srv.proc().RSS, goroutines()

	if n := len(minutes); n > 0 && minutes[n-1].rss == 0 {
		_, server, _, other := cpu.stop()
		minutes[n-1].rss, minutes[n-1].goroutines = res.RSSEnd, res.GoroutinesEnd
		minutes[n-1].serverCPU, minutes[n-1].otherCPU = server, other
	}

	arrivals := ss.takeArrivals()
	delivered := make([][]float64, len(minutes))
	for _, a := range arrivals {
		if a.name != "unread_message_count" || a.ts < startStamp {
			continue
		}
		i := min(int(a.at.Sub(start)/time.Minute), len(minutes)-1)
		if i >= 0 {
			delivered[i] = append(delivered[i], durMS(sinceStamp(a.ts, a.at)))
		}
	}
	for i, m := range minutes {
		sm := SoakMinute{
			Minute: i + 1, Sends: len(m.sends), SendErrors: m.sendErrs, Send: summarize(m.sends),
			Pages: len(m.pages), PageErrors: m.pageErrs, Page: summarize(m.pages),
			Delivered: len(delivered[i]), Delivery: summarize(delivered[i]),
			RSS: m.rss, Goroutines: m.goroutines, ServerCPU: m.serverCPU, OtherCPU: m.otherCPU,
		}
		res.Minutes = append(res.Minutes, sm)
		res.Sent += sm.Sends
		res.SendErrors += sm.SendErrors
		res.PageReads += sm.Pages
		res.PageErrors += sm.PageErrors
		res.Delivered += sm.Delivered
	}
	logf("soak: %d sent (%d errors), %d delivered, %d page reads (%d errors), %d reconnections; RSS %.0f → %.0f MiB, goroutines %d → %d",
		res.Sent, res.SendErrors, res.Delivered, res.PageReads, res.PageErrors, res.Reconnects,
		mib(res.RSSStart), mib(res.RSSEnd), res.GoroutinesStart, res.GoroutinesEnd)
	return nil
}

// soakMinute gathers one minute of the soak as it runs.
type soakMinute struct {
	sends, pages       []float64
	sendErrs, pageErrs int
	rss                int64
	goroutines         int
	serverCPU          float64
	otherCPU           float64
}

// noteError keeps the first few errors of each kind for the report.
func (s *Soak) noteError(kind string, err error) {
	if len(s.FirstErrors) < 10 {
		s.FirstErrors = append(s.FirstErrors, kind+": "+err.Error())
	}
}
