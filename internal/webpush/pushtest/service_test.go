package pushtest

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"natter/internal/webpush"
)

func b64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDecryptRFC8291Vector checks the fake's decryption, written apart from
// webpush.Encrypt, against RFC 8291 §5's example (Appendix A's values).
func TestDecryptRFC8291Vector(t *testing.T) {
	ua, err := ecdh.P256().NewPrivateKey(b64(t, "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"))
	if err != nil {
		t.Fatal(err)
	}
	body := b64(t, "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_"+
		"yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN")
	auth := b64(t, "BTBZMqHH6r4Tts7J_aSIgg")

	got, err := decrypt(body, ua, auth)
	if err != nil {
		t.Fatal(err)
	}
	if want := "When I grow up, I want to be a watermelon"; string(got) != want {
		t.Errorf("plaintext = %q, want %q", got, want)
	}

	t.Run("ErrTampered", func(t *testing.T) {
		bad := bytes.Clone(body)
		bad[len(bad)-20] ^= 1
		if _, err := decrypt(bad, ua, auth); err == nil {
			t.Error("a tampered record decrypted")
		}
	})
	t.Run("ErrWrongAuth", func(t *testing.T) {
		if _, err := decrypt(body, ua, make([]byte, 16)); err == nil {
			t.Error("decrypted with the wrong authentication secret")
		}
	})
}

// fixture is a service, a subscription on it, and a request builder.
type fixture struct {
	svc *Service
	key *webpush.VAPIDKey
	sub *Subscription
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	svc := NewService(t)
	key, err := webpush.GenerateVAPIDKey()
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: svc, key: key, sub: svc.Subscribe(key.PublicKey())}
}

// request is a push request that passes every check; tests spoil one part.
type request struct {
	auth    string
	headers map[string]string
	body    []byte
}

