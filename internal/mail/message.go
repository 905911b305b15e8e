package mail

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"
)

// Message is one email, ready to send. Compose builds one from a template;
// the fields can also be filled by hand.
type Message struct {
	To      *netmail.Address
	Subject string
	// Text and HTML are the two parts of a multipart/alternative body. Text is
	// required; HTML is optional.
	Text string
	HTML string

	// ID, when set, makes the Message-ID stable (ID@domain): the outbox can pass
	// its row's id, so that a mail sent again after a lost reply carries the same
	// Message-ID and the receiver can tell it is the same mail. Letters, digits
	// and . - _ only, with no dot at either end or twice in a row. Empty means
	// a random one.
	ID string

	// Thread, when set, threads this mail with every other one that has the same
	// Thread (In-Reply-To and References point to one id derived from it), for
	// example "conversation:alice:bob". Any string; it is hashed, so it never
	// shows in a header.
	Thread string

	// List, when set, marks a notification the member can unsubscribe from.
	List *List
}

// List describes a kind of notification email, for the List-Id and
// List-Unsubscribe headers (RFC 2919, RFC 2369, RFC 8058).
type List struct {
	// ID is the list's label, such as "messages": the List-Id becomes
	// <messages.DOMAIN>. Letters, digits and - only.
	ID string
	// Name is the List-Id's phrase, such as "natter messages".
	Name string
	// Unsubscribe is the absolute URL a mail client POSTs to
	// (List-Unsubscribe=One-Click) to unsubscribe the member from this list at
	// once, without logging in. It must be https for the one-click header
	// (RFC 8058); with an http public URL (a local trial) only List-Unsubscribe
	// is sent.
	Unsubscribe string
}

// validate refuses what would make a malformed or forged mail. Every string
// that ends up in a header is checked for line breaks, which would otherwise
// let a member's text start a header of its own.
func (m Message) validate() error {
	if m.To == nil || m.To.Address == "" {
		return errors.New("no recipient")
	}
	if m.Subject == "" {
		return errors.New("no subject")
	}
	if m.Text == "" {
		return errors.New("no text part")
	}
	for _, s := range []string{m.To.Name, m.To.Address, m.Subject} {
		if strings.ContainsAny(s, "\r\n") {
			return fmt.Errorf("header value %q has a line break", s)
		}
	}
	if m.ID != "" && (!isToken(m.ID, "._-") || strings.HasPrefix(m.ID, ".") || strings.HasSuffix(m.ID, ".") || strings.Contains(m.ID, "..")) {
		return fmt.Errorf("message ID %q may hold only letters, digits and . - _", m.ID)
	}
	if m.List != nil {
		if !isToken(m.List.ID, "-") {
			return fmt.Errorf("list ID %q may hold only letters, digits and -", m.List.ID)
		}
		if strings.ContainsAny(m.List.Name, "\r\n\"\\<>") {
			return fmt.Errorf("list name %q has characters a List-Id cannot carry", m.List.Name)
		}
		if m.List.Unsubscribe == "" || strings.ContainsAny(m.List.Unsubscribe, "\r\n<> ") {
			return fmt.Errorf("list unsubscribe URL %q is empty or malformed", m.List.Unsubscribe)
		}
	}
	return nil
}

func isToken(s, extra string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		case strings.ContainsRune(extra, r):
		default:
			return false
		}
	}
	return true
}

// messageID is the Message-ID without angle brackets.
func messageID(id, domain string) string {
	if id == "" {
		var b [16]byte
		rand.Read(b[:]) // never fails (crypto/rand)
		id = hex.EncodeToString(b[:])
	}
	return id + "@" + domain
}

// threadID is the id every mail of one thread refers to. It names a mail that
// was never sent; mail clients thread on References all the same, and no mail
// needs to know whether it is the first of its thread.
func threadID(thread, domain string) string {
	sum := sha256.Sum256([]byte(thread))
	return "thread-" + hex.EncodeToString(sum[:12]) + "@" + domain
}
