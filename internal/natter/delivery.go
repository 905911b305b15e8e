package natter

import (
	"fmt"
	"strconv"
	"time"
)

// What a member can be notified of beyond an open page (DESIGN.md §8). A
// kind names both a preference (a row of the settings page) and the items
// the delivery engine sends; KindRead and KindTest are the engine's own and
// have no preference.
const (
	KindMessage = "message" // a private message; the item is the message
	KindMention = "mention" // a mention in a post; the item is the post
	KindReply   = "reply"   // a reply to the member's post; the item is the reply
	KindLike    = "like"    // a like of the member's post; the item is the post
	KindRead    = "read"    // the member read something a device was told of
	KindTest    = "test"    // "send a test notification" from the settings page
)

// NotifyingKinds are the kinds a member sets preferences for, in the order
// the settings page shows them. A new kind (replies, likes) is added here
// and to the app's content for it.
var NotifyingKinds = []string{KindMessage, KindMention, KindReply, KindLike}

// Channels the delivery engine sends through.
const (
	ChannelPush  = "push"
	ChannelEmail = "email"
)

// Item is something a member was notified of: the kind says what ID is (a
// message id for KindMessage, a post id for the others).
type Item struct {
	UserID int64
	Kind   string
	ID     int64
}

// MessageTag and PostTag are the tags of notifications: one per
// conversation (the peer's id: every message from one member replaces the
// last) and one per post mentioning the member. A device closes its
// notifications by tag when the member reads them elsewhere.
func MessageTag(peerID int64) string { return "m" + strconv.FormatInt(peerID, 10) }

// PostTag is the tag of what is about the post postID: a mention in it, a
// like of it, or (postID being the reply) a reply.
func PostTag(postID int64) string { return "p" + strconv.FormatInt(postID, 10) }

// Job is one entry of the outbox: something owed to a member on a channel.
// A push job is for one subscription (a member's device), so that each is
// retried on its own; a job of another channel is for the member.
type Job struct {
	ID      int64
	Channel string
	Item    Item
	Tag     string
	// SubscriptionID is the push subscription a push job is for.
	SubscriptionID int64
	// Tags are what a KindRead job closes.
	Tags []string
	// Data is what an account email carries (MailData, as JSON).
	Data string
	// Due is when the job was first owed (after the grace period).
	Due time.Time
	// Attempts counts the times the job was taken, this one included.
	Attempts int
}

func (j Job) String() string {
	return fmt.Sprintf("job %d (%s %s %d for member %d)", j.ID, j.Channel, j.Item.Kind, j.Item.ID, j.Item.UserID)
}

// PushSubscription is one browser's Web Push subscription.
type PushSubscription struct {
	ID       int64
	UserID   int64
	Endpoint string
	// P256DH and Auth are the browser's encryption keys (RFC 8291),
	// base64url, as the browser gave them.
	P256DH, Auth string
	UserAgent    string
	CreatedAt    time.Time
	// LastSuccess is when a push was last accepted (zero if never);
	// FailingSince when pushes began to fail (zero while they succeed).
	LastSuccess  time.Time
	FailingSince time.Time
}

// EmailLevel is how eagerly a kind is emailed.
type EmailLevel string

// The email levels. EmailAway sends only when the member has no page open
// and has not read the item after the email delay.
const (
	EmailAlways EmailLevel = "always"
	EmailAway   EmailLevel = "away"
	EmailNever  EmailLevel = "never"
)

// Valid reports whether l is one of the levels.
func (l EmailLevel) Valid() bool {
	return l == EmailAlways || l == EmailAway || l == EmailNever
}

// KindPrefs are a member's wishes for one kind.
type KindPrefs struct {
	Push  bool
	Email EmailLevel
}

// Wants reads the member's wishes for a kind on channel: whether they
// want it there at all, and whether only while no page of theirs is open
// (push: only then; email: by its level). It is the one rule: the app asks
// it before owing an item to a channel, and the delivery engine again when
// the item comes due, since the member may have changed their mind.
func (k KindPrefs) Wants(channel string) (wanted, onlyAway bool) {
	switch channel {
	case ChannelPush:
		return k.Push, true
	case ChannelEmail:
		switch k.Email {
		case EmailAlways:
			return true, false
		case EmailAway:
			return true, true
		}
	}
	return false, false
}