func (f *fixture) goodRequest(t *testing.T, payload string) request {
	t.Helper()
	auth, err := f.key.Authorization(f.svc.URL(), "mailto:ops@example.org", time.Now().Add(12*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	body, err := webpush.Encrypt(f.sub.WebPush(), []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	return request{
		auth:    auth,
		headers: map[string]string{"Content-Encoding": "aes128gcm", "TTL": "60"},
		body:    body,
	}
}

func (f *fixture) post(t *testing.T, r request) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.sub.Endpoint, bytes.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", r.auth)
	for k, v := range r.headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestService(t *testing.T) {
	ctx := t.Context()

	t.Run("OK", func(t *testing.T) {
		f := newFixture(t)
		r := f.goodRequest(t, `{"type":"message"}`)
		r.headers["Urgency"] = "high"
		r.headers["Topic"] = webpush.TopicFor("conversation 1")
		resp := f.post(t, r)
		if resp.StatusCode != http.StatusCreated || resp.Header.Get("Location") == "" {
			t.Fatalf("status %d, Location %q; want 201 with a Location", resp.StatusCode, resp.Header.Get("Location"))
		}
		d, err := f.svc.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if string(d.Payload) != `{"type":"message"}` || d.TTL != time.Minute || d.Urgency != "high" ||
			d.Topic != webpush.TopicFor("conversation 1") || d.Subscription != f.sub {
			t.Errorf("delivery = %+v", d)
		}
		if n := f.svc.Requests(); n != 1 {
			t.Errorf("Requests() = %d, want 1", n)
		}
		if n := len(f.svc.Deliveries()); n != 1 {
			t.Errorf("len(Deliveries()) = %d, want 1", n)
		}
	})

	other, err := webpush.GenerateVAPIDKey()
	if err != nil {
		t.Fatal(err)
	}
	// Each case spoils one part of a good request; the service must refuse
	// it with the status a push service gives, and report why.
	refusals := []struct {
		name   string
		spoil  func(t *testing.T, f *fixture, r *request)
		status int
		reason string
	}{
		{"ErrWrongKey", func(t *testing.T, f *fixture, r *request) {
			r.auth = must(other.Authorization(f.svc.URL(), "mailto:ops@example.org", time.Now().Add(time.Hour)))
		}, http.StatusForbidden, "application server key"},
		{"ErrSignatureByAnotherKey", func(t *testing.T, f *fixture, r *request) {
			forged := must(other.Authorization(f.svc.URL(), "mailto:ops@example.org", time.Now().Add(time.Hour)))
			r.auth = strings.Replace(forged, "k="+other.PublicKey(), "k="+f.key.PublicKey(), 1)
		}, http.StatusUnauthorized, "signature"},
		{"ErrWrongAudience", func(t *testing.T, f *fixture, r *request) {
			r.auth = must(f.key.Authorization("https://fcm.googleapis.com", "mailto:ops@example.org", time.Now().Add(time.Hour)))
		}, http.StatusUnauthorized, "aud"},
		{"ErrExpired", func(t *testing.T, f *fixture, r *request) {
			r.auth = must(f.key.Authorization(f.svc.URL(), "mailto:ops@example.org", time.Now().Add(-time.Minute)))
		}, http.StatusUnauthorized, "expired"},
		{"ErrLongerThan24h", func(t *testing.T, f *fixture, r *request) {
			r.auth = must(f.key.Authorization(f.svc.URL(), "mailto:ops@example.org", time.Now().Add(25*time.Hour)))
		}, http.StatusUnauthorized, "24h"},
		{"ErrNoSubject", func(t *testing.T, f *fixture, r *request) {
			r.auth = must(f.key.Authorization(f.svc.URL(), "", time.Now().Add(time.Hour)))
		}, http.StatusUnauthorized, "sub"},
		{"ErrNoAuthorization", func(t *testing.T, f *fixture, r *request) {
			r.auth = ""
		}, http.StatusUnauthorized, "vapid"},
		{"ErrNotAES128GCM", func(t *testing.T, f *fixture, r *request) {
			r.headers["Content-Encoding"] = "aesgcm"
		}, http.StatusBadRequest, "aes128gcm"},
		{"ErrNoTTL", func(t *testing.T, f *fixture, r *request) {
			delete(r.headers, "TTL")
		}, http.StatusBadRequest, "TTL"},
		{"ErrBadUrgency", func(t *testing.T, f *fixture, r *request) {
			r.headers["Urgency"] = "urgent"
		}, http.StatusBadRequest, "Urgency"},
		{"ErrTopicTooLong", func(t *testing.T, f *fixture, r *request) {
			r.headers["Topic"] = strings.Repeat("a", 33)
		}, http.StatusBadRequest, "Topic"},
		{"ErrBodyTooLarge", func(t *testing.T, f *fixture, r *request) {
			r.body = make([]byte, 4097)
		}, http.StatusRequestEntityTooLarge, "4096"},
		{"ErrNotDecryptable", func(t *testing.T, f *fixture, r *request) {
			r.body[len(r.body)-1] ^= 1
		}, http.StatusBadRequest, "decrypt"},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			r := f.goodRequest(t, "hello")
			tc.spoil(t, f, &r)
			resp := f.post(t, r)
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			_, err := f.svc.Next(ctx)
			if err == nil || !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("Next() error = %v, want one about %q", err, tc.reason)
			}
			if n := len(f.svc.Deliveries()); n != 0 {
				t.Errorf("%d deliveries recorded, want none", n)
			}
		})
	}

	t.Run("Scripted", func(t *testing.T) {
		f := newFixture(t)
		f.svc.Answer(2, Answer{Status: http.StatusInternalServerError})
		f.svc.Answer(1, Answer{Status: http.StatusTooManyRequests, RetryAfter: "7"})
		want := []struct {
			status     int
			retryAfter string
		}{{500, ""}, {500, ""}, {429, "7"}, {201, ""}}
		for i, w := range want {
			resp := f.post(t, f.goodRequest(t, "hello"))
			if resp.StatusCode != w.status || resp.Header.Get("Retry-After") != w.retryAfter {
				t.Errorf("request %d: status %d, Retry-After %q; want %d, %q",
					i+1, resp.StatusCode, resp.Header.Get("Retry-After"), w.status, w.retryAfter)
			}
		}
		if n := f.svc.Requests(); n != 4 {
			t.Errorf("Requests() = %d, want 4", n)
		}
		if n := len(f.svc.Deliveries()); n != 1 {
			t.Errorf("len(Deliveries()) = %d, want 1 (only the 201)", n)
		}
	})

	t.Run("GoneAfterUnsubscribe", func(t *testing.T) {
		f := newFixture(t)
		f.sub.Unsubscribe()
		if resp := f.post(t, f.goodRequest(t, "hello")); resp.StatusCode != http.StatusGone {
			t.Errorf("status %d, want 410", resp.StatusCode)
		}
	})

	t.Run("NextEndsWithContext", func(t *testing.T) {
		f := newFixture(t)
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := f.svc.Next(ctx); err == nil {
			t.Error("Next returned without a delivery or an error")
		}
	})

	t.Run("JSONIsABrowsers", func(t *testing.T) {
		f := newFixture(t)
		sub, err := webpush.ParseSubscription(f.sub.JSON())
		if err != nil {
			t.Fatal(err)
		}
		if sub.Endpoint != f.sub.Endpoint || !strings.Contains(string(f.sub.JSON()), `"expirationTime":null`) {
			t.Errorf("JSON() = %s", f.sub.JSON())
		}
	})
}

func must(s string, err error) string {
	if err != nil {
		panic(err)
	}
	return s
}
