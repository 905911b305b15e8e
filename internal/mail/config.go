package mail

import (
	"crypto/x509"
	"errors"
	"fmt"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
)

// Security is how the connection to the SMTP server is protected.
type Security int

const (
	// StartTLS (smtp://) upgrades the connection with STARTTLS when the server
	// offers it, and insists on it when credentials are configured, so that a
	// password never crosses the network in the clear.
	StartTLS Security = iota
	// ImplicitTLS (smtps://) speaks TLS from the first byte.
	ImplicitTLS
	// Plain (smtp://…?tls=none) never encrypts; only for a server on the same
	// machine or network, such as a test server or mailpit. It cannot carry
	// credentials.
	Plain
)

// String names the security mode as the URL spells it.
func (s Security) String() string {
	switch s {
	case StartTLS:
		return "starttls"
	case ImplicitTLS:
		return "implicit tls"
	case Plain:
		return "none"
	}
	return "Security(" + strconv.Itoa(int(s)) + ")"
}

// Default ports when the URL names none: the submission ports of RFC 6409 and
// RFC 8314, and port 25 for an unencrypted local relay.
const (
	defaultSubmissionPort  = 587
	defaultImplicitTLSPort = 465
	defaultPlainPort       = 25
)

// Server is where and how mail is handed over for delivery.
type Server struct {
	Host     string
	Port     int
	Security Security
	// Username and Password, when set, are sent with SMTP AUTH, and only over TLS.
	Username string
	Password string
	// RootCAs, when set, replaces the system's roots for verifying the server's
	// certificate: for a private CA, and for tests that trust a self-signed one.
	RootCAs *x509.CertPool
}

// String describes the server for a log line, without the password; it is
// also what %v prints for a Config, so the password cannot slip into a log.
func (s Server) String() string {
	u := url.URL{Scheme: "smtp", Host: s.Addr()}
	switch s.Security {
	case ImplicitTLS:
		u.Scheme = "smtps"
	case Plain:
		u.RawQuery = "tls=none"
	}
	if s.Username != "" {
		u.User = url.User(s.Username)
	}
	return u.String()
}

// Addr is the host:port to dial.
func (s Server) Addr() string {
	return joinHostPort(s.Host, s.Port)
}

func joinHostPort(host string, port int) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + strconv.Itoa(port)
	}
	return host + ":" + strconv.Itoa(port)
}

// Config is everything natter needs to send email. The zero Config means email
// is off.
type Config struct {
	Server Server
	// From is the sender of every email.
	From *netmail.Address
	// PublicURL is the base of every link in an email, for example
	// https://natter.example or https://example.org/natter (no trailing slash).
	PublicURL *url.URL
	// SiteName is how emails name the site (natter's -site-name); empty,
	// the public URL's host.
	SiteName string
}

// Enabled reports whether email is configured.
func (c Config) Enabled() bool {
	return c.Server.Host != ""
}

// Domain is the public URL's host name, used on the right of Message-IDs and
// List-Ids so that they are unique to this site.
func (c Config) Domain() string {
	host := c.PublicURL.Hostname()
	if strings.Contains(host, ":") {
		// An IPv6 address is only valid in a Message-ID as a domain literal.
		return "[" + host + "]"
	}
	return host
}

// Link turns a site-relative path such as "/verify-email/abc" (with an optional
// query) into an absolute URL on the public URL. It refuses anything else, so an
// email can never carry a link to somewhere other than this site.
func (c Config) Link(path string) (string, error) {
	if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") {
		return "", fmt.Errorf("mail: link %q is not a site-relative path", path)
	}
	ref, err := url.Parse(path)
	if err != nil {
		return "", fmt.Errorf("mail: link %q: %w", path, err)
	}
	if ref.Scheme != "" || ref.Host != "" || ref.User != nil {
		return "", fmt.Errorf("mail: link %q is not a site-relative path", path)
	}
	abs := *c.PublicURL
	abs.Path = strings.TrimSuffix(abs.Path, "/") + ref.Path
	abs.RawPath = ""
	abs.RawQuery = ref.RawQuery
	abs.Fragment = ref.Fragment
	return abs.String(), nil
}

