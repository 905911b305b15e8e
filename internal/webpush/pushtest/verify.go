package pushtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// maxTokenLifetime is RFC 8292 §2's limit on a token's exp.
const maxTokenLifetime = 24 * time.Hour

// verifyVAPID checks an Authorization header as a push service does
// (RFC 8292 §3 and §4.2): the "vapid" scheme with t and k; k the
// application server key the subscription was made for; t a JWT signed
// with ES256 by that key, for audience, unexpired and expiring within 24
// hours, with an operator contact in sub.
func verifyVAPID(authorization string, wantKey []byte, audience string, now time.Time) error {
	scheme, params, _ := strings.Cut(authorization, " ")
	if !strings.EqualFold(scheme, "vapid") {
		return fmt.Errorf("authorization scheme %q is not vapid", scheme)
	}
	var t, k string
	for p := range strings.SplitSeq(params, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(name) {
		case "t":
			t = value
		case "k":
			k = value
		}
	}
	if t == "" || k == "" {
		return errors.New("vapid authorization lacks t or k")
	}
	key, err := base64.RawURLEncoding.DecodeString(k)
	if err != nil {
		return fmt.Errorf("k is not base64url: %v", err)
	}
	if !bytes.Equal(key, wantKey) {
		return errors.New("k is not the application server key the subscription was made with")
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), key)
	if err != nil {
		return fmt.Errorf("k is not a P-256 point: %v", err)
	}

	parts := strings.Split(t, ".")
	if len(parts) != 3 {
		return fmt.Errorf("t has %d parts, a JWT has 3", len(parts))
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if err := decodeJSONPart(parts[0], &header); err != nil {
		return fmt.Errorf("JWT header: %v", err)
	}
	if header.Alg != "ES256" {
		return fmt.Errorf("JWT alg %q is not ES256", header.Alg)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return errors.New("JWT signature is not 64 bytes of base64url (r||s)")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(pub, digest[:], r, s) {
		return errors.New("JWT signature does not verify with k")
	}

	var claims struct {
		Aud string      `json:"aud"`
		Exp json.Number `json:"exp"`
		Sub string      `json:"sub"`
	}
	if err := decodeJSONPart(parts[1], &claims); err != nil {
		return fmt.Errorf("JWT claims: %v", err)
	}
	if claims.Aud != audience {
		return fmt.Errorf("aud %q is not the endpoint's origin %q", claims.Aud, audience)
	}
	exp, err := claims.Exp.Int64()
	if err != nil {
		return fmt.Errorf("exp %q is not an integer", claims.Exp)
	}
	switch expires := time.Unix(exp, 0); {
	case !expires.After(now):
		return fmt.Errorf("token expired at %s", expires.UTC().Format(time.RFC3339))
	case expires.Sub(now) > maxTokenLifetime:
		return fmt.Errorf("exp is %s away, RFC 8292 §2 allows 24h", expires.Sub(now).Round(time.Second))
	}
	if !strings.HasPrefix(claims.Sub, "mailto:") && !strings.HasPrefix(claims.Sub, "https:") {
		return fmt.Errorf("sub %q is neither mailto: nor https:", claims.Sub)
	}
	return nil
}

func decodeJSONPart(part string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
