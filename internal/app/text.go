package app

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"natter/internal/natter"
)

// What a member's text becomes when it is shown is decided here, so that
// the notifications (who is mentioned) and the page (what is a link) read
// the same text the same way: Segments splits it into plain runs, web
// addresses and @mentions. Rendering them is the web layer's job.

// findURL returns the first web address in s at or after from, as the byte
// offsets [start, end) of its text and the address to link, or start -1.
//
// An address starts with http:// or https:// (in any case) not glued to a
// word before it, and runs to the next space or character that cannot be
// in one. Trailing punctuation is the sentence's, not the address's
// ("see https://go.dev." links https://go.dev), and so is a closing
// bracket without its opening one in the address ("(https://go.dev)"),
// while https://en.wikipedia.org/wiki/Go_(programming_language) keeps its
// own. Anything that does not parse as an http(s) address with a host,
// or that hides its real host behind a user name
// (https://bank.example@evil.example), stays text.
func findURL(s string, from int) (start, end int, link string) {
	for from < len(s) {
		i := indexScheme(s[from:])
		if i < 0 {
			return -1, -1, ""
		}
		start = from + i
		end = start + urlRunEnd(s[start:])
		end = start + trimURLTail(s[start:end])
		if link, ok := linkable(s[start:end]); ok && (start == 0 || !gluedBefore(s[:start])) {
			return start, end, link
		}
		from = start + len("http")
	}
	return -1, -1, ""
}

// indexScheme returns the index of the first "http://" or "https://" in s,
// in any case, or -1.
func indexScheme(s string) int {
	for i := 0; i+len("http://") <= len(s); i++ {
		c := s[i]
		if c != 'h' && c != 'H' {
			continue
		}
		rest := s[i:]
		if hasPrefixFold(rest, "http://") || hasPrefixFold(rest, "https://") {
			return i
		}
	}
	return -1
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// gluedBefore reports whether the text before an address ends in a letter,
// digit or one of the characters that would make the scheme part of
// something else ("xhttps://", "@https://").
func gluedBefore(before string) bool {
	r, _ := utf8.DecodeLastRuneInString(before)
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '@' || r == '/' || r == '.'
}

// urlRunEnd returns the length of the address-like run at the start of s:
// up to a space, a control character, or a character no address holds
// unescaped ("<>\"`{}|\\^", which also ends it inside HTML-ish text).
func urlRunEnd(s string) int {
	for i, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune("<>\"`{}|\\^", r) || r == utf8.RuneError {
			return i
		}
	}
	return len(s)
}

// trimURLTail returns the length of u without the punctuation that ends
// the sentence around it.
func trimURLTail(u string) int {
	for len(u) > 0 {
		r, size := utf8.DecodeLastRuneInString(u)
		switch {
		case strings.ContainsRune(".,:;!?'*", r):
		case r == ')' && strings.Count(u, "(") < strings.Count(u, ")"):
		case r == ']' && strings.Count(u, "[") < strings.Count(u, "]"):
		case r >= utf8.RuneSelf && (unicode.IsPunct(r) || unicode.IsSymbol(r)):
			// "。", "…", "»", an emoji right after the address.
		default:
			return len(u)
		}
		u = u[:len(u)-size]
	}
	return 0
}

// linkable returns the address text as an href, if it is an http(s)
// address with a plausible host and no user name.
func linkable(text string) (string, bool) {
	u, err := url.Parse(text)
	if err != nil || u.User != nil || u.Opaque != "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", false
	}
	if !validHost(u.Hostname()) || !validPort(u.Port()) {
		return "", false
	}
	// As url.String, but with the host as written: String would
	// percent-encode an internationalised one.
	var b strings.Builder
	b.WriteString(scheme + "://" + u.Host)
	u.Scheme, u.Host = "", ""
	b.WriteString(u.String())
	return b.String(), true
}

// validHost accepts a domain name (internationalised ones too: letters of
// any script, digits, hyphens, dots between non-empty labels) or an IP
// address literal.
func validHost(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	if strings.Contains(h, ":") { // an IPv6 literal; url.Parse checked the brackets
		for _, r := range h {
			if !(r == ':' || r == '.' || ('0' <= r && r <= '9') || ('a' <= r && r <= 'f') || ('A' <= r && r <= 'F')) {
				return false
			}
		}
		return true
	}
	for label := range strings.SplitSeq(strings.TrimSuffix(h, "."), ".") {
		if label == "" || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return false
		}
		for _, r := range label {
			if !(r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r)) {
				return false
			}
		}
	}
	return true
}

func validPort(p string) bool {
	if p == "" {
		return true
	}
	if len(p) > 5 {
		return false
	}
	for _, r := range p {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// ShortURL is how an address is shown: without its scheme and a leading
// "www.", and cut to about 30 characters with an ellipsis; the link keeps
// the whole address (and shows it as its title).
func ShortURL(text string) string {
	s := text
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if hasPrefixFold(s, "www.") && len(s) > 4 {
		s = s[4:]
	}
	s = strings.TrimSuffix(s, "/")
	const max = 30
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max-1 {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// mentionsOf returns what the @names of each of bodies name now: one
// look-up per distinct name of a whole page (Store.MembersNamed), nothing
// at all when no body mentions anyone.
func (a *App) mentionsOf(ctx context.Context, bodies []string) ([]natter.Mentions, error) {
	names := make([][]string, len(bodies))
	var all []string
	for i, body := range bodies {
		names[i] = Mentions(body)
		all = append(all, names[i]...)
	}
	if len(all) == 0 {
		return nil, nil
	}
	named, err := a.store.MembersNamed(ctx, all)
	if err != nil {
		return nil, err
	}
	out := make([]natter.Mentions, len(bodies))
	for i := range bodies {
		out[i] = natter.MentionsOf(names[i], named)
	}
	return out, nil
}

// withMentions returns posts with their mentions found (Post.Mentioned).
// It returns a copy: the store may hand the same posts to other requests.
func (a *App) withMentions(ctx context.Context, posts []natter.Post) ([]natter.Post, error) {
	bodies := make([]string, len(posts))
	for i, p := range posts {
		bodies[i] = p.Body
	}
	mentioned, err := a.mentionsOf(ctx, bodies)
	if err != nil || mentioned == nil {
		return posts, err
	}
	out := slices.Clone(posts)
	for i := range out {
		out[i].Mentioned = mentioned[i]
	}
	return out, nil
}
