package webpush_test

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"natter/internal/webpush"
	"natter/internal/webpush/pushtest"
)

func newKey(t *testing.T) *webpush.VAPIDKey {
	t.Helper()
	k, err := webpush.GenerateVAPIDKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newSender(t *testing.T, key *webpush.VAPIDKey, allow ...string) *webpush.Sender {
	t.Helper()
	s, err := webpush.NewSender(webpush.Options{Key: key, Subject: "mailto:ops@example.org", AllowInsecure: allow})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// TestSendRoundTrip encrypts, signs and posts through a Sender to the fake
// service, which verifies and decrypts on its own; it also shows that an
// allow-listed host:port is reached over plain http on loopback.
func TestSendRoundTrip(t *testing.T) {
	svc := pushtest.NewService(t)
	key := newKey(t)
	sender := newSender(t, key, svc.HostPort())
	sub, err := webpush.ParseSubscription(svc.Subscribe(key.PublicKey()).JSON())
	if err != nil {
		t.Fatal(err)
	}
	payload := []byte(`{"type":"message","title":"alice","body":"hi","url":"/messages/alice","tag":"c7"}`)

	for i := range 2 { // the second send reuses the cached token
		res, err := sender.Send(t.Context(), sub, webpush.Message{
			Payload: payload, TTL: 4 * time.Hour, Urgency: webpush.UrgencyHigh, Topic: "conversation:7",
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != webpush.Delivered || res.Status != http.StatusCreated {
			t.Fatalf("send %d: result %+v, want delivered (201)", i+1, res)
		}
		d, err := svc.Next(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if string(d.Payload) != string(payload) {
			t.Errorf("payload %q, want %q", d.Payload, payload)
		}
		if d.TTL != 4*time.Hour || d.Urgency != "high" {
			t.Errorf("TTL %v, Urgency %q; want 4h, high", d.TTL, d.Urgency)
		}
		if d.Topic != webpush.TopicFor("conversation:7") || len(d.Topic) > 32 || strings.Contains(d.Topic, "conversation") {
			t.Errorf("Topic %q, want the hash TopicFor gives", d.Topic)
		}
	}
}

func TestSendOutcomes(t *testing.T) {
	svc := pushtest.NewService(t)
	key := newKey(t)
	sender := newSender(t, key, svc.HostPort())
	sub := svc.Subscribe(key.PublicKey()).WebPush()
	inAnHour := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)

	tests := []struct {
		name       string
		answer     pushtest.Answer
		outcome    webpush.Outcome
		retryAfter func(time.Duration) bool
	}{
		{"Created", pushtest.Answer{Status: 201}, webpush.Delivered, nil},
		{"Accepted", pushtest.Answer{Status: 202}, webpush.Delivered, nil},
		{"OK", pushtest.Answer{Status: 200}, webpush.Delivered, nil},
		{"NotFound", pushtest.Answer{Status: 404}, webpush.Gone, nil},
		{"Gone", pushtest.Answer{Status: 410}, webpush.Gone, nil},
		{"TooManyRequestsSeconds", pushtest.Answer{Status: 429, RetryAfter: "120"}, webpush.RetryLater,
			func(d time.Duration) bool { return d == 2*time.Minute }},
		{"UnavailableDate", pushtest.Answer{Status: 503, RetryAfter: inAnHour}, webpush.RetryLater,
			// An HTTP date has whole seconds and the clock moves on.
			func(d time.Duration) bool { return d > 30*time.Minute && d <= time.Hour }},
		{"InternalError", pushtest.Answer{Status: 500}, webpush.RetryLater,
			func(d time.Duration) bool { return d == 0 }},
		{"BadRequest", pushtest.Answer{Status: 400}, webpush.Rejected, nil},
		{"Forbidden", pushtest.Answer{Status: 403}, webpush.Rejected, nil},
		{"TooLarge", pushtest.Answer{Status: 413}, webpush.Rejected, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			svc.Answer(1, tc.answer)
			res, err := sender.Send(t.Context(), sub, webpush.Message{Payload: []byte("x"), TTL: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != tc.outcome || res.Status != tc.answer.Status {
				t.Errorf("result %+v, want %v with status %d", res, tc.outcome, tc.answer.Status)
			}
			if tc.retryAfter != nil && !tc.retryAfter(res.RetryAfter) {
				t.Errorf("RetryAfter %v for Retry-After %q", res.RetryAfter, tc.answer.RetryAfter)
			}
			if tc.outcome == webpush.Delivered {
				if _, err := svc.Next(t.Context()); err != nil {
					t.Errorf("the service did not record the delivery: %v", err)
				}
			}
		})
	}

	t.Run("UnsubscribedIsGone", func(t *testing.T) {
		s := svc.Subscribe(key.PublicKey())
		s.Unsubscribe()
		res, err := sender.Send(t.Context(), s.WebPush(), webpush.Message{Payload: []byte("x")})
		if err != nil || res.Outcome != webpush.Gone || res.Status != http.StatusGone {
			t.Errorf("Send = %+v, %v; want gone (410)", res, err)
		}
	})

	t.Run("WrongKeyIsRejected", func(t *testing.T) {
		other := newSender(t, newKey(t), svc.HostPort())
		res, err := other.Send(t.Context(), sub, webpush.Message{Payload: []byte("x")})
		if err != nil || res.Outcome != webpush.Rejected || res.Status != http.StatusForbidden {
			t.Errorf("Send = %+v, %v; want rejected (403)", res, err)
		}
		if _, err := svc.Next(t.Context()); err == nil || !strings.Contains(err.Error(), "application server key") {
			t.Errorf("the service's verdict = %v, want a key mismatch", err)
		}
	})
}

func TestSendRefusesBeforeSending(t *testing.T) {
	svc := pushtest.NewService(t)
	key := newKey(t)
	sub := svc.Subscribe(key.PublicKey()).WebPush()

	t.Run("ErrPayloadTooLarge", func(t *testing.T) {
		sender := newSender(t, key, svc.HostPort())
		_, err := sender.Send(t.Context(), sub, webpush.Message{Payload: make([]byte, webpush.MaxPayload+1)})
		if !errors.Is(err, webpush.ErrPayloadTooLarge) || !webpush.Permanent(err) {
			t.Errorf("err = %v, want a permanent ErrPayloadTooLarge", err)
		}
	})
	t.Run("ErrInvalidMessage", func(t *testing.T) {
		sender := newSender(t, key, svc.HostPort())
		_, err := sender.Send(t.Context(), sub, webpush.Message{Urgency: "urgent"})
		if !errors.Is(err, webpush.ErrInvalidMessage) {
			t.Errorf("err = %v, want ErrInvalidMessage", err)
		}
	})
	t.Run("ErrInsecureNotAllowed", func(t *testing.T) {
		sender := newSender(t, key) // no allow-list: http to loopback is refused
		if err := sender.CheckEndpoint(sub.Endpoint); !errors.Is(err, webpush.ErrEndpointRefused) {
			t.Errorf("CheckEndpoint(%s) = %v, want ErrEndpointRefused", sub.Endpoint, err)
		}
		_, err := sender.Send(t.Context(), sub, webpush.Message{Payload: []byte("x")})
		if !errors.Is(err, webpush.ErrEndpointRefused) || !webpush.Permanent(err) {
			t.Errorf("err = %v, want a permanent ErrEndpointRefused", err)
		}
	})
	if n := svc.Requests(); n != 0 {
		t.Errorf("the service got %d requests, want none", n)
	}
}

// TestSendRefusesNonPublicAddresses sends over https (so only the address
// can be at fault) to a port where something listens, so that a guard that
// let the dial through would end in another error.
func TestSendRefusesNonPublicAddresses(t *testing.T) {
	svc := pushtest.NewService(t)
	key := newKey(t)
	sender := newSender(t, key)
	_, port, err := net.SplitHostPort(svc.HostPort())
	if err != nil {
		t.Fatal(err)
	}
	sub := svc.Subscribe(key.PublicKey()).WebPush()

	for _, host := range []string{
		"127.0.0.1", "10.1.2.3", "192.168.1.1", "172.16.0.1", "[::1]", "[fe80::1]",
		"100.64.0.1", "169.254.169.254", "[::ffff:127.0.0.1]", "0.0.0.0",
	} {
		t.Run(host, func(t *testing.T) {
			s := sub
			s.Endpoint = "https://" + host + ":" + port + "/push/x"
			if err := sender.CheckEndpoint(s.Endpoint); !errors.Is(err, webpush.ErrEndpointRefused) {
				t.Errorf("CheckEndpoint = %v, want ErrEndpointRefused", err)
			}
			if _, err := sender.Send(t.Context(), s, webpush.Message{Payload: []byte("x")}); !errors.Is(err, webpush.ErrEndpointRefused) {
				t.Errorf("Send = %v, want ErrEndpointRefused", err)
			}
		})
	}

	// A name cannot be judged until it is resolved: CheckEndpoint lets it
	// pass, and the dial refuses the loopback address it resolves to.
	t.Run("NameResolvingToLoopback", func(t *testing.T) {
		s := sub
		s.Endpoint = "https://localhost:" + port + "/push/x"
		if err := sender.CheckEndpoint(s.Endpoint); err != nil {
			t.Errorf("CheckEndpoint = %v, want nil for a name", err)
		}
		_, err := sender.Send(t.Context(), s, webpush.Message{Payload: []byte("x")})
		if !errors.Is(err, webpush.ErrEndpointRefused) || !webpush.Permanent(err) {
			t.Errorf("Send = %v, want a permanent ErrEndpointRefused from the dial", err)
		}
	})
	if n := svc.Requests(); n != 0 {
		t.Errorf("the service got %d requests, want none", n)
	}
}

func TestSendDoesNotFollowRedirects(t *testing.T) {
	svc := pushtest.NewService(t)
	key := newKey(t)
	sub := svc.Subscribe(key.PublicKey()).WebPush()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, sub.Endpoint, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirector.Close)
	u, err := url.Parse(redirector.URL)
	if err != nil {
		t.Fatal(err)
	}
	sender := newSender(t, key, u.Host, svc.HostPort())

	s := sub
	s.Endpoint = redirector.URL + "/push/x"
	res, err := sender.Send(t.Context(), s, webpush.Message{Payload: []byte("x")})
	if err != nil || res.Outcome != webpush.Rejected || res.Status != http.StatusTemporaryRedirect {
		t.Errorf("Send = %+v, %v; want rejected (307)", res, err)
	}
	if n := svc.Requests(); n != 0 {
		t.Errorf("the redirect was followed: the service got %d requests", n)
	}
}

func TestNewSender(t *testing.T) {
	key := newKey(t)
	bad := []webpush.Options{
		{Subject: "mailto:ops@example.org"},
		{Key: key},
		{Key: key, Subject: "ops@example.org"},
		{Key: key, Subject: "http://example.org"},
		{Key: key, Subject: "mailto:ops@example.org", AllowInsecure: []string{"push.local"}},
	}
	for _, o := range bad {
		if _, err := webpush.NewSender(o); err == nil {
			t.Errorf("NewSender(%+v) succeeded", o)
		}
	}
	s, err := webpush.NewSender(webpush.Options{Key: key, Subject: "https://natter.example.org/about",
		AllowInsecure: []string{" push.local:8080 ", ""}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CheckEndpoint("http://PUSH.local:8080/x"); err != nil {
		t.Errorf("an allow-listed host:port over http: %v", err)
	}
	if err := s.CheckEndpoint("http://push.local/x"); !errors.Is(err, webpush.ErrEndpointRefused) {
		t.Errorf("another port of an allow-listed host: %v, want ErrEndpointRefused", err)
	}
}