// ParseConfig reads the operator's settings (-smtp-url, -mail-from,
// -public-url). An empty smtpURL turns email off and returns the zero Config
// whatever the other two say. Otherwise publicURL is required, and mailFrom
// defaults to natter@ the public URL's host.
//
// smtpURL is one of
//
//	smtp://[user:pass@]host[:port]            STARTTLS when offered; required with credentials (port 587)
//	smtps://[user:pass@]host[:port]           implicit TLS (port 465)
//	smtp://host[:port]?tls=none               plain, for a local server; no credentials (port 25)
func ParseConfig(smtpURL, mailFrom, publicURL string) (Config, error) {
	if strings.TrimSpace(smtpURL) == "" {
		return Config{}, nil
	}
	server, err := parseServer(smtpURL)
	if err != nil {
		return Config{}, err
	}
	public, err := parsePublicURL(publicURL)
	if err != nil {
		return Config{}, err
	}
	cfg := Config{Server: server, PublicURL: public}
	if strings.TrimSpace(mailFrom) == "" {
		def := "natter <natter@" + public.Hostname() + ">"
		from, err := netmail.ParseAddress(def)
		if err != nil {
			return Config{}, fmt.Errorf("mail: mail-from is required: the public URL's host cannot make the default %q", def)
		}
		cfg.From = from
		return cfg, nil
	}
	from, err := netmail.ParseAddress(mailFrom)
	if err != nil {
		return Config{}, fmt.Errorf("mail: mail-from %q is not an email address: %w", mailFrom, err)
	}
	cfg.From = from
	return cfg, nil
}

// parseServer reads an SMTP URL. Error messages never repeat the URL itself,
// because it may hold a password that would then end up in a log.
func parseServer(raw string) (Server, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return Server{}, errors.New("mail: smtp-url is not a URL (want smtp://[user:pass@]host:port, smtps://… or smtp://host:port?tls=none)")
	}
	var s Server
	switch u.Scheme {
	case "smtp":
		s.Security, s.Port = StartTLS, defaultSubmissionPort
	case "smtps":
		s.Security, s.Port = ImplicitTLS, defaultImplicitTLSPort
	default:
		return Server{}, fmt.Errorf("mail: smtp-url scheme %q is not smtp or smtps", u.Scheme)
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return Server{}, errors.New("mail: smtp-url has no host (want smtp://host:port)")
	}
	s.Host = u.Hostname()
	if u.Path != "" && u.Path != "/" {
		return Server{}, fmt.Errorf("mail: smtp-url has a path %q; an SMTP server has none", u.Path)
	}
	if u.Fragment != "" {
		return Server{}, errors.New("mail: smtp-url has a fragment")
	}
	query, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return Server{}, fmt.Errorf("mail: smtp-url query: %w", err)
	}
	for key, values := range query {
		if key != "tls" {
			return Server{}, fmt.Errorf("mail: smtp-url parameter %q is unknown (only tls=none is)", key)
		}
		if len(values) != 1 || values[0] != "none" {
			return Server{}, fmt.Errorf("mail: smtp-url tls=%q is unknown (only tls=none is)", strings.Join(values, ","))
		}
		if s.Security == ImplicitTLS {
			return Server{}, errors.New("mail: smtp-url smtps:// with tls=none contradicts itself")
		}
		s.Security, s.Port = Plain, defaultPlainPort
	}
	if p := u.Port(); p != "" {
		port, err := strconv.Atoi(p)
		if err != nil || port < 1 || port > 65535 {
			return Server{}, fmt.Errorf("mail: smtp-url port %q is not a port number", p)
		}
		s.Port = port
	}
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
		if s.Username == "" || s.Password == "" {
			return Server{}, errors.New("mail: smtp-url credentials need both a user name and a password")
		}
		if s.Security == Plain {
			return Server{}, errors.New("mail: smtp-url has credentials with tls=none; they would be sent unencrypted (use smtp:// with STARTTLS or smtps://)")
		}
	}
	return s, nil
}

func parsePublicURL(raw string) (*url.URL, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, errors.New("mail: public-url is required when email is on: every link in an email is built from it")
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("mail: public-url %q: %w", raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("mail: public-url %q is not an absolute http(s) URL such as https://natter.example", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("mail: public-url %q must be scheme://host[:port][/path] only", raw)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u, nil
}
