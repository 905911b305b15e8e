package app_test

import (
	"slices"
	"testing"
	"time"

	"natter/internal/app"
	"natter/internal/natter"
)

func TestDeviceName(t *testing.T) {
	for ua, want := range map[string]string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36":                         "Chrome on Windows",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0":           "Edge on Windows",
		"Mozilla/5.0 (Android 14; Mobile; rv:130.0) Gecko/130.0 Firefox/130.0":                                                                    "Firefox on Android",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1": "Safari on iPhone",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15":                      "Safari on macOS",
		"": "A browser",
	} {
		if got := app.DeviceName(ua); got != want {
			t.Errorf("DeviceName(%q) = %q, want %q", ua, got, want)
		}
	}
}

// What a like, reply or mention owes is read from its member's
// preferences when it is written: nothing on a channel they do not want
// it on. The outbox is read back through the store (ClaimJobs, once
// everything is due).
func TestOweOnlyWhereWanted(t *testing.T) {
	cfg := app.Config{Channels: []app.Channel{{Name: natter.ChannelPush, Delay: time.Second}, {Name: natter.ChannelEmail, Delay: time.Second}}}
	forEachDialect(t, cfg, func(t *testing.T, e *env) {
		ctx := t.Context()
		member := func(name string) natter.Account {
			var a natter.Account
			if _, err := e.store.Update(ctx, func(tx natter.Tx) error {
				var err error
				if a, err = tx.CreateUser(ctx, name, name+"@example.com", "not a hash"); err != nil {
					return err
				}
				// A device, so that push has somewhere to go.
				_, err = tx.SavePushSubscription(ctx, natter.PushSubscription{UserID: a.ID,
					Endpoint: "https://push.example/" + name, P256DH: "key", Auth: "auth"})
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return a
		}
		alice, bob, carol := member("alice"), member("bob"), member("carol")
		// owed returns what the outbox holds, as "channel kind", and
		// empties it.
		owed := func() []string {
			t.Helper()
			e.clock.Advance(time.Minute)
			jobs, err := e.store.ClaimJobs(ctx, "test", 100, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, j := range jobs {
				got = append(got, j.Channel+" "+j.Item.Kind)
				if err := e.store.FinishJob(ctx, j); err != nil {
					t.Fatal(err)
				}
			}
			slices.Sort(got)
			return got
		}
		setPrefs := func(u natter.Account, kind string, k natter.KindPrefs) {
			t.Helper()
			p := natter.DefaultPrefs()
			p.Kinds[kind] = k
			if err := e.SaveNotificationPrefs(ctx, u, p); err != nil {
				t.Fatal(err)
			}
		}
		post, err := e.CreatePost(ctx, bob, "Tea?")
		if err != nil {
			t.Fatal(err)
		}
		owed()

		t.Run("LikeByDefault", func(t *testing.T) {
			if _, err := e.Like(ctx, alice, post.ID); err != nil {
				t.Fatal(err)
			}
			if got := owed(); len(got) != 0 {
				t.Errorf("a like bob wants neither pushed nor emailed (the default) owed %q", got)
			}
		})
		t.Run("LikePushOn", func(t *testing.T) {
			setPrefs(bob, natter.KindLike, natter.KindPrefs{Push: true, Email: natter.EmailNever})
			if _, err := e.Like(ctx, carol, post.ID); err != nil {
				t.Fatal(err)
			}
			if got, want := owed(), []string{"push like"}; !slices.Equal(got, want) {
				t.Errorf("a like bob wants pushed owed %q, want %q", got, want)
			}
		})
		t.Run("MentionAndReply", func(t *testing.T) {
			// By default both channels; with mentions off, none.
			setPrefs(carol, natter.KindMention, natter.KindPrefs{Push: false, Email: natter.EmailNever})
			if _, err := e.Reply(ctx, alice, post.ID, "Yes please, @carol"); err != nil {
				t.Fatal(err)
			}
			if got, want := owed(), []string{"email reply", "push reply"}; !slices.Equal(got, want) {
				t.Errorf("a reply to bob mentioning carol owed %q, want %q", got, want)
			}
		})
	})
}
