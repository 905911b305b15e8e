package main

import (
	"context"
	"net"
	"net/http"
	"time"
)

// sourceIP is the i-th client source address: 127.0.0.2, 127.0.0.3, ...
// Every 127/8 address is this machine's; spreading connections over
// several gives each its own 28,000 ephemeral ports.
func sourceIP(i, n int) net.IP {
	return net.IPv4(127, 0, 0, byte(2+i%n))
}

func dialerFrom(ip net.IP) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}, Timeout: 10 * time.Second, KeepAlive: -1}
	return d.DialContext
}

// h2cTransport carries requests over HTTP/2 without TLS (prior knowledge)
// on one connection from ip: StrictMaxConcurrentRequests keeps it from
// opening a second connection while the first is full, or before the
// server's SETTINGS have raised the stream limit from the default 100.
func h2cTransport(ip net.IP) *http.Transport {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	return &http.Transport{
		Protocols:          &p,
		DialContext:        dialerFrom(ip),
		DisableCompression: true,
		HTTP2:              &http.HTTP2Config{StrictMaxConcurrentRequests: true},
	}
}

// h1Transport is a keep-alive HTTP/1.1 transport from ip that keeps up to
// idle connections.
func h1Transport(ip net.IP, idle int) *http.Transport {
	var p http.Protocols
	p.SetHTTP1(true)
	return &http.Transport{
		Protocols:           &p,
		DialContext:         dialerFrom(ip),
		DisableCompression:  true,
		MaxIdleConns:        0,
		MaxIdleConnsPerHost: idle,
		IdleConnTimeout:     90 * time.Second,
	}
}

// noRedirect is a client that returns redirects instead of following them.
func noRedirect(tr http.RoundTripper, timeout time.Duration) *http.Client {
	return &http.Client{
		Transport:     tr,
		Timeout:       timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func sessionCookie(token string) string { return "natter_session=" + token }
