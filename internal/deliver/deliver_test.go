package deliver_test

// The push channel against the fixtures' instance (fixtures_test.go): the
// real webpush.Sender pushing to pushtest's fake push service.

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"testing"
	"time"

	"natter/internal/app"
	"natter/internal/deliver"
	"natter/internal/live"
	"natter/internal/natter"
	"natter/internal/store"
	"natter/internal/webpush"
	"natter/internal/webpush/pushtest"
)

func TestPushMessage(t *testing.T) {
	eachDialect(t, pushOnly, func(t *testing.T, f *fixture) {
		alice, bob := f.member("alice"), f.member("bob")
		phone := f.device(bob)

		f.send(alice, "bob", "lunch at noon?")
		f.drain()
		f.expectPushRequests(0) // within the grace period
		f.drainAfter(pushDelay)
		d1, p := f.next()
		if d1.Subscription != phone {
			t.Error("pushed to the wrong subscription")
		}
		if p.Type != "message" || p.Title != "alice" || p.Body != "lunch at noon?" || p.URL != "/messages/alice" || p.Tag != natter.MessageTag(alice.ID) {
			t.Errorf("payload %+v", p)
		}
		if d1.Urgency != "high" || d1.Topic != webpush.TopicFor(natter.MessageTag(alice.ID)) || d1.TTL < 24*time.Hour {
			t.Errorf("urgency %q, topic %q, TTL %v", d1.Urgency, d1.Topic, d1.TTL)
		}
		f.drain()
		f.expectPushRequests(1) // once

		t.Run("PreviewsOff", func(t *testing.T) {
			f.setPrefs(bob, func(p *natter.Prefs) { p.Previews = false })
			f.send(alice, "bob", "a secret")
			f.drainAfter(pushDelay)
			_, got := f.next()
			if got.Body == "a secret" || got.Title != "alice" {
				t.Errorf("with previews off the push says %+v", got)
			}
		})
	})
}

func TestOpenPageGetsNoPush(t *testing.T) {
	eachDialect(t, pushOnly, func(t *testing.T, f *fixture) {
		alice, bob := f.member("alice"), f.member("bob")
		f.device(bob)
		stream := f.hub.Subscribe(bob.ID)
		f.send(alice, "bob", "hi")
		f.drainAfter(pushDelay)
		f.expectPushRequests(0)
		// The job is done with: closing the page later pushes nothing.
		stream.Close()
		f.drainAfter(time.Hour)
		f.expectPushRequests(0)
	})
}

func TestReadWithinGracePeriodIsNeverPushed(t *testing.T) {
	eachDialect(t, pushOnly, func(t *testing.T, f *fixture) {
		alice, bob := f.member("alice"), f.member("bob")
		f.device(bob)
		f.send(alice, "bob", "hi")
		f.clock.Advance(pushDelay / 2)
		if _, err := f.app.Conversation(context.Background(), f.account(bob), "alice", 0); err != nil {
			t.Fatal(err)
		}
		f.drainAfter(pushDelay)
		f.expectPushRequests(0)

		// A mention read on the notification centre likewise.
		if _, err := f.app.CreatePost(context.Background(), alice, "hey @bob"); err != nil {
			t.Fatal(err)
		}
		if err := f.app.MarkActivityRead(context.Background(), f.account(bob), math.MaxInt64); err != nil {
			t.Fatal(err)
		}
		f.drainAfter(pushDelay)
		f.expectPushRequests(0)
	})
}

func TestMentionPushed(t *testing.T) {
	eachDialect(t, pushOnly, func(t *testing.T, f *fixture) {
		alice, bob := f.member("alice"), f.member("bob")
		f.device(bob)
		post, err := f.app.CreatePost(context.Background(), alice, "thanks @bob")
		if err != nil {
			t.Fatal(err)
		}
		f.drainAfter(pushDelay)
		d, p := f.next()
		if p.Type != "mention" || p.Title != "alice mentioned you" || p.Body != "thanks @bob" || p.Tag != natter.PostTag(post.ID) || d.Urgency == "high" {
			t.Errorf("payload %+v, urgency %q", p, d.Urgency)
		}
	})
}

