// Package pushtest is a fake Web Push service for tests: an httptest
// server that plays the part of FCM, Mozilla's autopush or Apple's push
// service, and of the browser behind it.
//
// It holds the sender to the RFCs: every push must carry a VAPID token
// (RFC 8292) signed by the key the subscription was made with, for the
// endpoint's origin, unexpired and expiring within 24 hours; a TTL header
// (RFC 8030 §5.2); a valid Urgency and Topic if any (§5.3, §5.4); and an
// "aes128gcm" body (RFC 8291) that decrypts with the subscription's own
// keys. A request that breaks a rule is refused as a real service would
// refuse it, and the test fails unless it collects the violation with
// Next.
//
// Deliveries are waited for with Next, never with sleeps. Answers can be
// scripted (Answer) to play a service that is overloaded, failing or has
// forgotten a subscription.
package pushtest

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"natter/internal/webpush"
)

// maxBody is the largest body push services must accept (RFC 8291 §4)
// and the largest this one does.
const maxBody = 4096

// Service is the fake push service. Make it with NewService.
type Service struct {
	t   testing.TB
	srv *httptest.Server

	mu       sync.Mutex
	subs     map[string]*Subscription // by id, the endpoint's last segment
	script   []Answer
	requests int
	all      []Delivery
	queue    []event       // what Next has yet to return
	changed  chan struct{} // closed and replaced when queue grows
}

// event is a delivery or a refused request.
type event struct {
	d   Delivery
	err error
}

// Answer is a scripted response.
type Answer struct {
	// Status is the HTTP status: 201 to accept, 404 or 410 for a
	// subscription that is gone, 429 or 5xx for trouble.
	Status int
	// RetryAfter, if set, is sent as the Retry-After header: seconds or
	// an HTTP date.
	RetryAfter string
}

// Delivery is a push message the service accepted, decrypted.
type Delivery struct {
	Subscription *Subscription
	Payload      []byte
	TTL          time.Duration
	// Urgency and Topic are the headers as received ("" if absent).
	Urgency string
	Topic   string
}

// NewService starts a fake push service, closed when the test ends. The
// test fails at its end if the service refused a request for breaking a
// rule and nobody collected that with Next.
func NewService(t testing.TB) *Service {
	t.Helper()
	s := &Service{t: t, subs: make(map[string]*Subscription), changed: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(func() {
		s.srv.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, e := range s.queue {
			if e.err != nil {
				t.Errorf("pushtest: a push was refused and no test looked: %v", e.err)
			}
		}
	})
	return s
}

// URL is the service's base URL, http://127.0.0.1:port.
func (s *Service) URL() string { return s.srv.URL }

// HostPort is the service's address as webpush.Options.AllowInsecure (and
// natter's -push-allow-insecure) takes it: the service speaks plain http on
// the loopback address, both of which a Sender refuses otherwise.
func (s *Service) HostPort() string { return s.srv.Listener.Addr().String() }

// Subscribe plays pushManager.subscribe({applicationServerKey}) in a
// browser: a new subscription with its own P-256 key pair and 16-byte
// authentication secret, bound to the application server key (base64url,
// as GET /push/key gives it). Pushes to it must be signed with that key.
func (s *Service) Subscribe(applicationServerKey string) *Subscription {
	s.t.Helper()
	serverKey, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(applicationServerKey, "="))
	if err != nil || len(serverKey) != 65 || serverKey[0] != 4 {
		s.t.Fatalf("pushtest: application server key %q is not a base64url uncompressed P-256 point", applicationServerKey)
	}
	key, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		s.t.Fatalf("pushtest: %v", err)
	}
	auth := make([]byte, 16)
	rand.Read(auth)
	id := rand.Text()
	sub := &Subscription{
		Endpoint:  s.srv.URL + "/push/" + id,
		serverKey: serverKey,
		key:       key,
		auth:      auth,
		svc:       s,
	}
	s.mu.Lock()
	s.subs[id] = sub
	s.mu.Unlock()
	return sub
}

// Answer makes the next n requests (after they pass every check) get a.
// Calls queue up: Answer(2, 500) then Answer(1, 201) answers 500, 500, 201.
// Unscripted requests get 201 Created.
func (s *Service) Answer(n int, a Answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.script = append(s.script, a)
	}
}

// Requests is the number of requests the service has received, whatever
// their fate.
func (s *Service) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Deliveries returns every delivery accepted so far, oldest first,
// whether or not Next has returned it.
func (s *Service) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.all...)
}

// Next waits for the next accepted delivery, in order of arrival, or for
// the next request refused for breaking a rule, which it returns as the
// error. It returns ctx's error if ctx ends first.
func (s *Service) Next(ctx context.Context) (Delivery, error) {
	for {
		s.mu.Lock()
		if len(s.queue) > 0 {
			e := s.queue[0]
			s.queue = s.queue[1:]
			s.mu.Unlock()
			return e.d, e.err
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return Delivery{}, fmt.Errorf("pushtest: waiting for a delivery: %w", context.Cause(ctx))
		}
	}
}

// push adds to the queue; s.mu must be held.
func (s *Service) push(e event) {
	s.queue = append(s.queue, e)
	close(s.changed)
	s.changed = make(chan struct{})
}

// Subscription is one browser's subscription at the service.
type Subscription struct {
	// Endpoint is the push resource URL natter posts to.
	Endpoint  string
	serverKey []byte
	key       *ecdh.PrivateKey
	auth      []byte
	svc       *Service
	gone      bool // guarded by svc.mu
}

