package app

import (
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"unicode"
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

// The rules of usernames and new passwords, as forms show them under their
// fields before a submit can fail.
var (
	UsernameRule = "3 to 32 characters: letters A–Z, digits 0–9 and underscores (_), no spaces."
	PasswordRule = fmt.Sprintf("At least %d characters. Not one of the most common passwords, and not containing your username or email address.", MinPasswordLen)
)

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
// refuses it) or other invisible control characters, between min and max
// characters.
func checkText(fe fieldErrors, field, s string, min, max int, blankMsg string) {
	n := utf8.RuneCountInString(s)
	switch {
	case !utf8.ValidString(s) || strings.ContainsRune(s, 0):
		fe.add(field, "This contains characters that are not allowed.")
	case hiddenControl(s) != 0:
		fe.add(field, fmt.Sprintf("This contains an invisible control character (U+%04X), which can make text show differently from what it says. Please remove it.", hiddenControl(s)))
	case min > 0 && strings.TrimSpace(s) == "":
		fe.add(field, blankMsg)
	case n > max:
		fe.add(field, fmt.Sprintf("Keep it to %d characters (this is %d).", max, n))
	}
}

// hiddenControl returns the first character of s that is invisible and
// changes how the text around it shows, or 0. Refused rather than
// stripped, so that what is stored is what the member typed: bidirectional
// overrides and isolates can make a post or a name read backwards
// ("txt.exe" as "exe.txt"), zero-width characters hide text or make
// look-alike words, and control characters other than newline and tab
// have no business in a post. Zero-width joiners and non-joiners stay
// allowed (emoji sequences and Persian, among others, need them), as do
// tag characters (subdivision flags).
func hiddenControl(s string) rune {
	for _, r := range s {
		switch {
		case r == '\n' || r == '\t':
		case r == '\u200c' || r == '\u200d':
		case r >= 0xe0020 && r <= 0xe007f:
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r):
			return r
		}
	}
	return 0
}

// normalizeText trims the spaces around text and makes line breaks "\n", so
// that what is stored is what is counted.
func normalizeText(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
}