func TestQuietHoursHold(t *testing.T) {
	eachDialect(t, pushOnly, func(t *testing.T, f *fixture) {
		alice, bob := f.member("alice"), f.member("bob")
		f.device(bob)
		// 12:00 UTC is 13:00 in Paris; quiet from 13:00 to 13:30 there.
		f.setPrefs(bob, func(p *natter.Prefs) {
			p.QuietFrom, p.QuietTo, p.TimeZone = 13*60, 13*60+30, "Europe/Paris"
		})
		f.send(alice, "bob", "psst")
		f.drainAfter(pushDelay)
		f.expectPushRequests(0)
		f.drainAfter(20 * time.Minute)
		f.expectPushRequests(0)
		f.drainAfter(10 * time.Minute) // 13:30 in Paris
		if _, got := f.next(); got.Body != "psst" {
			t.Errorf("after quiet hours got %+v", got)
		}
	})
}

func TestPushTurnedOffForKind(t *testing.T) {
	eachDialect(t, pushOnly, func(t *testing.T, f *fixture) {
		alice, bob := f.member("alice"), f.member("bob")
		f.device(bob)
		f.setPrefs(bob, func(p *natter.Prefs) {
			p.Kinds[natter.KindMessage] = natter.KindPrefs{Push: false, Email: natter.EmailAway}
		})
		f.send(alice, "bob", "hi")
		f.drainAfter(pushDelay)
		f.expectPushRequests(0)
	})
}

func TestGoneSubscriptionIsDeleted(t *testing.T) {
	for _, status := range []int{404, 410} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			f := newFixture(t, store.SQLite, pushOnly)
			alice, bob := f.member("alice"), f.member("bob")
			f.device(bob)
			f.svc.Answer(1, pushtest.Answer{Status: status})
			f.send(alice, "bob", "hi")
			f.drainAfter(pushDelay)
			f.expectPushRequests(1)
			devs, err := f.app.Devices(context.Background(), bob)
			if err != nil || len(devs) != 0 {
				t.Fatalf("after %d the member still has %d devices (%v)", status, len(devs), err)
			}
			f.drainAfter(time.Hour)
			f.expectPushRequests(1)
		})
	}
}

func TestFailingPushIsRetried(t *testing.T) {
	eachDialect(t, pushOnly, func(t *testing.T, f *fixture) {
		alice, bob := f.member("alice"), f.member("bob")
		f.device(bob)
		f.svc.Answer(1, pushtest.Answer{Status: 500})
		f.svc.Answer(1, pushtest.Answer{Status: 429, RetryAfter: "120"})
		f.send(alice, "bob", "hi")
		f.drainAfter(pushDelay)
		f.expectPushRequests(1)
		f.drainAfter(30 * time.Second) // the first back-off
		f.expectPushRequests(2)
		f.drainAfter(90 * time.Second) // Retry-After: 120 is not over
		f.expectPushRequests(2)
		f.drainAfter(30 * time.Second)
		if _, p := f.next(); p.Body != "hi" {
			t.Errorf("got %+v", p)
		}
		devs, _ := f.app.Devices(context.Background(), bob)
		if len(devs) != 1 || devs[0].Failing || devs[0].LastSuccess.IsZero() {
			t.Errorf("device after success: %+v", devs)
		}
	})
}

func TestFailingForADayIsDropped(t *testing.T) {
	f := newFixture(t, store.SQLite, pushOnly)
	alice, bob := f.member("alice"), f.member("bob")
	f.device(bob)
	f.svc.Answer(100, pushtest.Answer{Status: 503})
	f.send(alice, "bob", "hi")
	f.clock.Advance(pushDelay)
	for range 40 {
		f.drain()
		f.clock.Advance(time.Hour)
	}
	devs, _ := f.app.Devices(context.Background(), bob)
	if len(devs) != 0 {
		t.Errorf("a subscription failing for more than a day is kept: %+v", devs)
	}
	if n := f.svc.Requests(); n < 20 || n > 30 {
		t.Errorf("%d attempts in 40 hours, want about one an hour for a day", n)
	}
}

