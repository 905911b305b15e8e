package app

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Kind classifies an error for the member: the web layer maps each kind to
// one HTTP status in one place.
type Kind int

const (
	Internal     Kind = iota // a fault of natter's: "Internal error" and a log line
	Invalid                  // bad input; Fields says which field and why
	NotFound                 // no such member, page or conversation
	Forbidden                // allowed to no one in the member's position
	Unauthorized             // login failed
	RateLimited              // too many attempts; RetryAfter says when to try again
)

// Error is an error whose Message may be shown to the member.
type Error struct {
	Kind    Kind
	Message string
	// Fields maps form field names to what is wrong with each (Invalid).
	Fields map[string]string
	// RetryAfter is how long to wait (RateLimited).
	RetryAfter time.Duration
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

// ErrorKind returns the Kind of err, Internal for errors that are not *Error.
func ErrorKind(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Errors returned by several use cases.
var (
	ErrNotFound       = &Error{Kind: NotFound, Message: "Not found."}
	ErrBadCredentials = &Error{Kind: Unauthorized, Message: "Invalid username or password."}
)

func notFound(format string, args ...any) error {
	return &Error{Kind: NotFound, Message: fmt.Sprintf(format, args...)}
}

func forbidden(format string, args ...any) error {
	return &Error{Kind: Forbidden, Message: fmt.Sprintf(format, args...)}
}

func rateLimited(what string, retry time.Duration) error {
	return &Error{Kind: RateLimited, RetryAfter: retry,
		Message: fmt.Sprintf("Too many %s. Please try again in %s.", what, roundWait(retry))}
}

func roundWait(d time.Duration) string {
	switch {
	case d <= time.Second:
		return "a second"
	case d < time.Minute:
		return fmt.Sprintf("%d seconds", int(d.Seconds()+0.999))
	default:
		m := int(d.Minutes() + 0.999)
		if m == 1 {
			return "a minute"
		}
		return fmt.Sprintf("%d minutes", m)
	}
}

// fieldErrors accumulates per-field validation messages.
type fieldErrors map[string]string

func (fe fieldErrors) add(field, msg string) {
	if _, ok := fe[field]; !ok {
		fe[field] = msg
	}
}

func (fe fieldErrors) err() error {
	if len(fe) == 0 {
		return nil
	}
	return &Error{Kind: Invalid, Message: "Please correct the errors below.", Fields: fe}
}

func invalid(field, msg string) error {
	return fieldErrors{field: msg}.err()
}
