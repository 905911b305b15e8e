package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"natter/internal/app"
	"natter/internal/natter"
	"natter/internal/webpush"
	"natter/internal/webpush/pushtest"
)

// pushSite is a site that sends push, with a fake push service its sender
// may reach (the operator's allow list).
type pushSite struct {
	*site
	key *webpush.VAPIDKey
	svc *pushtest.Service
}

func newPushSite(t *testing.T) *pushSite {
	t.Helper()
	key, err := webpush.GenerateVAPIDKey()
	if err != nil {
		t.Fatal(err)
	}
	svc := pushtest.NewService(t)
	sender, err := webpush.NewSender(webpush.Options{Key: key, Subject: "mailto:ops@example.org", AllowInsecure: []string{svc.HostPort()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sender.Close)
	return &pushSite{site: newSite(t, siteOptions{App: app.Config{PushKey: key.PublicKey(), Endpoints: sender}}), key: key, svc: svc}
}

func (m *member) sendJSON(t testing.TB, method, path string, body string, header ...string) *response {
	t.Helper()
	req := m.newRequest(t, method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return m.do(t, req)
}

func (s *pushSite) devices(t *testing.T, m *member) []natter.PushSubscription {
	t.Helper()
	subs, err := s.store.PushSubscriptions(context.Background(), m.user(t).ID)
	if err != nil {
		t.Fatal(err)
	}
	return subs
}

func jsonError(t *testing.T, r *response) string {
	t.Helper()
	var v struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.Body), &v); err != nil || v.Error == "" {
		t.Fatalf("%s %s: body %q is not a JSON error", r.Request.Method, r.Request.URL.Path, r.Body)
	}
	return v.Error
}

func TestPushKey(t *testing.T) {
	s := newPushSite(t)
	r := s.browser().get(t, "/push/key").wantStatus(http.StatusOK)
	var v map[string]string
	if err := json.Unmarshal([]byte(r.Body), &v); err != nil || v["publicKey"] != s.key.PublicKey() || len(v) != 1 {
		t.Errorf("GET /push/key = %s, want {\"publicKey\": %q}", r.Body, s.key.PublicKey())
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}

	t.Run("PushOff", func(t *testing.T) {
		off := newSite(t)
		jsonError(t, off.browser().get(t, "/push/key").wantStatus(http.StatusNotFound))
		bob := off.register(t, "bob")
		sub := s.svc.Subscribe(s.key.PublicKey())
		jsonError(t, bob.sendJSON(t, http.MethodPost, "/push/subscriptions", string(sub.JSON())).wantStatus(http.StatusNotFound))
		r := bob.page(t, "/settings/notifications").wantText("This site does not send push notifications")
		if _, ok := findID(r.Body, "push-controls"); ok {
			t.Error("a site without push offers to turn it on")
		}
	})
}

func TestPushSubscriptions(t *testing.T) {
	s := newPushSite(t)
	bob := s.register(t, "bob")
	sub := s.svc.Subscribe(s.key.PublicKey())

	t.Run("LoggedOut", func(t *testing.T) {
		jsonError(t, s.browser().sendJSON(t, http.MethodPost, "/push/subscriptions", string(sub.JSON())).wantStatus(http.StatusUnauthorized))
	})

	t.Run("SubscribeTwiceKeepsOne", func(t *testing.T) {
		bob.sendJSON(t, http.MethodPost, "/push/subscriptions", string(sub.JSON()), "User-Agent", "Mozilla/5.0 (Linux; Android 14) Chrome/130.0 Mobile Safari/537.36").wantStatus(http.StatusCreated)
		bob.sendJSON(t, http.MethodPost, "/push/subscriptions", string(sub.JSON())).wantStatus(http.StatusCreated)
		if got := s.devices(t, bob); len(got) != 1 || got[0].Endpoint != sub.Endpoint {
			t.Fatalf("after subscribing twice bob has %+v", got)
		}
	})

	t.Run("BadSubscriptions", func(t *testing.T) {
		var good map[string]any
		json.Unmarshal(sub.JSON(), &good)
		for name, mutate := range map[string]func(map[string]any){
			"BadKey":         func(v map[string]any) { v["keys"] = map[string]any{"p256dh": "AAAA", "auth": "AAAAAAAAAAAAAAAAAAAAAA"} },
			"ShortAuth":      func(v map[string]any) { v["keys"].(map[string]any)["auth"] = "AAAA" },
			"NoEndpoint":     func(v map[string]any) { delete(v, "endpoint") },
			"NotHTTPS":       func(v map[string]any) { v["endpoint"] = "http://push.example.net/x" },
			"PrivateAddress": func(v map[string]any) { v["endpoint"] = "https://192.168.1.20/push/x" },
			"Loopback":       func(v map[string]any) { v["endpoint"] = "https://127.0.0.1:8443/push/x" },
		} {
			t.Run(name, func(t *testing.T) {
				v := map[string]any{}
				raw, _ := json.Marshal(good)
				json.Unmarshal(raw, &v)
				mutate(v)
				body, _ := json.Marshal(v)
				jsonError(t, bob.sendJSON(t, http.MethodPost, "/push/subscriptions", string(body)).wantStatus(http.StatusBadRequest))
			})
		}
		jsonError(t, bob.sendJSON(t, http.MethodPost, "/push/subscriptions", "{not json").wantStatus(http.StatusBadRequest))
		if got := s.devices(t, bob); len(got) != 1 {
			t.Errorf("refused subscriptions left %d devices, want 1", len(got))
		}
	})

	t.Run("CrossOriginRefused", func(t *testing.T) {
		other := s.svc.Subscribe(s.key.PublicKey())
		r := bob.sendJSON(t, http.MethodPost, "/push/subscriptions", string(other.JSON()), "Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site")
		if r.StatusCode != http.StatusForbidden {
			t.Errorf("cross-origin subscribe: %d, want 403", r.StatusCode)
		}
		r = bob.sendJSON(t, http.MethodDelete, "/push/subscriptions", `{"endpoint":"`+sub.Endpoint+`"}`, "Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site")
		if r.StatusCode != http.StatusForbidden {
			t.Errorf("cross-origin unsubscribe: %d, want 403", r.StatusCode)
		}
		if got := s.devices(t, bob); len(got) != 1 {
			t.Errorf("after cross-origin requests bob has %d devices, want 1", len(got))
		}
	})

	t.Run("OnlyOwnUnsubscribed", func(t *testing.T) {
		carol := s.register(t, "carol")
		carol.sendJSON(t, http.MethodDelete, "/push/subscriptions", `{"endpoint":"`+sub.Endpoint+`"}`).wantStatus(http.StatusNoContent)
		if got := s.devices(t, bob); len(got) != 1 {
			t.Errorf("carol removed bob's subscription")
		}
	})

	t.Run("Unsubscribe", func(t *testing.T) {
		bob.sendJSON(t, http.MethodDelete, "/push/subscriptions", `{"endpoint":"`+sub.Endpoint+`"}`).wantStatus(http.StatusNoContent)
		if got := s.devices(t, bob); len(got) != 0 {
			t.Errorf("after unsubscribing bob has %d devices", len(got))
		}
		jsonError(t, bob.sendJSON(t, http.MethodDelete, "/push/subscriptions", `{}`).wantStatus(http.StatusBadRequest))
	})
}

func TestNotificationSettings(t *testing.T) {
	s := newPushSite(t)
	bob := s.register(t, "bob")

	r := bob.page(t, "/settings/notifications")
	controls := r.byID("push-controls")
	if controls.Attr["data-key-url"] != "/push/key" || controls.Attr["data-subscriptions-url"] != "/push/subscriptions" {
		t.Errorf("#push-controls: %+v", controls.Attr)
	}
	r.wantText("Private messages", "Mentions", "This site does not send email", "Quiet hours", "None yet")
	if !r.byID("push_message").Has("checked") || !r.byID("push_mention").Has("checked") || !r.byID("previews").Has("checked") {
		t.Error("push and previews are not on by default")
	}
	if !r.byID("email_message").Has("disabled") {
		t.Error("the email column is not disabled while the site sends no email")
	}
	if !strings.Contains(bob.page(t, "/").Body, `href="/settings/notifications"`) {
		t.Error("the navbar has no link to the settings")
	}

	t.Run("Save", func(t *testing.T) {
		bob.postForm(t, "/settings/notifications", url.Values{
			"push_message": {"on"}, "quiet_from": {"22:30"}, "quiet_to": {"07:00"}, "time_zone": {"Europe/Paris"},
		}).wantRedirect("/settings/notifications")
		r := bob.page(t, "/settings/notifications")
		r.wantText("Your notification settings have been saved.")
		if !r.byID("push_message").Has("checked") || r.byID("push_mention").Has("checked") || r.byID("previews").Has("checked") {
			t.Error("the saved switches are not shown")
		}
		if r.fieldValue("quiet_from") != "22:30" || r.fieldValue("quiet_to") != "07:00" || r.fieldValue("time_zone") != "Europe/Paris" {
			t.Errorf("quiet hours shown as %q–%q in %q", r.fieldValue("quiet_from"), r.fieldValue("quiet_to"), r.fieldValue("time_zone"))
		}
		p, err := s.store.Prefs(context.Background(), bob.user(t).ID)
		if err != nil {
			t.Fatal(err)
		}
		if p.Kind(natter.KindMessage).Email != natter.EmailAway {
			t.Errorf("the disabled email choice was lost: %+v", p.Kind(natter.KindMessage))
		}
	})

	t.Run("Refused", func(t *testing.T) {
		r := bob.postForm(t, "/settings/notifications", url.Values{"quiet_from": {"22:00"}, "quiet_to": {"07:00"}, "time_zone": {"Mars/Olympus"}}).
			wantStatus(http.StatusUnprocessableEntity)
		if r.fieldError("time_zone") == "" || r.fieldValue("time_zone") != "Mars/Olympus" {
			t.Errorf("bad zone: error %q, value %q", r.fieldError("time_zone"), r.fieldValue("time_zone"))
		}
		r = bob.postForm(t, "/settings/notifications", url.Values{"quiet_from": {"25:00"}, "quiet_to": {"07:00"}}).
			wantStatus(http.StatusUnprocessableEntity)
		if r.fieldError("quiet_from") == "" {
			t.Error("no error beside a bad time")
		}
		r = bob.postForm(t, "/settings/notifications", url.Values{"quiet_from": {"22:00"}}).wantStatus(http.StatusUnprocessableEntity)
		if r.fieldError("quiet_to") == "" {
			t.Error("no error when only one time is given")
		}
		r = bob.postForm(t, "/settings/notifications", url.Values{"email_message": {"sometimes"}}).wantStatus(http.StatusUnprocessableEntity)
		if r.fieldError("email_message") == "" {
			t.Error("no error beside a bad email level")
		}
	})

	t.Run("Devices", func(t *testing.T) {
		sub := s.svc.Subscribe(s.key.PublicKey())
		bob.sendJSON(t, http.MethodPost, "/push/subscriptions", string(sub.JSON()),
			"User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0").wantStatus(http.StatusCreated)
		bob.page(t, "/settings/notifications").wantText("Firefox on Linux", "not notified yet", "Send a test notification")

		bob.postForm(t, "/settings/notifications/test", nil).wantRedirect("/settings/notifications")
		bob.page(t, "/settings/notifications").wantText("A test notification is on its way")

		id := s.devices(t, bob)[0].ID
		carol := s.register(t, "carol")
		carol.postForm(t, "/settings/notifications/devices/"+itoa(id)+"/off", nil).wantStatus(http.StatusNotFound)
		bob.postForm(t, "/settings/notifications/devices/"+itoa(id)+"/off", nil).wantRedirect("/settings/notifications")
		if got := s.devices(t, bob); len(got) != 0 {
			t.Errorf("turned off, yet bob has %d devices", len(got))
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
