package webpush

import (
	"encoding/json"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestIsPublic(t *testing.T) {
	refused := []string{
		"127.0.0.1", "127.8.9.10", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.0.1",
		"100.64.0.1", "100.127.255.255", "169.254.169.254", "0.0.0.0", "0.1.2.3", "255.255.255.255",
		"224.0.0.1", "240.0.0.1", "192.0.2.1", "198.51.100.1", "203.0.113.1", "198.18.0.1", "192.0.0.8",
		"::", "::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::10.0.0.1", "fe80::1", "fe80::1%eth0",
		"fc00::1", "fd12:3456::1", "fec0::1", "ff02::1", "2001:db8::1", "2001::1", "2002:a00:1::1",
		"64:ff9b::a00:1", "64:ff9b:1::1", "100::1", "3fff::1",
	}
	allowed := []string{
		"8.8.8.8", "142.250.74.106", "100.63.255.255", "100.128.0.1", "172.32.0.1", "192.169.0.1",
		"2607:f8b0:4004:c07::5f", "2a00:1450:4001::1", "64:ff9b::808:808", "::ffff:8.8.8.8",
	}
	for _, s := range refused {
		if isPublic(netip.MustParseAddr(s)) {
			t.Errorf("isPublic(%s) = true, want false", s)
		}
	}
	for _, s := range allowed {
		if !isPublic(netip.MustParseAddr(s)) {
			t.Errorf("isPublic(%s) = false, want true", s)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 1, 22, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                                0,
		"30":                              30 * time.Second,
		" 5 ":                             5 * time.Second,
		"0":                               0,
		"-3":                              0,
		"soon":                            0,
		"99999999999999":                  maxTTL,
		"Tue, 01 Dec 2026 22:02:00 GMT":   2 * time.Minute,
		"Tue, 01 Dec 2026 21:00:00 GMT":   0,
		"Tuesday, 01-Dec-26 22:00:10 GMT": 10 * time.Second,
	} {
		if got := parseRetryAfter(v, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"https://fcm.googleapis.com/fcm/send/x":                   "https://fcm.googleapis.com",
		"https://Web.Push.Apple.com:443/x":                        "https://web.push.apple.com",
		"https://push.example:8443/x?y":                           "https://push.example:8443",
		"http://127.0.0.1:80/x":                                   "http://127.0.0.1",
		"http://[2001:DB8::1]:8080/x":                             "http://[2001:db8::1]:8080",
		"https://updates.push.services.mozilla.com/wpush/v2/gAAA": "https://updates.push.services.mozilla.com",
	} {
		u, err := url.Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := origin(u); got != want {
			t.Errorf("origin(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestTopicFor(t *testing.T) {
	a, b := TopicFor("conversation:1"), TopicFor("conversation:2")
	if a == b || a != TopicFor("conversation:1") {
		t.Errorf("topics %q and %q: want equal for equal keys only", a, b)
	}
	for _, topic := range []string{a, TopicFor(""), TopicFor(strings.Repeat("x", 1000))} {
		if len(topic) != 32 || strings.Trim(topic, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			t.Errorf("topic %q is not 32 base64url characters", topic)
		}
	}
}

// TestVAPIDTokens checks the claims Sender puts in its tokens and that it
// reuses a token for an audience, but not for too long.
func TestVAPIDTokens(t *testing.T) {
	key, err := GenerateVAPIDKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSender(Options{Key: key, Subject: "mailto:ops@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 22, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return now }

	first, err := s.authorization("https://fcm.googleapis.com")
	if err != nil {
		t.Fatal(err)
	}
	claims := tokenClaims(t, first, key)
	if claims.Aud != "https://fcm.googleapis.com" || claims.Sub != "mailto:ops@example.org" {
		t.Errorf("claims %+v", claims)
	}
	if exp := time.Unix(claims.Exp, 0); exp.Sub(now) > 12*time.Hour || !exp.After(now.Add(time.Hour)) {
		t.Errorf("exp is %v after now; want hours, at most 12", exp.Sub(now))
	}

	other, err := s.authorization("https://web.push.apple.com")
	if err != nil {
		t.Fatal(err)
	}
	if other == first {
		t.Error("two audiences share a token")
	}
	now = now.Add(tokenReuse - time.Second)
	if again, _ := s.authorization("https://fcm.googleapis.com"); again != first {
		t.Error("the token was not reused within tokenReuse")
	}
	now = now.Add(2 * time.Second)
	later, _ := s.authorization("https://fcm.googleapis.com")
	if later == first {
		t.Error("the token was reused past tokenReuse")
	}
	if exp := time.Unix(tokenClaims(t, later, key).Exp, 0); exp.Sub(now) > 12*time.Hour {
		t.Errorf("a renewed token expires %v from now", exp.Sub(now))
	}
}

type claims struct {
	Aud string `json:"aud"`
	Exp int64  `json:"exp"`
	Sub string `json:"sub"`
}

func tokenClaims(t *testing.T, header string, key *VAPIDKey) claims {
	t.Helper()
	rest, ok := strings.CutPrefix(header, "vapid t=")
	if !ok {
		t.Fatalf("header %q does not start with the vapid scheme", header)
	}
	jwt, k, ok := strings.Cut(rest, ", k=")
	if !ok || k != key.PublicKey() {
		t.Fatalf("header %q lacks k=%s", header, key.PublicKey())
	}
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not a JWT", jwt)
	}
	var c claims
	b, err := decodeBase64URL(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}
