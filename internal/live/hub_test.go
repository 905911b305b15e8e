package live_test

import (
	"sync"
	"testing"
	"time"

	"natter/internal/live"
	"natter/internal/natter"
)

// guard bounds every wait, so that a bug fails the test instead of hanging
// it. Correct code never comes near it.
const guard = 10 * time.Second

// pending drains what a subscription holds right now. Publish hands events
// over before it returns, so no waiting is needed.
func pending(sub *live.Subscription) []live.Event {
	var evs []live.Event
	for {
		select {
		case ev := <-sub.Events():
			evs = append(evs, ev)
		default:
			return evs
		}
	}
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// within fails the test unless fn returns before the guard.
func within(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(guard):
		t.Fatalf("%s did not return within %v", what, guard)
	}
}

func TestPublish(t *testing.T) {
	h := live.NewHub(4)
	a1, a2, b := h.Subscribe(1), h.Subscribe(1), h.Subscribe(2)
	defer a1.Close()
	defer a2.Close()
	defer b.Close()

	t.Run("OnlyToThatMember", func(t *testing.T) {
		h.Publish(live.Event{UserID: 1, Seq: 7})
		for i, sub := range []*live.Subscription{a1, a2} {
			if got := pending(sub); len(got) != 1 || got[0].UserID != 1 || got[0].Seq != 7 {
				t.Errorf("member 1's stream %d got %+v, want seq 7", i, got)
			}
		}
		if got := pending(b); len(got) != 0 {
			t.Errorf("member 2 got member 1's event: %+v", got)
		}
	})

	t.Run("SeveralInOrder", func(t *testing.T) {
		h.Publish(live.Event{UserID: 2, Seq: 1}, live.Event{UserID: 1, Seq: 8}, live.Event{UserID: 2, Seq: 2})
		if got := pending(b); len(got) != 2 || got[0].Seq != 1 || got[1].Seq != 2 {
			t.Errorf("member 2 got %+v, want seq 1 then 2", got)
		}
		pending(a1)
		pending(a2)
	})

	t.Run("NobodyListening", func(t *testing.T) {
		within(t, "Publish to a member with no stream", func() { h.Publish(live.Event{UserID: 99, Seq: 1}) })
	})

	t.Run("Notify", func(t *testing.T) {
		notes := []natter.Notification{
			{UserID: 2, Seq: 3, Name: "unread_message_count", Data: []byte("1")},
			{UserID: 1, Seq: 9, Name: "unread_activity_count", Data: []byte("4")},
		}
		h.Notify(notes)
		got := pending(b)
		if len(got) != 1 || got[0].Seq != 3 || got[0].Note == nil || got[0].Note.Name != "unread_message_count" || string(got[0].Note.Data) != "1" {
			t.Errorf("member 2 got %+v, want the message count note", got)
		}
		if got := pending(a1); len(got) != 1 || got[0].Note == nil || got[0].Note.Seq != 9 {
			t.Errorf("member 1 got %+v", got)
		}
		pending(a2)
	})

	if h.Streams() != 3 {
		t.Errorf("Streams() = %d, want 3", h.Streams())
	}
}

// A subscriber that never reads cannot hold up the publisher: what does not
// fit is dropped and the subscriber is told it lagged, so that it reads the
// store instead.
func TestPublish_FullSubscriberNeverBlocks(t *testing.T) {
	h := live.NewHub(4)
	stuck, other := h.Subscribe(1), h.Subscribe(2)
	defer stuck.Close()
	defer other.Close()

	if stuck.TakeLagged() {
		t.Error("a new subscription is lagged")
	}
	within(t, "publishing 1000 events to a reader that never reads", func() {
		for i := 1; i <= 1000; i++ {
			h.Publish(live.Event{UserID: 1, Seq: int64(i)})
		}
		h.Publish(live.Event{UserID: 2, Seq: 1})
	})

	got := pending(stuck)
	if len(got) == 0 || len(got) >= 1000 {
		t.Fatalf("buffered %d events, want some but not all", len(got))
	}
	for i, ev := range got {
		if ev.Seq != int64(i+1) {
			t.Fatalf("buffered event %d has seq %d: the oldest are kept, in order", i, ev.Seq)
		}
	}
	if !stuck.TakeLagged() {
		t.Error("TakeLagged() = false after events were dropped")
	}
	if stuck.TakeLagged() {
		t.Error("TakeLagged() = true twice: the mark was not cleared")
	}
	if got := pending(other); len(got) != 1 {
		t.Errorf("the other member got %d events, want 1", len(got))
	}
	if other.TakeLagged() {
		t.Error("the other member is marked lagged")
	}

	// Drained, the stream takes events again without lagging.
	h.Publish(live.Event{UserID: 1, Seq: 1001})
	if got := pending(stuck); len(got) != 1 || got[0].Seq != 1001 || stuck.TakeLagged() {
		t.Errorf("after draining got %+v", got)
	}
}

