// Package natter is natter's domain: the types every layer talks in — a
// member, a post, a message, a notification — the error that carries what a
// member may be told, and the interfaces the application needs from
// storage. It imports no SQL and no HTTP, and no other package of natter's:
// internal/store implements its interfaces, internal/app uses them, and
// internal/web shows its types.
//
// A member as others see them (Member, MemberRef) carries nothing secret,
// and neither does the signed-in member's own view (Account): none of them
// holds a password hash, so no template, log line or cache can leak one.
// The hash travels only in Credentials, read by authentication alone,
// which redacts itself when printed or logged.
package natter

import (
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Member is a member as anyone may see them: on a profile, in the hover
// popover, as a peer in a conversation.
type Member struct {
	ID       int64
	Username string // as typed at registration or last rename
	AboutMe  string
	// CreatedAt is when they registered; LastSeen when they were last
	// active (written at most once a minute).
	CreatedAt time.Time
	LastSeen  time.Time
	// PostCount is how many posts they have (a counter, never a count).
	PostCount int
	// HideLastSeen: they chose to keep LastSeen from others. Pages that
	// show this member to someone else leave LastSeen out.
	HideLastSeen bool
}

// Ref is the part of m shown beside a post or a message.
func (m Member) Ref() MemberRef { return MemberRef{ID: m.ID, Username: m.Username} }

// Account is the signed-in member's own view of themselves: what others see,
// plus what only they may see. It carries no credentials either.
//
// It repeats Member's fields rather than embedding Member: templates read
// .Me.Username on every page, and text/template finds a promoted field
// through reflect's slow, allocating search.
type Account struct {
	ID           int64
	Username     string
	AboutMe      string
	CreatedAt    time.Time
	LastSeen     time.Time
	PostCount    int
	HideLastSeen bool

	Email string
	// EmailVerified says Email was proved by a link sent to it; only a
	// verified address is sent notifications or password resets.
	EmailVerified bool
	// PendingEmail is an address waiting for its link to be followed (a
	// new member's, or a change), when the site sends email.
	PendingEmail string
	// UnreadMessages and UnreadActivity are the badge counts.
	UnreadMessages int
	UnreadActivity int
	// NotificationSeq is the last notification sequence number written for
	// this member; a page rendered now has seen everything up to it.
	NotificationSeq int64
}

// Member is the member as others see them.
func (a Account) Member() Member {
	return Member{ID: a.ID, Username: a.Username, AboutMe: a.AboutMe, CreatedAt: a.CreatedAt, LastSeen: a.LastSeen,
		PostCount: a.PostCount, HideLastSeen: a.HideLastSeen}
}

// Ref is the part of a shown beside a post or a message.
func (a Account) Ref() MemberRef { return MemberRef{ID: a.ID, Username: a.Username} }

// MemberRef is the part of a member shown beside a post or a message.
type MemberRef struct {
	ID       int64
	Username string
}

// Credentials are what a login is checked against. Only authentication
// reads them (Store.Credentials); they are never cached, and they print
// and log with the hash redacted.
type Credentials struct {
	MemberID     int64
	PasswordHash string
}

const redacted = "[REDACTED]"

// String keeps the hash out of %v and %s.
func (c Credentials) String() string {
	return "natter.Credentials{MemberID: " + strconv.FormatInt(c.MemberID, 10) + ", PasswordHash: " + redacted + "}"
}

// GoString keeps the hash out of %#v.
func (c Credentials) GoString() string { return c.String() }

// LogValue keeps the hash out of log/slog.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(slog.Int64("member_id", c.MemberID), slog.String("password_hash", redacted))
}

// MarshalText keeps the hash out of encoders (encoding/json among them).
func (c Credentials) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// Key is the case-folded form under which usernames and email addresses are
// unique: "Alice" and "alice" are one member.
func Key(s string) string { return strings.ToLower(s) }
