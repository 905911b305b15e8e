package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// conversationTimeout bounds a whole SMTP conversation, so that a server that
// stops answering delays one worker for a while rather than for ever.
const conversationTimeout = 30 * time.Second

// Sender hands messages to the configured SMTP server. It is safe for
// concurrent use: each Send is its own connection.
type Sender struct {
	server Server
	from   string
	domain string
	https  bool
}

// NewSender returns a Sender for an enabled Config.
func NewSender(cfg Config) (*Sender, error) {
	if !cfg.Enabled() {
		return nil, errors.New("mail: email is off (no SMTP URL configured)")
	}
	if cfg.From == nil || cfg.PublicURL == nil {
		return nil, errors.New("mail: config has no From address or public URL (use ParseConfig)")
	}
	if cfg.Server.Security == Plain && cfg.Server.Username != "" {
		return nil, errors.New("mail: refusing credentials without TLS")
	}
	return &Sender{
		server: cfg.Server,
		from:   cfg.From.String(),
		domain: cfg.Domain(),
		https:  cfg.PublicURL.Scheme == "https",
	}, nil
}

// SendError is a failed Send. Temporary says whether the same message may go
// through later (the server was unreachable, or answered 4xx) or never will
// (the server answered 5xx, or the message itself is malformed).
type SendError struct {
	Temporary bool
	// Unknown says the message was sent in full but no answer came: the
	// server may have taken it. Sending it again may deliver it twice.
	Unknown bool
	// Code is the SMTP reply code when the server gave one, else 0.
	Code int
	Err  error
}

func (e *SendError) Error() string {
	kind := "permanent"
	if e.Temporary {
		kind = "temporary"
	}
	return fmt.Sprintf("mail: %s failure: %v", kind, e.Err)
}

func (e *SendError) Unwrap() error { return e.Err }

// IsUnknown reports whether err leaves it unknown whether the server took
// the message (the connection ended while waiting for its answer).
func IsUnknown(err error) bool {
	var se *SendError
	return errors.As(err, &se) && se.Unknown
}

// IsTemporary reports whether err is a Send failure worth retrying later.
func IsTemporary(err error) bool {
	var se *SendError
	return errors.As(err, &se) && se.Temporary
}

// Send delivers m to the SMTP server, or returns a *SendError. ctx bounds
// connecting; the conversation that follows is bounded by conversationTimeout,
// because go-mail cannot interrupt it halfway.
//
// Anything that goes wrong before the server has looked at the message (it
// cannot be reached, TLS or AUTH fails, ctx ends) is temporary: the message is
// not at fault, and an operator who fixes the server should not find the mail
// in between dropped. The server's verdict on the message itself decides the
// rest: 4xx temporary, 5xx permanent.
func (s *Sender) Send(ctx context.Context, m Message) error {
	return s.SendWith(ctx, m, nil)
}

// SendWith is Send with a last word: once the connection is ready (TLS and
// AUTH done) and just before the message is handed over, it calls ready,
// and sends nothing if ready fails (returning ready's error as it is).
// The outbox marks the email as possibly sent there, so that the moment in
// which a crash leaves it unknown whether the server took it is the
// handing over alone, not the whole conversation.
func (s *Sender) SendWith(ctx context.Context, m Message, ready func(context.Context) error) error {
	msg, err := s.build(m)
	if err != nil {
		return &SendError{Err: fmt.Errorf("message to %s: %w", addrOf(m), err)}
	}
	client, err := gomail.NewClient(s.server.Host, s.options()...)
	if err != nil {
		return &SendError{Err: fmt.Errorf("SMTP client for %s: %w", s.server.Addr(), err)}
	}
	conn, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return &SendError{Temporary: true, Err: fmt.Errorf("connecting to %s: %w", s.server.Addr(), err)}
	}
	if ready != nil {
		if err := ready(ctx); err != nil {
			_ = client.CloseWithSMTPClient(conn)
			return err
		}
	}
	sendErr := client.SendWithSMTPClient(conn, msg)
	// A failure to say QUIT after the server took the message changes nothing.
	_ = client.CloseWithSMTPClient(conn)
	if msg.IsDelivered() {
		// The server accepted the message; an error after that (the RSET that
		// follows) must not make the caller send it a second time.
		return nil
	}
	if sendErr == nil {
		return &SendError{Temporary: true, Err: fmt.Errorf("sending to %s: not accepted, no reason given", addrOf(m))}
	}
	return classify(sendErr)
}

