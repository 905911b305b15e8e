package webpush

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"time"
)

// VAPIDKey is the application server's P-256 key pair (RFC 8292 §2). It is
// made once and kept (MarshalBinary, ParseVAPIDKey) so that every instance
// signs with the same key: browsers bind each subscription to the public key
// given to pushManager.subscribe, and push services refuse any other.
type VAPIDKey struct {
	priv *ecdsa.PrivateKey
	// public is the uncompressed point, base64url: RFC 8292 §3.2's "k".
	public string
}

// GenerateVAPIDKey makes a new key pair.
func GenerateVAPIDKey() (*VAPIDKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("webpush: generate VAPID key: %w", err)
	}
	return newVAPIDKey(priv)
}

// ParseVAPIDKey reads a key from MarshalBinary's bytes: the 32-byte private
// scalar (SEC 1 §2.3.6), the form other Web Push tools print in base64url,
// so an operator can bring an existing key.
func ParseVAPIDKey(b []byte) (*VAPIDKey, error) {
	priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), b)
	if err != nil {
		return nil, fmt.Errorf("webpush: parse VAPID key: %w", err)
	}
	return newVAPIDKey(priv)
}

func newVAPIDKey(priv *ecdsa.PrivateKey) (*VAPIDKey, error) {
	pub, err := priv.PublicKey.Bytes()
	if err != nil {
		return nil, fmt.Errorf("webpush: VAPID public key: %w", err)
	}
	return &VAPIDKey{priv: priv, public: encodeBase64URL(pub)}, nil
}

// MarshalBinary returns the 32-byte private scalar. It is a secret: whoever
// holds it can push to every subscriber.
func (k *VAPIDKey) MarshalBinary() ([]byte, error) {
	b, err := k.priv.Bytes()
	if err != nil {
		return nil, fmt.Errorf("webpush: marshal VAPID key: %w", err)
	}
	return b, nil
}

// PublicKey is the application server key a browser's
// pushManager.subscribe({applicationServerKey}) takes: the uncompressed
// P-256 point, base64url without padding (RFC 8292 §3.2). natter serves it
// as GET /push/key.
func (k *VAPIDKey) PublicKey() string { return k.public }

// Authorization returns the value of the Authorization header of a push
// request to an endpoint whose origin is audience (RFC 8292 §3):
// "vapid t=<JWT>, k=<public key>", the JWT signed with ES256 and carrying
// aud, exp and sub (§2). Sender calls it with an expiry 11 hours away
// and caches the result; it is exported for tools and tests that need a
// token of their own making.
func (k *VAPIDKey) Authorization(audience, subject string, expires time.Time) (string, error) {
	claims, err := json.Marshal(struct {
		Aud string `json:"aud"`
		Exp int64  `json:"exp"`
		Sub string `json:"sub"`
	}{audience, expires.Unix(), subject})
	if err != nil {
		return "", fmt.Errorf("webpush: VAPID claims: %w", err)
	}
	// RFC 7515 §3.1, compact serialisation; the header is constant.
	signingInput := encodeBase64URL([]byte(`{"typ":"JWT","alg":"ES256"}`)) + "." + encodeBase64URL(claims)
	digest := sha256.Sum256([]byte(signingInput))
	r, s, err := ecdsa.Sign(rand.Reader, k.priv, digest[:])
	if err != nil {
		return "", fmt.Errorf("webpush: sign VAPID token: %w", err)
	}
	// RFC 7518 §3.4: ES256 is r and s as two 32-byte big-endian integers,
	// not the ASN.1 form ecdsa.SignASN1 gives.
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return "vapid t=" + signingInput + "." + encodeBase64URL(sig) + ", k=" + k.public, nil
}

// CheckSubject accepts the operator contact a VAPID token carries in "sub"
// (RFC 8292 §2.1): a "mailto:" address or an "https:" URL. Push services
// (Apple's among them) refuse tokens without one.
func CheckSubject(subject string) error {
	switch {
	case strings.HasPrefix(subject, "mailto:"):
		if _, err := mail.ParseAddress(strings.TrimPrefix(subject, "mailto:")); err != nil {
			return fmt.Errorf("webpush: VAPID subject %q: %w", subject, err)
		}
		return nil
	case strings.HasPrefix(subject, "https:"):
		u, err := url.Parse(subject)
		if err != nil || u.Host == "" {
			return fmt.Errorf("webpush: VAPID subject %q is not an https URL", subject)
		}
		return nil
	}
	return errors.New("webpush: VAPID subject must be a mailto: address or an https: URL")
}
