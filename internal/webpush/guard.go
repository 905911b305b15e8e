package webpush

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrEndpointRefused is wrapped by the error of a send (or of CheckEndpoint)
// to an endpoint natter will not contact: not https, or an address that is
// not public. It is permanent: the subscription should go.
var ErrEndpointRefused = errors.New("webpush: endpoint refused")

// nonPublic lists the ranges a push endpoint may not be dialled at besides
// those netip classifies itself (loopback, private, link-local, multicast,
// unspecified). Sources: the IANA IPv4 and IPv6 Special-Purpose Address
// Registries (RFC 6890 and its updates).
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network", RFC 791
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT, RFC 6598
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments, RFC 6890
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation, RFC 5737
	netip.MustParsePrefix("192.88.99.0/24"),  // 6to4 relay anycast, RFC 7526
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking, RFC 2544
	netip.MustParsePrefix("198.51.100.0/24"), // documentation, RFC 5737
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation, RFC 5737
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and the broadcast address
	netip.MustParsePrefix("::/8"),            // unspecified, loopback, IPv4-compatible
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64, RFC 8215
	netip.MustParsePrefix("100::/64"),        // discard-only, RFC 6666
	netip.MustParsePrefix("2001::/23"),       // IETF protocol assignments (Teredo, ...), RFC 2928
	netip.MustParsePrefix("2001:db8::/32"),   // documentation, RFC 3849
	netip.MustParsePrefix("2002::/16"),       // 6to4, which embeds any IPv4 address, RFC 3056
	netip.MustParsePrefix("3fff::/20"),       // documentation, RFC 9637
	netip.MustParsePrefix("fec0::/10"),       // site-local, deprecated by RFC 3879
	netip.MustParsePrefix("fc00::/7"),        // unique local, RFC 4193 (also IsPrivate)
}

// nat64 is the well-known NAT64 prefix (RFC 6052): its addresses reach the
// IPv4 address in their last 32 bits, which is judged instead.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// isPublic reports whether a push endpoint may be dialled at a.
func isPublic(a netip.Addr) bool {
	// ::ffff:10.0.0.1 is 10.0.0.1; and a zone would make every Prefix.Contains
	// below answer false.
	a = a.Unmap().WithZone("")
	if nat64.Contains(a) {
		b := a.As16()
		a = netip.AddrFrom4([4]byte(b[12:]))
	}
	if !a.IsGlobalUnicast() || a.IsPrivate() {
		// IsGlobalUnicast is false for loopback, link-local, multicast and
		// unspecified addresses; IsPrivate covers RFC 1918 and fc00::/7.
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// guard decides where a send may go. The zero value allows only https to
// public addresses.
type guard struct {
	// allowed are the operator's host:port pairs (lower case) that may be
	// reached over plain http and at any address.
	allowed map[string]bool
}

func newGuard(allowInsecure []string) (guard, error) {
	g := guard{allowed: make(map[string]bool, len(allowInsecure))}
	for _, hp := range allowInsecure {
		hp = strings.TrimSpace(hp)
		if hp == "" {
			continue
		}
		host, port, err := net.SplitHostPort(hp)
		if err != nil || host == "" || port == "" {
			return guard{}, fmt.Errorf("webpush: allow-insecure entry %q is not host:port", hp)
		}
		g.allowed[strings.ToLower(net.JoinHostPort(host, port))] = true
	}
	return g, nil
}

// hostPort is u's host and port as the transport dials it, the port made
// explicit, in lower case: the form the allow-list holds.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return strings.ToLower(net.JoinHostPort(u.Hostname(), port))
}

// checkURL refuses, before any request, what can be judged from the URL
// alone: a scheme other than https outside the allow-list, and a literal IP
// address that is not public. Names are judged when dialled.
func (g guard) checkURL(u *url.URL) error {
	if g.allowed[hostPort(u)] {
		return nil
	}
	if u.Scheme != "https" {
		return fmt.Errorf("%w: %s is not https", ErrEndpointRefused, u.Redacted())
	}
	if a, err := netip.ParseAddr(u.Hostname()); err == nil && !isPublic(a) {
		return fmt.Errorf("%w: %s is not a public address", ErrEndpointRefused, a)
	}
	return nil
}

// dialer returns the transport's DialContext. An allow-listed host:port is
// dialled as it is; any other is dialled through a net.Dialer whose Control
// hook sees every address actually connected to, after name resolution,
// and refuses non-public ones: a name that resolves (or re-resolves, as in
// DNS rebinding) to a private address is caught there.
func (g guard) dialer(timeout time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	plain := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	guarded := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: controlPublic}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if g.allowed[strings.ToLower(addr)] {
			return plain.DialContext(ctx, network, addr)
		}
		return guarded.DialContext(ctx, network, addr)
	}
}

// controlPublic is a net.Dialer Control hook: it runs after the socket is
// made and before it connects, with the resolved address.
func controlPublic(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot judge address %q: %v", ErrEndpointRefused, address, err)
	}
	if !isPublic(ap.Addr()) {
		return fmt.Errorf("%w: %s is not a public address", ErrEndpointRefused, ap.Addr())
	}
	return nil
}