// JSON is what the browser's PushSubscription.toJSON() gives, to be posted
// to natter as a browser would.
func (sub *Subscription) JSON() []byte {
	b, err := json.Marshal(sub.WebPush())
	if err != nil {
		panic(err) // only strings: cannot fail
	}
	return b
}

// WebPush is the subscription as package webpush holds it.
func (sub *Subscription) WebPush() webpush.Subscription {
	return webpush.Subscription{
		Endpoint: sub.Endpoint,
		Keys: webpush.Keys{
			P256DH: base64.RawURLEncoding.EncodeToString(sub.key.PublicKey().Bytes()),
			Auth:   base64.RawURLEncoding.EncodeToString(sub.auth),
		},
	}
}

// Unsubscribe plays the browser dropping the subscription: from now on
// the service answers 410 Gone to pushes for it.
func (sub *Subscription) Unsubscribe() {
	sub.svc.mu.Lock()
	defer sub.svc.mu.Unlock()
	sub.gone = true
}

var (
	pushPath = regexp.MustCompile(`^/push/([A-Za-z0-9]+)$`)
	topicRE  = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)
)

// violation is a request refused for breaking a rule: the status the
// service answers and why.
type violation struct {
	status int
	reason string
}

func (s *Service) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	n := s.requests
	s.mu.Unlock()

	d, v := s.check(w, r)
	if v != nil {
		err := fmt.Errorf("pushtest: request %d (%s %s) refused with %d: %s", n, r.Method, r.URL.Path, v.status, v.reason)
		s.mu.Lock()
		s.push(event{err: err})
		s.mu.Unlock()
		http.Error(w, v.reason, v.status)
		return
	}
	if d == nil { // the subscription is unknown or gone: not a violation
		return
	}

	s.mu.Lock()
	a := Answer{Status: http.StatusCreated}
	if len(s.script) > 0 {
		a, s.script = s.script[0], s.script[1:]
	}
	if a.Status >= 200 && a.Status < 300 {
		s.all = append(s.all, *d)
		s.push(event{d: *d})
	}
	s.mu.Unlock()

	if a.RetryAfter != "" {
		w.Header().Set("Retry-After", a.RetryAfter)
	}
	if a.Status == http.StatusCreated {
		// RFC 8030 §5: the push message resource.
		w.Header().Set("Location", "/message/"+rand.Text())
	}
	w.WriteHeader(a.Status)
}

// check applies the rules to a request. It answers 404 or 410 itself for
// a subscription that does not exist or was withdrawn, and returns a nil
// Delivery then.
func (s *Service) check(w http.ResponseWriter, r *http.Request) (*Delivery, *violation) {
	m := pushPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		http.NotFound(w, r)
		return nil, nil
	}
	s.mu.Lock()
	sub, gone := s.subs[m[1]], false
	if sub != nil {
		gone = sub.gone
	}
	s.mu.Unlock()
	switch {
	case sub == nil:
		http.NotFound(w, r)
		return nil, nil
	case gone:
		http.Error(w, "subscription expired", http.StatusGone)
		return nil, nil
	case r.Method != http.MethodPost:
		return nil, &violation{http.StatusMethodNotAllowed, "push messages are POSTed (RFC 8030 §5)"}
	}

	if err := verifyVAPID(r.Header.Get("Authorization"), sub.serverKey, s.srv.URL, time.Now()); err != nil {
		status := http.StatusUnauthorized
		if strings.Contains(err.Error(), "application server key") {
			// FCM and autopush answer 403 to a key other than the
			// subscription's.
			status = http.StatusForbidden
		}
		return nil, &violation{status, "VAPID: " + err.Error()}
	}
	if ce := r.Header.Get("Content-Encoding"); ce != "aes128gcm" {
		return nil, &violation{http.StatusBadRequest, fmt.Sprintf("Content-Encoding %q is not aes128gcm (RFC 8291 §4)", ce)}
	}
	ttlHeader := r.Header.Get("TTL")
	ttl, err := strconv.ParseInt(ttlHeader, 10, 64)
	if err != nil || ttl < 0 {
		return nil, &violation{http.StatusBadRequest, fmt.Sprintf("TTL %q is not a non-negative integer (RFC 8030 §5.2)", ttlHeader)}
	}
	urgency := r.Header.Get("Urgency")
	switch urgency {
	case "", "very-low", "low", "normal", "high":
	default:
		return nil, &violation{http.StatusBadRequest, fmt.Sprintf("Urgency %q is not one of RFC 8030 §5.3's", urgency)}
	}
	topic := r.Header.Get("Topic")
	if _, ok := r.Header["Topic"]; ok && !topicRE.MatchString(topic) {
		return nil, &violation{http.StatusBadRequest, fmt.Sprintf("Topic %q is not 1 to 32 base64url characters (RFC 8030 §5.4)", topic)}
	}

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, &violation{http.StatusRequestEntityTooLarge, "body is over 4096 bytes (RFC 8291 §4)"}
	case err != nil:
		return nil, &violation{http.StatusBadRequest, "reading body: " + err.Error()}
	}
	payload, err := decrypt(body, sub.key, sub.auth)
	if err != nil {
		return nil, &violation{http.StatusBadRequest, "aes128gcm: " + err.Error()}
	}
	return &Delivery{
		Subscription: sub,
		Payload:      payload,
		TTL:          time.Duration(ttl) * time.Second,
		Urgency:      urgency,
		Topic:        topic,
	}, nil
}
