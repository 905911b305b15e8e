package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
)

// interceptor pauses the browser's requests to natter's live endpoints
// (the event stream and the polling bridge) so that a test can answer them
// itself. It works on the browser target, not a page: the requests come
// from the SharedWorker, which a page's own Fetch domain does not see.
type interceptor struct {
	b *browser

	mu      sync.Mutex
	paused  []*fetch.EventRequestPaused
	arrived chan struct{} // closed and replaced whenever a request is paused
}

// intercept starts pausing requests whose URL matches one of patterns
// (Fetch domain wildcards) in every target of b.
func (b *browser) intercept(patterns ...string) *interceptor {
	b.t.Helper()
	ic := &interceptor{b: b, arrived: make(chan struct{})}
	chromedp.ListenBrowser(b.main.ctx, func(ev any) {
		if ev, ok := ev.(*fetch.EventRequestPaused); ok {
			ic.mu.Lock()
			ic.paused = append(ic.paused, ev)
			close(ic.arrived)
			ic.arrived = make(chan struct{})
			ic.mu.Unlock()
		}
	})
	var ps []*fetch.RequestPattern
	for _, p := range patterns {
		ps = append(ps, &fetch.RequestPattern{URLPattern: p})
	}
	ic.do(fetch.Enable().WithPatterns(ps))
	return ic
}

// do runs a Fetch command on the browser target.
func (ic *interceptor) do(action chromedp.Action) {
	ic.b.t.Helper()
	if err := ic.run(action); err != nil {
		ic.b.t.Fatalf("%s: %v", ic.b.name, err)
	}
}

func (ic *interceptor) run(action chromedp.Action) error {
	ctx, cancel := context.WithTimeout(ic.b.main.ctx, actionTimeout)
	defer cancel()
	return action.Do(cdp.WithExecutor(ctx, chromedp.FromContext(ic.b.main.ctx).Browser))
}

// next returns the next paused request whose path is path, in the order
// the browser made them, waiting for it at most actionTimeout. Requests to
// other paths are left paused for a later call.
func (ic *interceptor) next(path string) (*fetch.EventRequestPaused, *url.URL) {
	ic.b.t.Helper()
	return ic.nextWithin(path, actionTimeout)
}

// nextStream returns the next paused request of an EventSource, leaving
// the worker's probes of the stream (plain fetches) paused. Chromium calls
// both XHR when a worker makes them; only the Accept header tells.
func (ic *interceptor) nextStream() (*fetch.EventRequestPaused, *url.URL) {
	ic.b.t.Helper()
	ev, u, err := ic.wait(func(ev *fetch.EventRequestPaused, u *url.URL) bool {
		accept, _ := ev.Request.Headers["Accept"].(string)
		return u.Path == "/events" && accept == "text/event-stream"
	}, time.After(actionTimeout))
	if err != nil {
		ic.b.t.Fatalf("%s: %v", ic.b.name, err)
	}
	if ev == nil {
		ic.b.t.Fatalf("%s: the worker opened no event stream within %v", ic.b.name, actionTimeout)
	}
	return ev, u
}

// nextWithin is next with a timeout of its own, for requests the page
// makes on a timer longer than an action.
func (ic *interceptor) nextWithin(path string, d time.Duration) (*fetch.EventRequestPaused, *url.URL) {
	ic.b.t.Helper()
	ev, u, err := ic.wait(onPath(path), time.After(d))
	if err != nil {
		ic.b.t.Fatalf("%s: %v", ic.b.name, err)
	}
	if ev == nil {
		ic.b.t.Fatalf("%s: no request to %s within %v", ic.b.name, path, d)
	}
	return ev, u
}

// onPath matches the requests to path.
func onPath(path string) func(*fetch.EventRequestPaused, *url.URL) bool {
	return func(_ *fetch.EventRequestPaused, u *url.URL) bool { return u.Path == path }
}

// wait returns the next paused request that match accepts, or nil once
// stop is ready. It does not touch t, so a goroutine may call it.
func (ic *interceptor) wait(match func(*fetch.EventRequestPaused, *url.URL) bool, stop <-chan time.Time) (*fetch.EventRequestPaused, *url.URL, error) {
	for {
		ic.mu.Lock()
		for i, ev := range ic.paused {
			u, err := url.Parse(ev.Request.URL)
			if err != nil {
				ic.mu.Unlock()
				return nil, nil, fmt.Errorf("a paused request has a bad URL %q: %w", ev.Request.URL, err)
			}
			if match(ev, u) {
				ic.paused = append(ic.paused[:i:i], ic.paused[i+1:]...)
				ic.mu.Unlock()
				return ev, u, nil
			}
		}
		arrived := ic.arrived
		ic.mu.Unlock()
		select {
		case <-arrived:
		case <-stop:
			return nil, nil, nil
		}
	}
}

