// Package live fans notifications out to the open event streams of the
// member they concern.
//
// The notifications table is the source of truth; the hub only wakes
// streams. A publisher never waits for a reader: an event that does not fit
// in a subscriber's buffer is dropped and the subscriber is marked lagged, so
// its stream reads what it missed from the store. Nothing is lost, and one
// slow client cannot stall the member who sent a message.
package live

import (
	"sync"
	"sync/atomic"

	"natter/internal/natter"
)

// Event says that a member has a notification with sequence number Seq.
type Event struct {
	UserID int64
	Seq    int64
	// Note is the notification itself when the publisher has it at hand
	// (the instance that committed it). Announcements relayed from other
	// instances carry ids only; a stream then reads the rows from the store.
	Note *natter.Notification
}

// bufferSize is how many events a subscriber may fall behind before it is
// marked lagged. Members get a handful of events a minute; 8 is plenty.
const bufferSize = 8

const shardCount = 64

// Hub holds the subscriptions of one instance. The zero value is not usable;
// call NewHub.
type Hub struct {
	maxPerUser int
	shards     [shardCount]shard
	streams    atomic.Int64
	closed     atomic.Bool // by CloseAll
	tl         timeline    // the newest posts, for streams that watch the timeline (timeline.go)
}

type shard struct {
	mu   sync.Mutex
	subs map[int64][]*Subscription
	// watchers are the subscriptions of the shard that watch the
	// timeline (timeline.go).
	watchers map[*Subscription]struct{}
}

// NewHub returns a hub that keeps at most maxPerUser subscriptions per
// member; a new one beyond that closes the member's oldest.
func NewHub(maxPerUser int) *Hub {
	if maxPerUser < 1 {
		maxPerUser = 1
	}
	h := &Hub{maxPerUser: maxPerUser}
	for i := range h.shards {
		h.shards[i].subs = make(map[int64][]*Subscription)
	}
	return h
}

func (h *Hub) shard(userID int64) *shard {
	return &h.shards[uint64(userID)%shardCount]
}

// Subscription is one open stream's place in the hub.
type Subscription struct {
	hub    *Hub
	userID int64
	events chan Event
	lagged atomic.Bool
	done   chan struct{}
	once   sync.Once
	gone   bool // closed: guarded by the shard's lock

	// For the timeline (timeline.go), used by the stream's goroutine.
	watching  bool
	postsSeen int64 // the version of the newest posts last taken
}

// Subscribe registers a stream for userID. The caller must Close it. After
// CloseAll the subscription is born closed.
func (h *Hub) Subscribe(userID int64) *Subscription {
	sub := &Subscription{hub: h, userID: userID, events: make(chan Event, bufferSize), done: make(chan struct{})}
	sh := h.shard(userID)
	sh.mu.Lock()
	if h.closed.Load() {
		sh.mu.Unlock()
		h.streams.Add(1) // Close takes it back
		sub.Close()
		return sub
	}
	list := append(sh.subs[userID], sub)
	var evicted []*Subscription
	if over := len(list) - h.maxPerUser; over > 0 {
		evicted = append(evicted, list[:over]...)
		list = append([]*Subscription(nil), list[over:]...)
	}
	sh.subs[userID] = list
	sh.mu.Unlock()
	h.streams.Add(1)
	for _, old := range evicted {
		old.Close()
	}
	return sub
}

// Events delivers the subscription's events.
func (s *Subscription) Events() <-chan Event { return s.events }

// Done is closed when the subscription ends: Close, a newer stream of the
// same member beyond the cap, or Disconnect.
func (s *Subscription) Done() <-chan struct{} { return s.done }

// TakeLagged reports whether events were dropped since the last call, and
// clears the mark.
func (s *Subscription) TakeLagged() bool { return s.lagged.Swap(false) }

// Close removes the subscription from the hub. It is safe to call twice.
func (s *Subscription) Close() {
	s.once.Do(func() {
		sh := s.hub.shard(s.userID)
		sh.mu.Lock()
		list := sh.subs[s.userID]
		for i, x := range list {
			if x == s {
				list = append(list[:i:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(sh.subs, s.userID)
		} else {
			sh.subs[s.userID] = list
		}
		delete(sh.watchers, s)
		s.gone = true
		sh.mu.Unlock()
		s.hub.streams.Add(-1)
		close(s.done)
	})
}

// Publish hands each event to the subscriptions of its member, never
// blocking.
func (h *Hub) Publish(events ...Event) {
	for _, ev := range events {
		sh := h.shard(ev.UserID)
		sh.mu.Lock()
		for _, sub := range sh.subs[ev.UserID] {
			select {
			case sub.events <- ev:
			default:
				sub.lagged.Store(true)
			}
		}
		sh.mu.Unlock()
	}
}

// Notify publishes notifications that this instance has just committed.
func (h *Hub) Notify(notes []natter.Notification) {
	for i := range notes {
		h.Publish(Event{UserID: notes[i].UserID, Seq: notes[i].Seq, Note: &notes[i]})
	}
}

// Resync makes every open stream check the store for anything it has not
// sent. The PostgreSQL listener calls it after (re)connecting, because
// announcements made while it was not listening are lost; the rows are not.
func (h *Hub) Resync() {
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.Lock()
		for userID, list := range sh.subs {
			for _, sub := range list {
				sub.lagged.Store(true)
				// An empty event only wakes the stream; it then sees the
				// lagged mark and reads the store.
				select {
				case sub.events <- Event{UserID: userID}:
				default:
				}
			}
		}
		sh.mu.Unlock()
	}
}

// Disconnect ends every subscription of the member (after logout, say);
// streams of other sessions reconnect and resume where they were.
func (h *Hub) Disconnect(userID int64) {
	sh := h.shard(userID)
	sh.mu.Lock()
	list := sh.subs[userID]
	sh.mu.Unlock()
	for _, sub := range list {
		sub.Close()
	}
}

// CloseAll ends every subscription, and every later one at once: the server
// is shutting down, and streams end so that browsers reconnect elsewhere.
func (h *Hub) CloseAll() {
	h.closed.Store(true)
	var all []*Subscription
	for i := range h.shards {
		sh := &h.shards[i]
		sh.mu.Lock()
		for _, list := range sh.subs {
			all = append(all, list...)
		}
		sh.mu.Unlock()
	}
	for _, sub := range all {
		sub.Close()
	}
}

// Streams reports how many subscriptions are open.
func (h *Hub) Streams() int { return int(h.streams.Load()) }