// DefaultKindPrefs are what a member who never opened the settings page
// gets: pushed, and emailed only when away; for likes, see DefaultLikePrefs.
var DefaultKindPrefs = KindPrefs{Push: true, Email: EmailAway}

// DefaultLikePrefs are the defaults for likes: neither pushed nor emailed.
// A like asks nothing of the member, and a popular post would otherwise
// buzz all day; the centre groups them ("alice and 4 others liked your
// post") for when the member looks.
var DefaultLikePrefs = KindPrefs{Push: false, Email: EmailNever}

// DefaultKind returns the preferences of kind for a member who never chose.
func DefaultKind(kind string) KindPrefs {
	if kind == KindLike {
		return DefaultLikePrefs
	}
	return DefaultKindPrefs
}

// Prefs are a member's notification preferences.
type Prefs struct {
	// Kinds holds the member's choice per kind; a kind missing from it
	// has DefaultKind(kind).
	Kinds map[string]KindPrefs
	// QuietFrom and QuietTo are minutes after midnight in TimeZone; equal
	// values mean no quiet hours. From 22:00 to 07:00 spans midnight.
	QuietFrom, QuietTo int
	// TimeZone is an IANA name ("Europe/Paris"); empty means UTC.
	TimeZone string
	// Previews shows a message's text in a notification; off, only who
	// wrote is shown.
	Previews bool
	// Digest is DigestDaily or DigestWeekly for a digest by email of what
	// waits while the member is away more than a week; empty for none.
	Digest string
}

// The digest periods.
const (
	DigestDaily  = "daily"
	DigestWeekly = "weekly"
)

// DigestAway is how long a member must have been away to get digests.
const DigestAway = 7 * 24 * time.Hour

// DigestPeriod is the time between two digests.
func DigestPeriod(digest string) time.Duration {
	if digest == DigestWeekly {
		return 7 * 24 * time.Hour
	}
	return 24 * time.Hour
}

// DefaultPrefs are the preferences of a member who never changed them.
func DefaultPrefs() Prefs { return Prefs{Kinds: map[string]KindPrefs{}, Previews: true} }

// Kind returns the member's wishes for kind.
func (p Prefs) Kind(kind string) KindPrefs {
	if k, ok := p.Kinds[kind]; ok {
		return k
	}
	return DefaultKind(kind)
}

// Location is the member's time zone; an unknown name is UTC.
func (p Prefs) Location() *time.Location {
	if p.TimeZone == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(p.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// QuietUntil reports whether t falls in the member's quiet hours and, if
// so, when they end.
func (p Prefs) QuietUntil(t time.Time) (time.Time, bool) {
	if p.QuietFrom == p.QuietTo {
		return time.Time{}, false
	}
	local := t.In(p.Location())
	m := local.Hour()*60 + local.Minute()
	var quiet bool
	if p.QuietFrom < p.QuietTo {
		quiet = m >= p.QuietFrom && m < p.QuietTo
	} else {
		quiet = m >= p.QuietFrom || m < p.QuietTo
	}
	if !quiet {
		return time.Time{}, false
	}
	y, mo, d := local.Date()
	end := time.Date(y, mo, d, p.QuietTo/60, p.QuietTo%60, 0, 0, local.Location())
	if !end.After(local) {
		end = end.AddDate(0, 0, 1)
	}
	return end, true
}

// ItemText is what a notification about an item shows.
type ItemText struct {
	// Actor is who sent the message or wrote the post.
	Actor MemberRef
	// Body is the message's or the post's text.
	Body string
	// PostID is the post of a mention, reply or like.
	PostID int64
	// Others are, for a like, the other members whose likes of the post
	// are unread, newest first (a few at most): Actor liked it last.
	Others []string
}
