// Package mailtest runs a real SMTP server inside a test: it speaks SMTP over
// TCP on 127.0.0.1, records every message it accepts, and can be told to refuse
// messages, to offer STARTTLS or implicit TLS with a self-signed certificate,
// and to require AUTH PLAIN. Tests wait for mail with Next, never with sleeps.
package mailtest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one message the server accepted.
type Message struct {
	// From and To are the envelope (MAIL FROM, RCPT TO).
	From string
	To   []string
	// Header is the message's header, parsed by net/mail.
	Header netmail.Header
	// Text and HTML are the decoded text/plain and text/html parts.
	Text string
	HTML string
	// Raw is the message as it came over the wire.
	Raw []byte
	// TLS says whether the message arrived over an encrypted connection, and
	// AuthUser who logged in to send it ("" for nobody).
	TLS      bool
	AuthUser string
}

// Security is how the server protects its connections.
type Security int

const (
	// Plain offers no TLS at all.
	Plain Security = iota
	// StartTLS offers STARTTLS with a self-signed certificate.
	StartTLS
	// ImplicitTLS speaks TLS from the first byte (smtps).
	ImplicitTLS
)

// Option configures a Server.
type Option func(*Server)

// WithSecurity sets how the server protects its connections (Plain by default).
func WithSecurity(s Security) Option {
	return func(srv *Server) { srv.security = s }
}

// WithAuth makes the server offer AUTH PLAIN (over TLS only) and refuse mail
// from anyone who has not logged in as user with pass.
func WithAuth(user, pass string) Option {
	return func(srv *Server) { srv.user, srv.pass = user, pass }
}

// WithInsecureAuth lets the server accept AUTH on an unencrypted connection,
// as a badly configured real server might: a test can then check that a client
// does not send its password anyway.
func WithInsecureAuth() Option {
	return func(srv *Server) { srv.insecureAuth = true }
}

// Server is a running test SMTP server. Start it with Start; it stops when
// the test ends.
type Server struct {
	security     Security
	user, pass   string
	insecureAuth bool

	addr  *net.TCPAddr
	roots *x509.CertPool
	smtp  *smtp.Server

	mu           sync.Mutex
	queue        []*Message // accepted, not yet returned by Next
	received     []*Message // every accepted message
	refusals     []int      // reply codes for the next messages, in order
	hangUps      int        // messages to take and then hang up on, unanswered
	authAttempts int
	arrived      chan struct{} // poked (never blocking) when a message is queued
}

// Start runs a server on 127.0.0.1 on a free port until the test ends.
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := &Server{arrived: make(chan struct{}, 1)}
	for _, opt := range opts {
		opt(s)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("mailtest: listen: %v", err)
	}
	s.addr = ln.Addr().(*net.TCPAddr)

	s.smtp = smtp.NewServer(smtp.BackendFunc(s.newSession))
	s.smtp.Domain = "mailtest.invalid"
	s.smtp.AllowInsecureAuth = s.insecureAuth
	s.smtp.MaxMessageBytes = 10 << 20
	s.smtp.ErrorLog = log.New(io.Discard, "", 0)
	if s.security != Plain {
		cert, roots, err := selfSigned()
		if err != nil {
			ln.Close()
			tb.Fatalf("mailtest: %v", err)
		}
		s.roots = roots
		tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		if s.security == StartTLS {
			s.smtp.TLSConfig = tlsConfig
		} else {
			ln = tls.NewListener(ln, tlsConfig)
		}
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		s.smtp.Serve(ln) // returns when Close closes the listener
	}()
	tb.Cleanup(func() {
		s.smtp.Close()
		// Close misses a listener that Serve has not registered yet (the
		// goroutine may not have run at all), and Serve would then accept for
		// ever; closing it here too ends Serve either way.
		ln.Close()
		<-served
	})
	return s
}

// Addr is the host:port the server listens on.
func (s *Server) Addr() string { return s.addr.String() }

// Host is the IP address the server listens on.
func (s *Server) Host() string { return s.addr.IP.String() }

// Port is the TCP port the server listens on.
func (s *Server) Port() int { return s.addr.Port }

// URL is the -smtp-url a natter instance would use to reach this server,
// credentials included.
func (s *Server) URL() string {
	u := url.URL{Scheme: "smtp", Host: s.Addr()}
	switch s.security {
	case Plain:
		u.RawQuery = "tls=none"
	case ImplicitTLS:
		u.Scheme = "smtps"
	}
	if s.user != "" {
		u.User = url.UserPassword(s.user, s.pass)
	}
	return u.String()
}

// RootCAs holds the server's self-signed certificate, for a client to trust;
// nil for a Plain server.
func (s *Server) RootCAs() *x509.CertPool { return s.roots }

