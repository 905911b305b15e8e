package web

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

// Behind trusted proxies the client is the nearest forwarded address that
// is not one of them; anything a client sends is believed only as far as
// a trusted proxy vouches for it.
func TestClientAddr(t *testing.T) {
	s := &Server{cfg: Config{TrustedProxies: []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("192.0.2.1/32"),
	}}}
	for _, tc := range []struct {
		peer string
		xff  []string
		want string
	}{
		{"198.51.100.7:4000", nil, "198.51.100.7"},
		{"198.51.100.7:4000", []string{"203.0.113.9"}, "198.51.100.7"}, // untrusted peer: its header is ignored
		{"192.0.2.1:80", []string{"203.0.113.9"}, "203.0.113.9"},
		{"192.0.2.1:80", []string{"6.6.6.6, 203.0.113.9"}, "203.0.113.9"},           // the client's own claim is left of it
		{"192.0.2.1:80", []string{"6.6.6.6, 203.0.113.9, 10.1.2.3"}, "203.0.113.9"}, // two tiers of proxies
		{"192.0.2.1:80", []string{"203.0.113.9", "10.1.2.3"}, "203.0.113.9"},        // the header sent twice
		{"192.0.2.1:80", []string{"garbage, 10.1.2.3"}, "10.1.2.3"},
		{"192.0.2.1:80", nil, "192.0.2.1"},
		{"[::ffff:192.0.2.1]:80", []string{"203.0.113.9"}, "203.0.113.9"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.peer
		for _, v := range tc.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := s.clientAddr(r); got != tc.want {
			t.Errorf("peer %s, X-Forwarded-For %q: %s, want %s", tc.peer, tc.xff, got, tc.want)
		}
	}
}

func TestMetricMethod(t *testing.T) {
	for in, want := range map[string]string{"GET": "GET", "POST": "POST", "HEAD": "HEAD", "FOO1": "other", "DELETE": "other"} {
		if got := metricMethod(in); got != want {
			t.Errorf("metricMethod(%q) = %q, want %q", in, got, want)
		}
	}
}
