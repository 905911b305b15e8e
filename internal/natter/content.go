package natter

import (
	"encoding/json"
	"time"
)

// Post is a short note on the timeline.
type Post struct {
	ID        int64
	Author    MemberRef
	Body      string
	CreatedAt time.Time
}

// Message is a private message.
type Message struct {
	ID        int64
	Sender    MemberRef
	Recipient MemberRef
	Body      string
	CreatedAt time.Time
}

// Conversation is one row of a member's inbox: the exchange with one peer.
type Conversation struct {
	Peer   MemberRef
	Last   Message
	Unread int
}

// Kinds of Activity.
const (
	ActivityMention = "mention"
	ActivityMessage = "message"
)

// Activity is an entry of a member's notification centre: someone mentioned
// them or sent them a message.
type Activity struct {
	ID        int64
	Kind      string // ActivityMention or ActivityMessage
	Actor     MemberRef
	PostID    int64 // for a mention
	MessageID int64 // for a message
	Body      string
	CreatedAt time.Time
	Unread    bool
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
