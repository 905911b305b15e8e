package live_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"natter/internal/live"
	"natter/internal/natter"
	"natter/internal/store"
	"natter/internal/store/storetest"
)

// On PostgreSQL a post committed by any instance reaches every instance's
// open timelines: the transaction announces it, and each instance's
// listener hands it to its hub.
func TestListenerRelaysPosts(t *testing.T) {
	dsn := storetest.DSN(t, store.Postgres)
	s, err := store.Open(t.Context(), dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	hub := live.NewHub(5)
	sub := hub.Subscribe(1)
	defer sub.Close()
	sub.WatchTimeline()

	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		live.NewListener(dsn, hub, slog.New(slog.NewTextHandler(io.Discard, nil))).Run(ctx)
	}()
	defer func() { cancel(); <-stopped }()
	// Once listening, the listener has every stream catch up: a wake-up.
	select {
	case <-sub.Events():
	case <-time.After(guard):
		t.Fatal("the listener did not connect")
	}

	// Every test's schema numbers its posts from 1, and all of them share
	// the notify channel: start this one's numbers where no other test's
	// are, or another test's post 1 would stand for this one's.
	raw := storetest.OpenRaw(t, store.Postgres, dsn)
	if _, err := raw.ExecContext(t.Context(), `SELECT setval(pg_get_serial_sequence('posts', 'id'), $1)`,
		1_000_000_000+rand.Int64N(1_000_000_000)); err != nil {
		t.Fatal(err)
	}

	var post natter.Post
	_, err = s.Update(t.Context(), func(tx natter.Tx) error {
		u, err := tx.CreateUser(t.Context(), "alice", "alice@example.com", "x")
		if err != nil {
			return err
		}
		post, err = tx.CreatePost(t.Context(), u.Ref(), "hello")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Other tests' posts share the channel: wait for this one's id.
	waitNews(t, sub, func(recent []int64) bool { return slices.Contains(recent, post.ID) }, "post %d never reached the timeline", post.ID)

	// Its deletion is announced too: the post leaves the timeline's news.
	if _, err = s.Update(t.Context(), func(tx natter.Tx) error { return tx.DeletePost(t.Context(), post.ID) }); err != nil {
		t.Fatal(err)
	}
	waitNews(t, sub, func(recent []int64) bool { return !slices.Contains(recent, post.ID) }, "deleted post %d stayed in the timeline's news", post.ID)
}

// waitNews waits until sub's timeline news satisfy ok, or fails the test
// with the message format.
func waitNews(t *testing.T, sub *live.Subscription, ok func(recent []int64) bool, format string, args ...any) {
	t.Helper()
	timeout := time.After(guard)
	for {
		select {
		case <-sub.Events():
		case <-timeout:
			t.Fatalf(format, args...)
		}
		if data, fresh := sub.TimelineNews(); fresh {
			var news struct{ Recent []int64 }
			if err := json.Unmarshal(data, &news); err != nil {
				t.Fatalf("news %s: %v", data, err)
			}
			if ok(news.Recent) {
				return
			}
		}
	}
}
