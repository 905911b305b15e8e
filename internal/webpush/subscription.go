package webpush

import (
	"crypto/ecdh"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// ErrInvalidSubscription is wrapped by every error about a subscription's
// content: a caller can answer 400 and keep nothing.
var ErrInvalidSubscription = errors.New("webpush: invalid subscription")

// authSecretLen is the length of the user agent's authentication secret
// (RFC 8291 §3.2).
const authSecretLen = 16

// maxEndpointLen bounds an endpoint URL: real ones are a few hundred bytes,
// and the caller stores it.
const maxEndpointLen = 2048

// Subscription is a browser's push subscription, in the JSON shape of
// PushSubscription.toJSON() (W3C Push API):
//
//	{"endpoint": "https://...", "expirationTime": null,
//	 "keys": {"p256dh": "<base64url>", "auth": "<base64url>"}}
//
// The fields keep the browser's strings so the caller can store and compare
// them as they came; Validate (or ParseSubscription) checks them.
type Subscription struct {
	// Endpoint is the push resource (RFC 8030 §4): where messages are posted.
	Endpoint string `json:"endpoint"`
	// ExpirationTime is when the browser will drop the subscription, in
	// milliseconds since the Unix epoch, or nil (as nearly all browsers say).
	ExpirationTime *float64 `json:"expirationTime"`
	Keys           Keys     `json:"keys"`
}

// Keys are a subscription's encryption keys (RFC 8291 §2.1), base64url.
type Keys struct {
	// P256DH is the user agent's ECDH public key, an uncompressed P-256 point.
	P256DH string `json:"p256dh"`
	// Auth is the user agent's 16-byte authentication secret.
	Auth string `json:"auth"`
}

// ParseSubscription decodes and validates the JSON a browser's
// PushSubscription.toJSON() gives. Unknown fields are ignored, as browsers
// may add some.
func ParseSubscription(data []byte) (Subscription, error) {
	var s Subscription
	if err := json.Unmarshal(data, &s); err != nil {
		return Subscription{}, fmt.Errorf("%w: %v", ErrInvalidSubscription, err)
	}
	if err := s.Validate(); err != nil {
		return Subscription{}, err
	}
	return s, nil
}

// Validate checks that the endpoint is an absolute URL, that p256dh is a
// valid uncompressed P-256 point and that auth is 16 bytes. It does not
// judge whether the endpoint may be dialled; see Sender.CheckEndpoint.
func (s Subscription) Validate() error {
	if _, err := parseEndpoint(s.Endpoint); err != nil {
		return err
	}
	if _, _, err := s.keys(); err != nil {
		return err
	}
	return nil
}

// Expires reports when the browser said the subscription ends, if it did.
func (s Subscription) Expires() (time.Time, bool) {
	if s.ExpirationTime == nil {
		return time.Time{}, false
	}
	return time.UnixMilli(int64(*s.ExpirationTime)), true
}

func parseEndpoint(endpoint string) (*url.URL, error) {
	if endpoint == "" {
		return nil, fmt.Errorf("%w: endpoint missing", ErrInvalidSubscription)
	}
	if len(endpoint) > maxEndpointLen {
		return nil, fmt.Errorf("%w: endpoint longer than %d bytes", ErrInvalidSubscription, maxEndpointLen)
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("%w: endpoint: %v", ErrInvalidSubscription, err)
	}
	if !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return nil, fmt.Errorf("%w: endpoint %q is not an absolute URL", ErrInvalidSubscription, endpoint)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("%w: endpoint scheme %q is not https", ErrInvalidSubscription, u.Scheme)
	}
	if u.User != nil {
		// Credentials in the URL would be sent along; no push service uses them.
		return nil, fmt.Errorf("%w: endpoint carries credentials", ErrInvalidSubscription)
	}
	return u, nil
}

// keys decodes the subscription's public key and authentication secret.
func (s Subscription) keys() (*ecdh.PublicKey, []byte, error) {
	raw, err := decodeBase64URL(s.Keys.P256DH)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: keys.p256dh: %v", ErrInvalidSubscription, err)
	}
	// NewPublicKey accepts only the 65-byte uncompressed form and checks the
	// point is on the curve: exactly RFC 8291 §3.1's requirement.
	pub, err := ecdh.P256().NewPublicKey(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: keys.p256dh is not an uncompressed P-256 point", ErrInvalidSubscription)
	}
	auth, err := decodeBase64URL(s.Keys.Auth)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: keys.auth: %v", ErrInvalidSubscription, err)
	}
	if len(auth) != authSecretLen {
		return nil, nil, fmt.Errorf("%w: keys.auth is %d bytes, want %d", ErrInvalidSubscription, len(auth), authSecretLen)
	}
	return pub, auth, nil
}

// decodeBase64URL accepts base64url with or without padding: the Push API
// gives it unpadded, but some clients pad, and both mean the same bytes.
func decodeBase64URL(s string) ([]byte, error) {
	for len(s) > 0 && s[len(s)-1] == '=' {
		s = s[:len(s)-1]
	}
	return base64.RawURLEncoding.DecodeString(s)
}

func encodeBase64URL(b []byte) string {
	return base64.RawURLEncoding.EncodeToString(b)
}
