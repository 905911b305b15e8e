package webpush

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrInvalidMessage is wrapped by the error of a send whose Message is
// malformed (an unknown urgency, a negative TTL): a bug in the caller.
var ErrInvalidMessage = errors.New("webpush: invalid message")

// Permanent reports whether a send that failed with err will fail the same
// way however often it is retried: the subscription or the message is at
// fault, not the network. Any other error (a timeout, a refused connection,
// a cancelled context) is worth retrying.
func Permanent(err error) bool {
	return errors.Is(err, ErrInvalidSubscription) || errors.Is(err, ErrEndpointRefused) ||
		errors.Is(err, ErrPayloadTooLarge) || errors.Is(err, ErrInvalidMessage)
}

// Urgency is RFC 8030 §5.3's hint of how soon a user agent should be woken;
// a phone on battery may hold back all but "high".
type Urgency string

// The four urgencies of RFC 8030 §5.3. The zero value sends no Urgency
// header, which push services take as normal.
const (
	UrgencyVeryLow Urgency = "very-low"
	UrgencyLow     Urgency = "low"
	UrgencyNormal  Urgency = "normal"
	UrgencyHigh    Urgency = "high"
)

func (u Urgency) valid() bool {
	switch u {
	case "", UrgencyVeryLow, UrgencyLow, UrgencyNormal, UrgencyHigh:
		return true
	}
	return false
}

// maxTTL is the longest TTL sent: FCM, the strictest, keeps messages at
// most four weeks and refuses longer TTLs.
const maxTTL = 28 * 24 * time.Hour

// Message is one push message (RFC 8030 §5).
type Message struct {
	// Payload is the plaintext, at most MaxPayload bytes; it is encrypted
	// for the subscription (RFC 8291) and never modified.
	Payload []byte
	// TTL is how long the push service keeps the message for a user agent
	// that is offline (RFC 8030 §5.2), in whole seconds; 0 means deliver
	// now or never. Longer than four weeks is sent as four weeks.
	TTL time.Duration
	// Urgency is RFC 8030 §5.3's header; empty sends none.
	Urgency Urgency
	// Topic, if not empty, lets a newer message replace an undelivered one
	// with the same topic (RFC 8030 §5.4). It may be any key (a
	// conversation's id, say): the header carries TopicFor(Topic).
	Topic string
}

// TopicFor turns any key into an RFC 8030 §5.4 topic: at most 32
// characters of the base64url alphabet. It is a hash, so the push service
// learns nothing from it; equal keys give equal topics.
func TopicFor(key string) string {
	sum := sha256.Sum256([]byte("natter push topic\x00" + key))
	return encodeBase64URL(sum[:24]) // 24 bytes are exactly 32 characters
}

// Outcome is what a push service's answer means for the caller.
type Outcome int

// The outcomes of a send (RFC 8030 §5 and §7, and the push services'
// documented practice).
const (
	// Delivered: the push service accepted the message (2xx, usually 201).
	Delivered Outcome = iota + 1
	// Gone: the subscription has expired or was withdrawn (404, 410); the
	// caller deletes it and never sends to it again.
	Gone
	// RetryLater: the push service is overloaded or failing (429, 5xx);
	// send again after Result.RetryAfter, or after the caller's own back-off
	// if that is zero.
	RetryLater
	// Rejected: the push service refused this request for good (any other
	// status: 400, 401, 403 for a VAPID problem, 413 for size, a redirect).
	// Retrying the same message is pointless; a subscription that is
	// rejected every time (403: made for another key) is not worth keeping.
	Rejected
)

