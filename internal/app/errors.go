package app

import (
	"fmt"
	"time"

	"natter/internal/natter"
)

// ErrBadCredentials is a failed login. It never says whether the username
// or the password was wrong. It is Invalid (the form shows it), not
// Unauthorized, which means "not logged in".
var ErrBadCredentials = &natter.Error{Kind: natter.Invalid, Message: "Invalid username or password."}

func notFound(format string, args ...any) error {
	return natter.Errorf(natter.NotFound, format, args...)
}

func forbidden(format string, args ...any) error {
	return natter.Errorf(natter.Forbidden, format, args...)
}

func rateLimited(what string, retry time.Duration) error {
	return &natter.Error{Kind: natter.RateLimited, RetryAfter: retry,
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
	return &natter.Error{Kind: natter.Invalid, Message: "Please correct the errors below.", Fields: fe}
}

func invalid(field, msg string) error {
	return fieldErrors{field: msg}.err()
}
