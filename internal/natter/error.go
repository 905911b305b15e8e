package natter

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Kind classifies an error for the member. The web layer maps each kind to
// one HTTP status, in one place.
type Kind int

const (
	Internal     Kind = iota // a fault of natter's: "Internal error" and a log line
	Invalid                  // input the member can correct; Fields says which field and why
	Malformed                // a request no page of natter's sends (a bad query parameter)
	NotFound                 // no such member, page or conversation
	Forbidden                // allowed to no one in the member's position
	Unauthorized             // not logged in
	RateLimited              // too many attempts; RetryAfter says when to try again
	Gone                     // it was there and was deleted (a post)
)

var kindNames = [...]string{"internal", "invalid", "malformed", "not found", "forbidden", "unauthorized", "rate limited", "gone"}

func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return fmt.Sprintf("Kind(%d)", int(k))
	}
	return kindNames[k]
}

// Error is an error whose Message may be shown to the member. Wrapped in
// other errors it keeps its meaning: ErrorOf finds it anywhere in a chain.
type Error struct {
	Kind    Kind
	Message string
	// Fields maps form field names to what is wrong with each (Invalid).
	Fields map[string]string
	// RetryAfter is how long to wait (RateLimited).
	RetryAfter time.Duration
}

// Errorf returns an Error of kind k with a formatted message.
func Errorf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + e.Fields[k]
	}
	return strings.Join(parts, "; ")
}

// ErrorOf returns the *Error in err's chain meant for the member, or nil
// when there is none or it is Internal: then err is natter's own fault and
// its text must not be shown.
func ErrorOf(err error) *Error {
	var e *Error
	if errors.As(err, &e) && e.Kind != Internal {
		return e
	}
	return nil
}

// ErrorKind returns the Kind of err: Internal unless an *Error in its chain
// says otherwise.
func ErrorKind(err error) Kind {
	if e := ErrorOf(err); e != nil {
		return e.Kind
	}
	return Internal
}

// Errors storage returns, to be tested for with errors.Is. The application
// turns them into messages that say more (which member, which field).
var (
	ErrNotFound      = &Error{Kind: NotFound, Message: "Not found."}
	ErrUsernameTaken = &Error{Kind: Invalid, Message: "That username is taken. Please choose another."}
	ErrEmailTaken    = &Error{Kind: Invalid, Message: "That email address is already registered."}
)