// answer fulfils a paused request with status, contentType and body.
func (ic *interceptor) answer(ev *fetch.EventRequestPaused, status int64, contentType, body string) {
	ic.b.t.Helper()
	if err := ic.fulfil(ev, status, contentType, body); err != nil {
		ic.b.t.Fatalf("%s: answering %s: %v", ic.b.name, ev.Request.URL, err)
	}
}

// fulfil is answer without t, for goroutines.
func (ic *interceptor) fulfil(ev *fetch.EventRequestPaused, status int64, contentType, body string) error {
	return ic.run(fetch.FulfillRequest(ev.RequestID, status).
		WithResponseHeaders([]*fetch.HeaderEntry{
			{Name: "Content-Type", Value: contentType},
			{Name: "Cache-Control", Value: "no-store"},
		}).
		WithBody(base64.StdEncoding.EncodeToString([]byte(body))))
}

// sseEvent is one event of a text/event-stream body as natter sends it.
func sseEvent(id int64, name string, data int, timestamp float64) string {
	return fmt.Sprintf("id: %d\nevent: %s\ndata: {\"name\":%q,\"data\":%d,\"timestamp\":%s}\n\n",
		id, name, name, data, strconv.FormatFloat(timestamp, 'f', -1, 64))
}

// pollWait bounds the wait for the worker's next poll (every 10 s in
// live-worker.js), with a margin for a loaded machine.
const pollWait = 30 * time.Second

// Events that arrive out of order are not applied: after the event with id
// N+2 the one with id N+1 is stale, even though its timestamp is later (the
// id, not the clock, orders a member's events). The page's badge stays at
// the newer value, the page applies only the newer event, and the worker
// resumes the stream after it. (The page and the worker both order events;
// this test catches the worker's ordering missing, or both, and
// TestLiveOutOfOrderReplay the page's alone.)
func TestLiveOutOfOrder(t *testing.T) {
	needChromium(t)
	srv := startServer(t)
	bob := newMember(t, srv, "bob")
	ic := bob.b.intercept("*/events*")
	bob.register()

	var seq int64
	bob.eval(`Number(document.body.dataset.seq)`, &seq)
	var listening bool
	bob.eval(`window.__applied = []; document.addEventListener('natter:notification',
		(e) => window.__applied.push(e.detail.id)); true`, &listening)

	req, u := ic.next("/events")
	if got := u.Query().Get("lastEventId"); got != strconv.FormatInt(seq, 10) {
		t.Errorf("the worker resumes the stream at lastEventId=%q, want the page's data-seq %d", got, seq)
	}
	now := float64(time.Now().Unix())
	ic.answer(req, 200, "text/event-stream",
		"retry: 1000\n\n"+
			sseEvent(seq+2, "unread_message_count", 5, now+1)+
			sseEvent(seq+1, "unread_message_count", 2, now+2))

	// The stream ends after the two events; the worker reports it down only
	// after it has dispatched both, and the page hears that after them.
	bob.waitFor(`document.documentElement.dataset.liveState === 'down' && Number(document.documentElement.dataset.liveAttempts) >= 1`)
	if got := bob.badge("message_count"); got != "5" {
		t.Errorf("after events %d (5 unread) and then %d (2 unread) the badge shows %q, want 5", seq+2, seq+1, got)
	}
	var applied []int64
	bob.eval(`window.__applied`, &applied)
	if len(applied) != 1 || applied[0] != seq+2 {
		t.Errorf("the page applied the events %v, want only %d", applied, seq+2)
	}

	// The worker resumes after the newest event it applied (the request is
	// left paused: the test is over).
	_, u = ic.next("/events")
	if got := u.Query().Get("lastEventId"); got != strconv.FormatInt(seq+2, 10) {
		t.Errorf("the worker reconnects with lastEventId=%q, want %d", got, seq+2)
	}
}

