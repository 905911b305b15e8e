package app

import (
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Limits on what members type, in characters (Unicode code points), as the
// seed counts them.
const (
	MaxBodyLen     = 140
	MaxAboutMeLen  = 140
	MinPasswordLen = 8
	MaxPasswordLen = 256 // long passphrases are welcome; unbounded input is not
	MaxEmailLen    = 254
)

var usernameRE = regexp.MustCompile(`^[A-Za-z0-9_]{3,32}$`)

func checkUsername(fe fieldErrors, field, name string) {
	switch {
	case name == "":
		fe.add(field, "Choose a username.")
	case !usernameRE.MatchString(name):
		fe.add(field, "Usernames are 3 to 32 letters, digits or underscores.")
	}
}

func checkEmail(fe fieldErrors, field, email string) {
	if email == "" {
		fe.add(field, "Enter your email address.")
		return
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || len(email) > MaxEmailLen || !strings.Contains(email[strings.LastIndex(email, "@"):], ".") {
		fe.add(field, "Enter a valid email address, like name@example.com.")
	}
}

// checkText validates free text: well-formed, without NUL (PostgreSQL
// refuses it), between min and max characters.
func checkText(fe fieldErrors, field, s string, min, max int, blankMsg string) {
	n := utf8.RuneCountInString(s)
	switch {
	case !utf8.ValidString(s) || strings.ContainsRune(s, 0):
		fe.add(field, "This contains characters that are not allowed.")
	case min > 0 && strings.TrimSpace(s) == "":
		fe.add(field, blankMsg)
	case n > max:
		fe.add(field, fmt.Sprintf("Keep it to %d characters (this is %d).", max, n))
	}
}

// normalizeText trims the spaces around text and makes line breaks "\n", so
// that what is stored is what is counted.
func normalizeText(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
}
