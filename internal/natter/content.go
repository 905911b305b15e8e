package natter

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Post is a short note on the timeline.
type Post struct {
	ID        int64
	Author    MemberRef
	Body      string
	CreatedAt time.Time
	// ReplyTo is the post this one answers (0: none), by ReplyToAuthor
	// (a zero ID when that post is gone with its author's account).
	ReplyTo       int64
	ReplyToAuthor MemberRef
	// Likes and Replies are kept on the post's row, never counted.
	Likes, Replies int
	// EditedAt is when the text was last edited; zero if never.
	EditedAt time.Time
	// Deleted: its author deleted it. Only Store.Post returns a deleted
	// post (emptied), so that its page can say so; lists leave it out.
	Deleted bool
	// Mentioned are the members the @names of Body name now (a former
	// name names who renamed), as the lists that show the post find them
	// (app); an @name not among them is plain text.
	Mentioned Mentions
}

// Mentions says which member each @name of a text names now. It is a
// value (comparable, immutable), so that a post carrying it can still be
// compared, and a rendered post kept by its data (web/fragments.go)
// changes when a name comes to name someone else.
type Mentions struct {
	list string // "key=id:Username;" per name; names hold no = : or ;
}

// MentionsOf returns the Mentions of the names of a text, from named
// (members keyed by Key(name)); names nobody has are left out.
func MentionsOf(names []string, named map[string]MemberRef) Mentions {
	var b strings.Builder
	for _, n := range names {
		k := Key(n)
		m, ok := named[k]
		if !ok || strings.Contains(b.String(), ";"+k+"=") || strings.HasPrefix(b.String(), k+"=") {
			continue
		}
		b.WriteString(k + "=" + strconv.FormatInt(m.ID, 10) + ":" + m.Username + ";")
	}
	return Mentions{b.String()}
}

// Lookup returns the member name (as written, in any case) names.
func (m Mentions) Lookup(name string) (MemberRef, bool) {
	k := Key(name) + "="
	rest := m.list
	for rest != "" {
		entry, after, _ := strings.Cut(rest, ";")
		rest = after
		v, ok := strings.CutPrefix(entry, k)
		if !ok {
			continue
		}
		id, username, _ := strings.Cut(v, ":")
		n, err := strconv.ParseInt(id, 10, 64)
		return MemberRef{ID: n, Username: username}, err == nil
	}
	return MemberRef{}, false
}

// PostVersion is an earlier text of an edited post, shown on its page.
type PostVersion struct {
	Body string
	// WrittenAt is when this text was posted or edited in.
	WrittenAt time.Time
	// Mentioned is as Post's: who the @names of Body name now.
	Mentioned Mentions
}

// EditWindow is how long after posting its author may edit a post: long
// enough to mend a typo noticed on the timeline, short enough that the
// replies and likes a post gathers answer the text everyone read
// (docs/architecture.md, "Editing a post").
const EditWindow = 15 * time.Minute

// Message is a private message.
type Message struct {
	ID        int64
	Sender    MemberRef
	Recipient MemberRef
	Body      string
	CreatedAt time.Time
	// Unread: the recipient has not yet seen it (on a page of /messages or
	// in the conversation).
	Unread bool
}

// Conversation is one row of a member's inbox: the exchange with one peer.
type Conversation struct {
	Peer   MemberRef
	Last   Message
	Unread int
}

// Kinds of Activity. Private messages are not among them: they have the
// Messages badge, and counting them in the centre too made the two badges
// disagree (docs/architecture.md).
const (
	ActivityMention = "mention"
	ActivityReply   = "reply" // someone replied to the member's post; PostID is the reply
	ActivityLike    = "like"  // someone liked the member's post; PostID is that post
)

// ActivityWindow is how long after its first entry a group of the
// notification centre takes in new entries of its kind about its thing
// (as Mastodon 4.3 groups within 12 hours); a later entry starts a group
// of its own.
const ActivityWindow = 12 * time.Hour

// Activity is an entry of a member's notification centre: someone mentioned
// them (later: replied to or liked their post).
type Activity struct {
	ID        int64
	GroupID   int64
	Kind      string // ActivityMention, ActivityReply, ActivityLike
	Actor     MemberRef
	PostID    int64  // the post it is about
	Body      string // that post's text
	CreatedAt time.Time
	Unread    bool
	// Mentioned is as Post's.
	Mentioned Mentions
}

// NewActivity is an entry to add to a member's notification centre.
type NewActivity struct {
	UserID int64
	Kind   string
	Actor  MemberRef
	PostID int64 // the post it is about, if any
	// Subject is the thing the entry's group is about besides its kind: a
	// post, for replies and likes ("bob and 4 others liked your post"); 0
	// for mentions, which are about the member ("alice and 2 others
	// mentioned you").
	Subject int64
	// Window: the entry joins the member's newest group of its Kind and
	// Subject if that group began less than Window before; otherwise it
	// starts a new one.
	Window time.Duration
}

// Withdrawn is what withdrawing a post's entries from the notification
// centres (the post deleted, a like taken back) took from one member.
type Withdrawn struct {
	UserID int64
	// Kinds are the kinds of the entries withdrawn.
	Kinds []string
	// Unread is how many of them were unread; Left the member's unread
	// count afterwards (set only when Unread > 0).
	Unread, Left int
}

// ActivityGroup is one row of the notification centre: entries of one kind
// about one thing, within ActivityWindow of the first.
type ActivityGroup struct {
	ID      int64
	Kind    string
	Subject int64
	// LastID is the group's newest entry: the centre is ordered, and paged,
	// by it.
	LastID int64
	// Entries and Actors count the group's entries and the members behind
	// them; Unread its entries still unread.
	Entries, Actors, Unread int
	// Recent are the group's newest entries, newest first.
	Recent []Activity
}

// Notification is the seed's idea of a notification: a named value per
// member ("unread_message_count" → 3) that each change replaces, stamped
// with the time of the change and with a per-member sequence number that
// only grows.
type Notification struct {
	UserID int64
	Seq    int64
	Name   string
	Data   json.RawMessage
	Time   time.Time
}

// Window asks for a page of a list kept newest first by id, by position:
// the Limit items just older than Before (0: the newest items), or, with
// After set, the Limit items just newer than After, still newest first.
// Either way the list's index is read from that position, so a page costs
// the same however deep it is. Skip, for the seed's ?page=N, skips that
// many items first; the application keeps it small.
type Window struct {
	Before, After int64
	Skip, Limit   int
}

// Pagination is a page request: Limit rows after skipping Offset.
type Pagination struct {
	Offset, Limit int
}

// PageFor converts a 1-based page number and a page size into a Pagination
// that asks for one extra row, so callers learn whether a next page exists.
func PageFor(page, perPage int) Pagination {
	if page < 1 {
		page = 1
	}
	return Pagination{Offset: (page - 1) * perPage, Limit: perPage + 1}
}