func TestReadClosesOtherDevices(t *testing.T) {
	eachDialect(t, pushOnly, func(t *testing.T, f *fixture) {
		alice, bob, carol := f.member("alice"), f.member("bob"), f.member("carol")
		phone, laptop := f.device(bob), f.device(bob)
		f.send(alice, "bob", "one")
		f.send(carol, "bob", "two")
		f.drainAfter(pushDelay)
		for range 4 {
			f.next()
		}
		// Bob reads alice's conversation (on some device): both devices
		// close alice's notification, and only hers.
		if _, err := f.app.Conversation(context.Background(), f.account(bob), "alice", 0); err != nil {
			t.Fatal(err)
		}
		f.drain() // read pushes are due at once
		got := map[*pushtest.Subscription][]string{}
		for range 2 {
			d, p := f.next()
			if p.Type != "read" {
				t.Fatalf("got %+v, want a read push", p)
			}
			got[d.Subscription] = p.Tags
		}
		for _, dev := range []*pushtest.Subscription{phone, laptop} {
			if tags := got[dev]; len(tags) != 1 || tags[0] != natter.MessageTag(alice.ID) {
				t.Errorf("read push carries %v, want [%s]", tags, natter.MessageTag(alice.ID))
			}
		}
		// Reading everything closes carol's too; alice's is not closed twice.
		if _, _, err := f.app.ReadMessages(context.Background(), f.account(bob), 1); err != nil {
			t.Fatal(err)
		}
		f.drain()
		for range 2 {
			_, p := f.next()
			if p.Type != "read" || len(p.Tags) != 1 || p.Tags[0] != natter.MessageTag(carol.ID) {
				t.Errorf("got %+v, want a read push for carol's conversation", p)
			}
		}
		f.drain()
		f.expectPushRequests(8)
	})
}