func addrOf(m Message) string {
	if m.To == nil {
		return "<nobody>"
	}
	return m.To.Address
}

// classify turns go-mail's error into a SendError. go-mail marks an error
// temporary only when its text starts with 4, so a connection dropped mid-way
// (no reply code at all) would look permanent; a reply code is what counts here.
func classify(err error) *SendError {
	var ge *gomail.SendError
	if !errors.As(err, &ge) {
		return &SendError{Temporary: true, Err: err}
	}
	code := ge.ErrorCode()
	switch {
	case ge.Reason == gomail.ErrGetSender || ge.Reason == gomail.ErrGetRcpts || ge.Reason == gomail.ErrNoUnencoded:
		return &SendError{Err: err}
	case ge.Reason == gomail.ErrSMTPDataClose && code == 0:
		// The message ended with its final dot, and the server's verdict
		// never came.
		return &SendError{Temporary: true, Unknown: true, Err: err}
	case code >= 500:
		return &SendError{Code: code, Err: err}
	default:
		return &SendError{Temporary: true, Code: code, Err: err}
	}
}

func (s *Sender) options() []gomail.Option {
	tlsConfig := &tls.Config{
		ServerName: s.server.Host,
		RootCAs:    s.server.RootCAs,
		MinVersion: tls.VersionTLS12,
	}
	opts := []gomail.Option{
		gomail.WithPort(s.server.Port),
		gomail.WithTimeout(conversationTimeout),
		gomail.WithTLSConfig(tlsConfig),
	}
	switch s.server.Security {
	case ImplicitTLS:
		opts = append(opts, gomail.WithSSL())
	case Plain:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case StartTLS:
		if s.server.Username != "" {
			opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
		} else {
			opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
		}
	}
	if s.server.Username != "" {
		// Auto-discovery picks the strongest mechanism the server offers and,
		// on a connection that is not encrypted, none that reveals the password.
		opts = append(opts,
			gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.server.Username),
			gomail.WithPassword(s.server.Password))
	}
	return opts
}

// build turns m into go-mail's message with every header natter promises.
func (s *Sender) build(m Message) (*gomail.Msg, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.From(s.from); err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	msg.ToMailAddress(m.To)
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(messageID(m.ID, s.domain))
	msg.SetDate()
	msg.SetGenHeaderPreformatted("Auto-Submitted", "auto-generated")
	// Asks Exchange and friends not to answer with out-of-office replies.
	msg.SetGenHeaderPreformatted(gomail.HeaderXAutoResponseSuppress, "All")
	if m.Thread != "" {
		ref := "<" + threadID(m.Thread, s.domain) + ">"
		msg.SetGenHeaderPreformatted(gomail.HeaderInReplyTo, ref)
		msg.SetGenHeaderPreformatted(gomail.HeaderReferences, ref)
	}
	if m.List != nil {
		id := "<" + m.List.ID + "." + s.domain + ">"
		if m.List.Name != "" {
			id = `"` + m.List.Name + `" ` + id
		}
		msg.SetGenHeaderPreformatted("List-Id", id)
		if s.https {
			if err := msg.SetListUnsubscribeOneClick(m.List.Unsubscribe); err != nil {
				return nil, fmt.Errorf("list unsubscribe: %w", err)
			}
		} else {
			// RFC 8058 allows one-click only over https: a site on plain http
			// (a local trial) offers the link for a person to follow instead.
			msg.SetListUnsubscribe(m.List.Unsubscribe)
		}
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}