func (o Outcome) String() string {
	switch o {
	case Delivered:
		return "delivered"
	case Gone:
		return "gone"
	case RetryLater:
		return "retry later"
	case Rejected:
		return "rejected"
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// Result is the push service's answer to one send.
type Result struct {
	Outcome Outcome
	// Status is the HTTP status code.
	Status int
	// RetryAfter is the delay the push service asked for with Retry-After
	// (seconds or an HTTP date), when Outcome is RetryLater; 0 if none.
	RetryAfter time.Duration
	// Body is the start of the push service's answer, for logs: services
	// explain refusals there.
	Body string
}

// Options configure a Sender.
type Options struct {
	// Key signs the VAPID tokens. Required.
	Key *VAPIDKey
	// Subject is the operator's contact in every token, a "mailto:" address
	// or an "https:" URL (RFC 8292 §2.1). Required.
	Subject string
	// AllowInsecure lists host:port pairs that may be reached over plain
	// http and at any address, private ones included: for private push
	// services and tests. Empty by default, and it should stay so. Blank
	// entries are skipped and spaces trimmed, so strings.Split of a comma
	// list can be passed as it is.
	AllowInsecure []string
	// Timeout bounds one whole send; 0 means 30 seconds.
	Timeout time.Duration
}

const (
	defaultTimeout = 30 * time.Second
	dialTimeout    = 10 * time.Second
	// tokenLifetime keeps exp under the 12 hours Apple's push service
	// accepts (RFC 8292 allows 24) with an hour's margin for clocks that
	// disagree.
	tokenLifetime = 11 * time.Hour
	// tokenReuse is how long a token is reused for one audience: long
	// enough that a busy site signs rarely, short enough that a reused
	// token always has hours left.
	tokenReuse = tokenLifetime / 2
	// maxCachedAudiences bounds the token cache: audiences are the origins
	// of push services, a handful in practice, but a member chooses them.
	maxCachedAudiences = 256
	// maxAnswerBody is how much of an answer is kept in Result.Body, and
	// maxDrainBody how much more is read so the connection can be reused.
	maxAnswerBody = 512
	maxDrainBody  = 64 << 10
)

// Sender posts push messages (RFC 8030 §5) signed with VAPID (RFC 8292).
// It is safe for concurrent use; make one and share it.
type Sender struct {
	key     *VAPIDKey
	subject string
	guard   guard
	client  *http.Client
	now     func() time.Time

	mu     sync.Mutex
	tokens map[string]token // by audience
}

type token struct {
	header string
	// renew is when the token stops being reused, hours before it expires.
	renew time.Time
}

// NewSender checks opts and returns a Sender.
func NewSender(opts Options) (*Sender, error) {
	if opts.Key == nil {
		return nil, errors.New("webpush: a VAPID key is required")
	}
	if err := CheckSubject(opts.Subject); err != nil {
		return nil, err
	}
	g, err := newGuard(opts.AllowInsecure)
	if err != nil {
		return nil, err
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	transport := &http.Transport{
		// No proxy: the dial check would judge the proxy's address, and the
		// proxy would then reach the endpoint unchecked.
		Proxy:                  nil,
		DialContext:            g.dialer(dialTimeout),
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    dialTimeout,
		ResponseHeaderTimeout:  timeout,
		IdleConnTimeout:        90 * time.Second,
		MaxIdleConnsPerHost:    16,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &Sender{
		key:     opts.Key,
		subject: opts.Subject,
		guard:   g,
		client: &http.Client{
			Transport: transport,
			Timeout:   timeout,
			// A redirect would take the request somewhere nobody checked;
			// push services do not redirect, so the 3xx is the answer.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		now:    time.Now,
		tokens: make(map[string]token),
	}, nil
}

// Close releases idle connections.
func (s *Sender) Close() { s.client.CloseIdleConnections() }

// CheckEndpoint judges an endpoint before it is stored: a valid absolute
// URL, https (unless allow-listed), and not a literal non-public address.
// The address a name resolves to is judged only when a send dials it, so a
// nil error does not promise the endpoint can be reached.
func (s *Sender) CheckEndpoint(endpoint string) error {
	u, err := parseEndpoint(endpoint)
	if err != nil {
		return err
	}
	return s.guard.checkURL(u)
}

// Send encrypts msg for sub and posts it to sub's endpoint. An error means
// no answer was had (see Permanent for whether to retry); otherwise the
// Result says what the push service answered.
func (s *Sender) Send(ctx context.Context, sub Subscription, msg Message) (Result, error) {
	if !msg.Urgency.valid() {
		return Result{}, fmt.Errorf("%w: urgency %q", ErrInvalidMessage, msg.Urgency)
	}
	if msg.TTL < 0 {
		return Result{}, fmt.Errorf("%w: negative TTL %v", ErrInvalidMessage, msg.TTL)
	}
	u, err := parseEndpoint(sub.Endpoint)
	if err != nil {
		return Result{}, err
	}
	if err := s.guard.checkURL(u); err != nil {
		return Result{}, err
	}
	body, err := Encrypt(sub, msg.Payload)
	if err != nil {
		return Result{}, err
	}
	auth, err := s.authorization(origin(u))
	if err != nil {
		return Result{}, err
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return Result{}, fmt.Errorf("webpush: request: %w", err)
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("Content-Encoding", "aes128gcm") // RFC 8291 §4
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("TTL", strconv.FormatInt(int64(min(msg.TTL, maxTTL)/time.Second), 10))
	if msg.Urgency != "" {
		req.Header.Set("Urgency", string(msg.Urgency))
	}
	if msg.Topic != "" {
		req.Header.Set("Topic", TopicFor(msg.Topic))
	}

	resp, err := s.client.Do(req)
	if err != nil {
		return Result{}, fmt.Errorf("webpush: post to %s: %w", u.Redacted(), err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrainBody))
	return classify(resp.StatusCode, resp.Header.Get("Retry-After"), string(answer), s.now()), nil
}

// classify maps a push service's answer to an Outcome.
func classify(status int, retryAfter, body string, now time.Time) Result {
	r := Result{Status: status, Body: body}
	switch {
	case status >= 200 && status < 300:
		r.Outcome = Delivered
	case status == http.StatusNotFound || status == http.StatusGone:
		r.Outcome = Gone
	case status == http.StatusTooManyRequests || status >= 500:
		r.Outcome = RetryLater
		r.RetryAfter = parseRetryAfter(retryAfter, now)
	default:
		r.Outcome = Rejected
	}
	return r
}

// parseRetryAfter reads RFC 9110 §10.2.3's Retry-After: a number of
// seconds or an HTTP date. Anything else, or a date already past, is 0.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		// Cap absurd values well below Duration's overflow.
		return time.Duration(min(secs, int64(maxTTL/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), maxTTL)
	}
	return 0
}

// origin is RFC 6454's serialisation of u's origin, the VAPID audience
// (RFC 8292 §2): scheme and host, the port only if not the default.
func origin(u *url.URL) string {
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if p := u.Port(); p != "" && !(u.Scheme == "https" && p == "443") && !(u.Scheme == "http" && p == "80") {
		host += ":" + p
	}
	return strings.ToLower(u.Scheme) + "://" + host
}

// authorization returns the Authorization header for an audience, signing
// a new token when the cached one is older than tokenReuse.
func (s *Sender) authorization(audience string) (string, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tokens[audience]; ok && now.Before(t.renew) {
		return t.header, nil
	}
	header, err := s.key.Authorization(audience, s.subject, now.Add(tokenLifetime))
	if err != nil {
		return "", err
	}
	if len(s.tokens) >= maxCachedAudiences {
		for a, t := range s.tokens {
			if !now.Before(t.renew) {
				delete(s.tokens, a)
			}
		}
		if len(s.tokens) >= maxCachedAudiences {
			clear(s.tokens)
		}
	}
	s.tokens[audience] = token{header: header, renew: now.Add(tokenReuse)}
	return header, nil
}
