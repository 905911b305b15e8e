package live

import (
	"cmp"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// "N new posts" on an open timeline.
//
// New posts concern everyone, so fanning each out to every open stream
// would cost, with 100,000 members online, 100,000 wake-ups and writes per
// post. Instead:
//
//   - Only streams whose page shows the timeline watch it (the page's
//     worker opens the stream with ?timeline=1; WatchTimeline).
//   - The hub keeps the ids of the site's newest posts (RecentPosts of
//     them), as one snapshot with a version, JSON included, built once
//     per post.
//   - Watchers are woken by a broadcaster that runs at most once per
//     PostsEvery however many posts arrive: posts in between coalesce
//     into the next wake-up. A wake-up is a non-blocking send of an empty
//     event, as Resync's; a full buffer is no loss, since the stream
//     looks at the snapshot whenever it wakes for anything.
//   - Each stream sends the snapshot when its version is newer than the
//     last it sent (TimelineNews): the data is the same bytes for every
//     stream, and a stream holds one number more for it.
//
// So a post costs one snapshot, and each second at most one event per
// watching stream. The ids come from this instance's posts (App) and, on
// PostgreSQL, from other instances' announcements (Listener).

// RecentPosts is how many of the newest post ids the hub keeps and sends:
// a page counts the ones newer than its newest post ("3 new posts"), and
// says "30+" when all are.
const RecentPosts = 30

// PostsEvery is the least time between two wake-ups of the watching
// streams.
const PostsEvery = time.Second

type timeline struct {
	mu     sync.Mutex
	recent []int64 // newest first
	snap   atomic.Pointer[timelineSnapshot]

	running atomic.Bool // a broadcaster is at work
	next    time.Time   // the broadcaster's: when it may wake watchers again
}

// timelineSnapshot is the newest posts as streams send them.
type timelineSnapshot struct {
	version int64
	json    []byte // {"recent":[ids, newest first],"full":bool}
}

// Posted tells the hub that posts with these ids were committed (here, or
// on another instance), and wakes the watching streams soon.
func (h *Hub) Posted(ids ...int64) {
	if h.tl.add(ids) {
		h.kickTimeline()
	}
}

// Unposted tells the hub that the posts with these ids were deleted (here,
// or on another instance): they leave the newest posts, so that a page
// that counted one of them as new stops counting it ("1 new post" for a
// post that is gone), and the watching streams are woken soon.
func (h *Hub) Unposted(ids ...int64) {
	if h.tl.remove(ids) {
		h.kickTimeline()
	}
}

// add records ids and reports whether any was new.
func (tl *timeline) add(ids []int64) bool {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	changed := false
	for _, id := range ids {
		// recent is newest first: search it in descending order.
		i, found := slices.BinarySearchFunc(tl.recent, id, func(e, target int64) int { return cmp.Compare(target, e) })
		if found || id <= 0 || i >= RecentPosts {
			continue // known, or older than every one kept
		}
		tl.recent = slices.Insert(tl.recent, i, id)
		if len(tl.recent) > RecentPosts {
			tl.recent = tl.recent[:RecentPosts]
		}
		changed = true
	}
	if changed {
		tl.snapshot()
	}
	return changed
}

// remove forgets ids and reports whether any was kept.
func (tl *timeline) remove(ids []int64) bool {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	changed := false
	for _, id := range ids {
		if i, found := slices.BinarySearchFunc(tl.recent, id, func(e, target int64) int { return cmp.Compare(target, e) }); found {
			tl.recent = slices.Delete(tl.recent, i, i+1)
			changed = true
		}
	}
	if changed {
		tl.snapshot()
	}
	return changed
}

// snapshot stores recent as the next version of the news; tl.mu is held.
func (tl *timeline) snapshot() {
	b := append(make([]byte, 0, 24+len(tl.recent)*8), `{"recent":[`...)
	for i, id := range tl.recent {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	b = append(b, `],"full":`...)
	b = strconv.AppendBool(b, len(tl.recent) == RecentPosts)
	b = append(b, '}')
	var version int64 = 1
	if old := tl.snap.Load(); old != nil {
		version = old.version + 1
	}
	tl.snap.Store(&timelineSnapshot{version: version, json: b})
}

// kickTimeline starts the broadcaster unless it is at work; a running one
// sees the new version before it stops.
func (h *Hub) kickTimeline() {
	if h.tl.running.CompareAndSwap(false, true) {
		go h.broadcastPosts()
	}
}

// broadcastPosts wakes every watching stream, at most once per PostsEvery,
// until the snapshot stops changing.
func (h *Hub) broadcastPosts() {
	for {
		if wait := time.Until(h.tl.next); wait > 0 {
			time.Sleep(wait) // pacing, not synchronisation: posts meanwhile coalesce
		}
		version := h.tl.snap.Load().version
		h.tl.next = time.Now().Add(PostsEvery)
		h.wakeWatchers()
		h.tl.running.Store(false)
		// A post that came after the version was read either finds the
		// broadcaster stopped and starts one, or is seen here.
		if h.tl.snap.Load().version == version || !h.tl.running.CompareAndSwap(false, true) {
			return
		}
	}
}

func (h *Hub) wakeWatchers() {
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.Lock()
		for sub := range sh.watchers {
			select {
			case sub.events <- Event{UserID: sub.userID}:
			default: // the stream has events to handle, and looks then
			}
		}
		sh.mu.Unlock()
	}
}

// WatchTimeline makes the subscription's stream one whose page shows the
// timeline: it is woken when posts arrive, and TimelineNews has them.
func (s *Subscription) WatchTimeline() {
	sh := s.hub.shard(s.userID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if s.gone {
		return
	}
	if sh.watchers == nil {
		sh.watchers = make(map[*Subscription]struct{})
	}
	sh.watchers[s] = struct{}{}
	s.watching = true
}

// TimelineNews returns the newest posts as JSON, {"recent":[ids, newest
// first],"full":whether older ones were left out}, if the subscription
// watches the timeline and has not had this version yet. Its stream calls
// it when it starts and whenever it wakes.
func (s *Subscription) TimelineNews() ([]byte, bool) {
	if !s.watching {
		return nil, false
	}
	snap := s.hub.tl.snap.Load()
	if snap == nil || snap.version <= s.postsSeen {
		return nil, false
	}
	s.postsSeen = snap.version
	return snap.json, true
}

// Watchers reports how many open streams watch the timeline.
func (h *Hub) Watchers() int {
	n := 0
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.Lock()
		n += len(sh.watchers)
		sh.mu.Unlock()
	}
	return n
}