// A tab that joins the worker is handed the newest value the worker has,
// but that can be older than what the tab was rendered with: here the
// stream was down while alice's messages arrived, so the worker still holds
// "1 unread" (id N+1) when a new tab is rendered with "2 unread" and a later
// data-seq. The page keeps its newer count; only the page's own ordering
// can tell, since the worker rightly replays what it has.
func TestLiveOutOfOrderReplay(t *testing.T) {
	needChromium(t)
	srv := startServer(t)
	alice := newMember(t, srv, "alice")
	alice.register()
	bob := newMember(t, srv, "bob")
	ic := bob.b.intercept("*/events*")
	bob.register()

	// The worker's only stream brings one event and ends; every later
	// request to /events stays paused, so the worker misses what follows.
	req, u := ic.next("/events")
	seq, err := strconv.ParseInt(u.Query().Get("lastEventId"), 10, 64)
	if err != nil {
		t.Fatalf("the worker's stream URL %s has no lastEventId: %v", u, err)
	}
	ic.answer(req, 200, "text/event-stream",
		sseEvent(seq+1, "unread_message_count", 1, float64(time.Now().Unix())))
	bob.waitFor(`document.getElementById('message_count').textContent.trim() === '1' &&
		document.documentElement.dataset.liveState === 'down'`)

	alice.sendMessage("bob", "One.")
	alice.sendMessage("bob", "Two.")
	fresh := bob.b.newTab(desktop)
	fresh.open("/index")
	var rendered int64
	fresh.eval(`Number(document.body.dataset.seq)`, &rendered)
	if rendered <= seq+1 {
		t.Fatalf("the new tab was rendered at data-seq %d, want it past the worker's %d", rendered, seq+1)
	}

	// The worker replays its "1 unread" to the new tab on joining, before
	// anything the stream brings next; an activity count from a new stream
	// therefore arrives after the replay, and marks that it was handled.
	// (The count is read only then: the replay may come before any read.)
	req, _ = ic.nextStream()
	ic.answer(req, 200, "text/event-stream",
		sseEvent(rendered+1, "unread_activity_count", 7, float64(time.Now().Unix())))
	fresh.waitFor(`document.getElementById('activity_count').textContent.trim() === '7'`)
	if got := fresh.badge("message_count"); got != "2" {
		t.Errorf("the new tab, rendered with 2 unread at data-seq %d, shows %q after the worker replayed 1 unread of id %d",
			rendered, got, seq+1)
	}
}

// While the stream is down the worker polls /notifications?since=T, T
// being the newest timestamp it knows, so each poll asks only for what
// changed since the one before (the seed asked since=0 every time).
func TestLivePollingSince(t *testing.T) {
	needChromium(t)
	srv := startServer(t)
	bob := newMember(t, srv, "bob")
	ic := bob.b.intercept("*/events*", "*/notifications?*")
	bob.b.expect("/events", 503)
	bob.register()

	var pageSince float64
	bob.eval(`parseFloat(document.getElementById('main').dataset.since)`, &pageSince)

	// Every try at the stream (and the worker's probe of it before each
	// poll) meets a server that is unavailable.
	stop := make(chan time.Time)
	var wg sync.WaitGroup
	defer func() { close(stop); wg.Wait() }()
	wg.Go(func() {
		for {
			ev, _, err := ic.wait(onPath("/events"), stop)
			if err == nil && ev != nil {
				err = ic.fulfil(ev, 503, "text/plain", "natter is restarting\n")
			}
			if err != nil {
				bob.b.problem(bob.tab, "answering the event stream: %v", err)
			}
			if ev == nil {
				return
			}
		}
	})

	req, u := ic.next("/notifications")
	first, err := strconv.ParseFloat(u.Query().Get("since"), 64)
	if err != nil || first != pageSince {
		t.Errorf("the first poll asks since=%q, want the page's data-since %s", u.Query().Get("since"), strconv.FormatFloat(pageSince, 'f', -1, 64))
	}
	// A timestamp exact in binary, so that it reads back unchanged.
	stamp := float64(int64(pageSince)+100) + 0.5
	ic.answer(req, 200, "application/json",
		fmt.Sprintf(`[{"name":"unread_message_count","data":3,"timestamp":%s}]`, strconv.FormatFloat(stamp, 'f', -1, 64)))
	bob.waitFor(`document.getElementById('message_count').textContent.trim() === '3' && !document.getElementById('message_count').hidden`)

	// The next poll comes on the worker's timer (10 s), not at once.
	req, u = ic.nextWithin("/notifications", pollWait)
	if want := strconv.FormatFloat(stamp, 'f', -1, 64); u.Query().Get("since") != want {
		t.Errorf("after a poll answered with a notification of %s the next poll asks since=%q, want since=%s",
			want, u.Query().Get("since"), want)
	}
	ic.answer(req, 200, "application/json", `[]`)
}