func TestSubscribe_CapClosesOldest(t *testing.T) {
	h := live.NewHub(2)
	s1 := h.Subscribe(1)
	s2 := h.Subscribe(1)
	other := h.Subscribe(2)
	if closed(s1.Done()) || closed(s2.Done()) {
		t.Fatal("a subscription within the cap was closed")
	}
	s3 := h.Subscribe(1)
	if !closed(s1.Done()) {
		t.Error("the oldest subscription was not closed by the third")
	}
	if closed(s2.Done()) || closed(s3.Done()) || closed(other.Done()) {
		t.Error("a newer subscription, or another member's, was closed")
	}
	if h.Streams() != 3 {
		t.Errorf("Streams() = %d, want 3 (two of member 1, one of member 2)", h.Streams())
	}
	h.Publish(live.Event{UserID: 1, Seq: 1})
	if len(pending(s1)) != 0 {
		t.Error("the closed subscription still receives")
	}
	if len(pending(s2)) != 1 || len(pending(s3)) != 1 {
		t.Error("the open subscriptions did not receive")
	}
	s1.Close() // its stream closes it too when it sees Done: harmless
	if h.Streams() != 3 {
		t.Errorf("Streams() = %d after closing an evicted subscription, want 3", h.Streams())
	}

	t.Run("AtLeastOne", func(t *testing.T) {
		h := live.NewHub(0)
		a := h.Subscribe(5)
		b := h.Subscribe(5)
		if !closed(a.Done()) || closed(b.Done()) || h.Streams() != 1 {
			t.Errorf("NewHub(0): first closed %v, second closed %v, %d streams; want a cap of 1", closed(a.Done()), closed(b.Done()), h.Streams())
		}
		b.Close()
	})
}

func TestClose(t *testing.T) {
	h := live.NewHub(4)
	a, b := h.Subscribe(1), h.Subscribe(1)
	if h.Streams() != 2 {
		t.Fatalf("Streams() = %d, want 2", h.Streams())
	}
	a.Close()
	if !closed(a.Done()) {
		t.Error("Done not closed by Close")
	}
	if h.Streams() != 1 {
		t.Errorf("Streams() = %d after Close, want 1", h.Streams())
	}
	a.Close()
	if h.Streams() != 1 {
		t.Errorf("Streams() = %d after a second Close, want 1", h.Streams())
	}
	h.Publish(live.Event{UserID: 1, Seq: 1})
	if len(pending(a)) != 0 {
		t.Error("a closed subscription received an event")
	}
	if len(pending(b)) != 1 {
		t.Error("the remaining subscription missed the event")
	}
	b.Close()
	if h.Streams() != 0 {
		t.Errorf("Streams() = %d with none open", h.Streams())
	}
	// The member's last subscription gone, a new one works as the first did.
	c := h.Subscribe(1)
	defer c.Close()
	h.Publish(live.Event{UserID: 1, Seq: 2})
	if len(pending(c)) != 1 {
		t.Error("a new subscription after the others closed missed the event")
	}
}

func TestDisconnect(t *testing.T) {
	h := live.NewHub(4)
	a1, a2, b := h.Subscribe(1), h.Subscribe(1), h.Subscribe(2)
	defer b.Close()
	h.Disconnect(1)
	if !closed(a1.Done()) || !closed(a2.Done()) {
		t.Error("Disconnect left a subscription of the member open")
	}
	if closed(b.Done()) {
		t.Error("Disconnect closed another member's subscription")
	}
	if h.Streams() != 1 {
		t.Errorf("Streams() = %d, want 1", h.Streams())
	}
	h.Disconnect(1) // nothing left: harmless
	h.Disconnect(42)
	a1.Close()
	if h.Streams() != 1 {
		t.Errorf("Streams() = %d after Close of a disconnected subscription, want 1", h.Streams())
	}
}

// Resync wakes every stream and marks it lagged, so that each reads the
// store (the PostgreSQL listener calls it after reconnecting).
func TestResync(t *testing.T) {
	h := live.NewHub(4)
	a, b := h.Subscribe(1), h.Subscribe(2)
	defer a.Close()
	defer b.Close()
	for range 20 { // fill a's buffer: Resync must still not block
		h.Publish(live.Event{UserID: 1, Seq: 1})
	}
	a.TakeLagged()
	within(t, "Resync", h.Resync)
	for _, sub := range []*live.Subscription{a, b} {
		if !sub.TakeLagged() {
			t.Error("a stream was not marked lagged")
		}
	}
	if got := pending(b); len(got) != 1 || got[0].UserID != 2 {
		t.Errorf("b got %+v, want one wake-up event", got)
	}
}

// Run with -race: subscriptions opening, receiving, closing and being
// disconnected from many goroutines at once.
func TestHub_Concurrent(t *testing.T) {
	h := live.NewHub(3)
	const workers, rounds = 8, 200
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { // subscribe, read a little, close
			for i := range rounds {
				sub := h.Subscribe(int64(i % 4))
				select {
				case <-sub.Events():
				case <-sub.Done():
				default:
				}
				sub.TakeLagged()
				sub.Close()
			}
		})
		wg.Go(func() { // publish
			for i := range rounds {
				h.Publish(live.Event{UserID: int64(i % 4), Seq: int64(i)})
				h.Notify([]natter.Notification{{UserID: int64((i + w) % 4), Seq: int64(i)}})
			}
		})
	}
	wg.Go(func() {
		for i := range rounds {
			h.Disconnect(int64(i % 4))
			if i%50 == 0 {
				h.Resync()
			}
			_ = h.Streams()
		}
	})
	within(t, "the concurrent workers", wg.Wait)
	if n := h.Streams(); n != 0 {
		t.Errorf("Streams() = %d after every subscription closed, want 0", n)
	}
}

// CloseAll (shutdown) ends every subscription, and any made afterwards.
func TestCloseAll(t *testing.T) {
	h := live.NewHub(8)
	a, b := h.Subscribe(1), h.Subscribe(2)
	h.CloseAll()
	if !closed(a.Done()) || !closed(b.Done()) {
		t.Fatal("CloseAll left a subscription open")
	}
	late := h.Subscribe(3)
	if !closed(late.Done()) {
		t.Error("a subscription made after CloseAll is open")
	}
	late.Close()
	a.Close()
	if n := h.Streams(); n != 0 {
		t.Errorf("%d streams counted after all closed, want 0", n)
	}
}