func TestPrivateEndpointRefusedUnlessAllowed(t *testing.T) {
	f := newFixture(t, store.SQLite, pushOnly)
	bob := f.member("bob")
	strict, err := webpush.NewSender(webpush.Options{Key: f.key, Subject: "mailto:ops@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(f.store, f.hub, app.Config{Password: app.FastPasswordParams, PushKey: f.key.PublicKey(), Endpoints: strict})
	if err != nil {
		t.Fatal(err)
	}
	sub := f.svc.Subscribe(f.key.PublicKey())
	for _, endpoint := range []string{sub.Endpoint, "https://10.1.2.3/push/x", "https://[::1]/push/x", "http://push.example.net/x"} {
		var js map[string]any
		json.Unmarshal(sub.JSON(), &js)
		js["endpoint"] = endpoint
		raw, _ := json.Marshal(js)
		if _, err := a.SubscribePush(context.Background(), bob, raw, ""); natter.ErrorKind(err) != natter.Malformed {
			t.Errorf("%s: got %v, want it refused", endpoint, err)
		}
	}
	// The operator's allow list lets the same endpoint in.
	if _, err := f.app.SubscribePush(context.Background(), bob, sub.JSON(), ""); err != nil {
		t.Errorf("allowed endpoint refused: %v", err)
	}
}

// Two instances share one PostgreSQL database: each pushes what it claims,
// and every item is pushed exactly once.
func TestTwoEnginesPushEachItemOnce(t *testing.T) {
	f := newFixture(t, store.Postgres, pushOnly)
	other := f.newEngine(instance{})
	alice := f.member("alice")
	const members = 40
	subs := map[*pushtest.Subscription]bool{}
	for i := range members {
		m := f.member("m" + string(rune('a'+i/26)) + string(rune('a'+i%26)))
		subs[f.device(m)] = true
		f.send(alice, m.Username, "hello")
	}
	f.clock.Advance(pushDelay)
	f.drainTogether(f.engine, other)
	seen := map[*pushtest.Subscription]int{}
	for _, d := range f.svc.Deliveries() {
		seen[d.Subscription]++
	}
	for s := range subs {
		if seen[s] != 1 {
			t.Errorf("a subscription got %d pushes, want 1", seen[s])
		}
	}
	f.expectPushRequests(members)
}

func TestTestPush(t *testing.T) {
	f := newFixture(t, store.SQLite, pushOnly)
	bob := f.member("bob")
	f.device(bob)
	f.device(bob)
	n, err := f.app.SendTestPush(context.Background(), bob)
	if err != nil || n != 2 {
		t.Fatalf("SendTestPush = %d, %v", n, err)
	}
	f.drain()
	for range 2 {
		if _, p := f.next(); p.Type != "test" {
			t.Errorf("got %+v", p)
		}
	}
}

// On PostgreSQL a page open on another instance counts: each instance
// records its members with open streams, and a dead instance's record
// lapses.
func TestSharedPresence(t *testing.T) {
	f := newFixture(t, store.Postgres, pushOnly)
	alice, bob := f.member("alice"), f.member("bob")
	f.device(bob)
	otherHub := live.NewHub(8)
	other := &deliver.SharedPresence{Streams: otherHub, Store: f.store, Instance: "other"}
	here := &deliver.SharedPresence{Streams: f.hub, Store: f.store, Instance: "here"}
	f.engine = f.newEngine(instance{presence: here})

	otherHub.Subscribe(bob.ID)
	if err := other.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.send(alice, "bob", "seen elsewhere")
	f.drainAfter(pushDelay)
	f.expectPushRequests(0)

	// The other instance dies: its record lapses, and the next message is
	// pushed.
	f.clock.Advance(10 * time.Second)
	f.send(alice, "bob", "nobody home")
	f.drainAfter(pushDelay)
	if _, p := f.next(); p.Body != "nobody home" {
		t.Errorf("got %+v", p)
	}
}

// A reply is pushed to the author of the post it answers, titled so;
// opening that post closes it on the device; likes are not pushed unless
// the member asks (natter.DefaultLikePrefs); deleting a reply closes what
// was pushed about it.
func TestRepliesAndLikesPushed(t *testing.T) {
	eachDialect(t, pushOnly, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		alice, bob := f.member("alice"), f.member("bob")
		f.device(bob)
		question, err := f.app.CreatePost(ctx, bob, "Tea?")
		if err != nil {
			t.Fatal(err)
		}
		reply, err := f.app.Reply(ctx, alice, question.ID, "Yes please")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.app.Like(ctx, alice, question.ID); err != nil {
			t.Fatal(err)
		}
		f.drainAfter(pushDelay)
		_, p := f.next()
		if p.Type != "reply" || p.Title != "alice replied to your post" || p.Body != "Yes please" ||
			p.Tag != natter.PostTag(reply.ID) || p.URL != fmt.Sprintf("/post/%d", reply.ID) {
			t.Errorf("reply push %+v", p)
		}
		f.expectPushRequests(1) // the like is not pushed by default

		// Opening the question reads the reply: the device closes it.
		if _, _, err := f.app.ReadPost(ctx, f.account(bob), question.ID); err != nil {
			t.Fatal(err)
		}
		f.drain()
		if _, p := f.next(); p.Type != "read" || len(p.Tags) != 1 || p.Tags[0] != natter.PostTag(reply.ID) {
			t.Errorf("got %+v, want a read push closing the reply", p)
		}

		// Another reply, pushed, then deleted: the device closes it.
		second, err := f.app.Reply(ctx, alice, question.ID, "And cake")
		if err != nil {
			t.Fatal(err)
		}
		f.drainAfter(pushDelay)
		f.next()
		if err := f.app.DeletePost(ctx, alice, second.ID); err != nil {
			t.Fatal(err)
		}
		f.drain()
		if _, p := f.next(); p.Type != "read" || len(p.Tags) != 1 || p.Tags[0] != natter.PostTag(second.ID) {
			t.Errorf("got %+v, want a read push closing the deleted reply", p)
		}
	})
}

// Whether a like is pushed is asked when it is owed and again when it
// comes due: a member who turns likes off meanwhile is not pushed what was
// owed before.
func TestLikePushTurnedOffMeanwhile(t *testing.T) {
	eachDialect(t, pushOnly, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		alice, bob, carol := f.member("alice"), f.member("bob"), f.member("carol")
		f.device(bob)
		setLikes := func(k natter.KindPrefs) {
			t.Helper()
			f.setPrefs(bob, func(p *natter.Prefs) { p.Kinds[natter.KindLike] = k })
		}
		setLikes(natter.KindPrefs{Push: true, Email: natter.EmailNever})
		post, err := f.app.CreatePost(ctx, bob, "Tea?")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.app.Like(ctx, alice, post.ID); err != nil {
			t.Fatal(err)
		}
		f.drainAfter(pushDelay)
		if _, p := f.next(); p.Type != "like" || p.Title != "alice liked your post" {
			t.Errorf("like push %+v", p)
		}

		if _, err := f.app.Like(ctx, carol, post.ID); err != nil {
			t.Fatal(err)
		}
		if _, owed, err := f.store.NextDue(ctx); err != nil || !owed {
			t.Fatalf("carol's like owes nothing (%v, %v): bob wants likes pushed", owed, err)
		}
		setLikes(natter.KindPrefs{Push: false, Email: natter.EmailNever})
		f.drainAfter(pushDelay)
		f.expectPushRequests(1)
		if _, owed, err := f.store.NextDue(ctx); err != nil || owed {
			t.Errorf("the outbox still owes something (%v, %v)", owed, err)
		}
	})
}