// Refuse makes the server refuse the next n messages, at the end of DATA,
// with the SMTP reply code (4xx: try again later; 5xx: never).
func (s *Server) Refuse(n, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.refusals = append(s.refusals, code)
	}
}

// HangUp makes the server take the next n messages and then close the
// connection without answering: the client cannot know the message
// arrived (as when a connection drops at that moment).
func (s *Server) HangUp(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hangUps += n
}

// Next returns the oldest accepted message that Next has not returned yet,
// waiting for one to arrive until ctx ends.
func (s *Server) Next(ctx context.Context) (*Message, error) {
	for {
		s.mu.Lock()
		if len(s.queue) > 0 {
			m := s.queue[0]
			s.queue = s.queue[1:]
			s.mu.Unlock()
			return m, nil
		}
		s.mu.Unlock()
		select {
		case <-s.arrived:
		case <-ctx.Done():
			return nil, fmt.Errorf("mailtest: waiting for a message: %w", context.Cause(ctx))
		}
	}
}

// Received is every message accepted so far, oldest first.
func (s *Server) Received() []*Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Message(nil), s.received...)
}

// AuthAttempts counts AUTH commands the server has answered, successful or not.
func (s *Server) AuthAttempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.authAttempts
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{server: s, conn: c}, nil
}

// session is one SMTP transaction's state on one connection.
type session struct {
	server   *Server
	conn     *smtp.Conn
	authUser string
	from     string
	to       []string
}

func (ss *session) AuthMechanisms() []string {
	if ss.server.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	ss.server.mu.Lock()
	ss.server.authAttempts++
	ss.server.mu.Unlock()
	if mech != sasl.Plain || ss.server.user == "" {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != ss.server.user || pass != ss.server.pass || (identity != "" && identity != user) {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}
		}
		ss.authUser = user
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.server.user != "" && ss.authUser == "" {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s := ss.server
	s.mu.Lock()
	if len(s.refusals) > 0 {
		code := s.refusals[0]
		s.refusals = s.refusals[1:]
		s.mu.Unlock()
		return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 0, 0}, Message: "Refused as the test asked"}
	}
	s.mu.Unlock()

	m, err := parse(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "mailtest cannot parse the message: " + err.Error()}
	}
	m.From, m.To = ss.from, append([]string(nil), ss.to...)
	_, m.TLS = ss.conn.TLSConnectionState()
	m.AuthUser = ss.authUser

	s.mu.Lock()
	s.queue = append(s.queue, m)
	s.received = append(s.received, m)
	hangUp := s.hangUps > 0
	if hangUp {
		s.hangUps--
	}
	s.mu.Unlock()
	select {
	case s.arrived <- struct{}{}:
	default: // already poked; Next drains the whole queue
	}
	if hangUp {
		ss.conn.Close()
		return errors.New("mailtest: hung up as the test asked")
	}
	return nil
}

func (ss *session) Reset() {
	ss.from, ss.to = "", nil
}

func (ss *session) Logout() error { return nil }

// parse reads a message's header and its text and HTML parts, however they
// are nested in multipart bodies and whatever their transfer encoding.
func parse(raw []byte) (*Message, error) {
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	m := &Message{Header: msg.Header, Raw: raw}
	err = m.walk(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	if err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Message) walk(contentType, encoding string, body io.Reader) error {
	if contentType == "" {
		contentType = "text/plain"
	}
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return fmt.Errorf("content type %q: %w", contentType, err)
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%s: %w", mediaType, err)
			}
			if err := m.walk(part.Header.Get("Content-Type"), part.Header.Get("Content-Transfer-Encoding"), part); err != nil {
				return err
			}
		}
	}
	var decoded io.Reader
	switch strings.ToLower(encoding) {
	case "", "7bit", "8bit", "binary":
		decoded = body
	case "quoted-printable":
		decoded = quotedprintable.NewReader(body)
	case "base64":
		decoded = base64.NewDecoder(base64.StdEncoding, body)
	default:
		return fmt.Errorf("unknown transfer encoding %q", encoding)
	}
	content, err := io.ReadAll(decoded)
	if err != nil {
		return fmt.Errorf("%s part: %w", mediaType, err)
	}
	switch mediaType {
	case "text/plain":
		m.Text = string(content)
	case "text/html":
		m.HTML = string(content)
	}
	return nil
}

// selfSigned makes a certificate for 127.0.0.1 and localhost, and a pool that
// trusts it.
func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("certificate key: %w", err)
	}
	now := time.Now()
	template := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mailtest"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("certificate: %w", err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, roots, nil
}
