package natter

import (
	"context"
	"time"
)

// Store is what the application needs from storage: reads, and Update for
// every change. internal/store implements it for SQLite and PostgreSQL.
//
// Reads of a member that does not exist return ErrNotFound; so does
// Credentials for an unknown username.
type Store interface {
	// Now is storage's clock; every transaction stamps its rows with one
	// reading of it.
	Now() time.Time

	// Account is the member's own view of themselves, for the signed-in
	// member of a request (it is read on every request, and may come
	// from memory).
	Account(ctx context.Context, id int64) (Account, error)
	// MemberByName finds a member by username in any case.
	MemberByName(ctx context.Context, username string) (Member, error)
	// Credentials is what a login is checked against. Only authentication
	// calls it, and nothing keeps what it returns.
	Credentials(ctx context.Context, username string) (Credentials, error)

	// Timeline and PostsByUser return a window of posts, newest first. The
	// slices may be shared: callers must not change them.
	Timeline(ctx context.Context, w Window) ([]Post, error)
	PostsByUser(ctx context.Context, userID int64, w Window) ([]Post, error)

	// MessagesReceived returns a page of the messages sent to userID,
	// newest first.
	MessagesReceived(ctx context.Context, userID int64, p Pagination) ([]Message, error)
	// ConversationMessages returns up to limit messages between userID and
	// peerID with ids below before (0: the newest), newest first.
	ConversationMessages(ctx context.Context, userID, peerID, before int64, limit int) ([]Message, error)
	// Conversations returns a window of userID's inbox, the most recent
	// exchange first, by the id of each conversation's last message.
	Conversations(ctx context.Context, userID int64, w Window) ([]Conversation, error)
	// Blocks reports whether blocker has blocked blocked.
	Blocks(ctx context.Context, blocker, blocked int64) (bool, error)

	// Post returns the post with the given id.
	Post(ctx context.Context, id int64) (Post, error)

	// ActivityGroups returns up to limit groups of userID's notification
	// centre whose newest entry is below before (0: the newest groups),
	// newest first, each with up to recent of its newest entries.
	ActivityGroups(ctx context.Context, userID, before int64, limit, recent int) ([]ActivityGroup, error)
	// MessageUnread and ActivityUnread report whether a message or an entry
	// of the notification centre is still unread (ErrNotFound if there is
	// none), for what notifies a member later: what has been read need not
	// be told.
	MessageUnread(ctx context.Context, id int64) (bool, error)
	ActivityUnread(ctx context.Context, id int64) (bool, error)
	// NotificationsAfter returns userID's notifications with a sequence
	// number above seq, in sequence order.
	NotificationsAfter(ctx context.Context, userID, seq int64) ([]Notification, error)
	// NotificationsSince returns userID's notifications changed after
	// since, oldest first.
	NotificationsSince(ctx context.Context, userID int64, since time.Time) ([]Notification, error)
	// AnnounceEndStreams tells every instance to end userID's event
	// streams.
	AnnounceEndStreams(ctx context.Context, userID int64) error

	// Update runs fn in one transaction and commits it if fn returns nil;
	// an error or a panic rolls it back. fn may run more than once (a
	// retried serialization failure), so it must have no effects outside
	// tx. Update returns the notifications the committed transaction
	// wrote, for the caller to publish.
	Update(ctx context.Context, fn func(Tx) error) ([]Notification, error)
}

// Tx is one write transaction: the only way to change data.
type Tx interface {
	// Now is the transaction's single clock reading.
	Now() time.Time

	Account(ctx context.Context, id int64) (Account, error)
	MemberByName(ctx context.Context, username string) (Member, error)
	// MembersByName returns the members among names that exist, keyed by
	// Key(name).
	MembersByName(ctx context.Context, names []string) (map[string]Member, error)
	// CreateUser adds a member; a taken username or email is
	// ErrUsernameTaken or ErrEmailTaken.
	CreateUser(ctx context.Context, username, email, passwordHash string) (Account, error)
	// UpdateProfile renames a member and sets their about-me text; a taken
	// username is ErrUsernameTaken.
	UpdateProfile(ctx context.Context, id int64, username, aboutMe string) error
	// TouchLastSeen records the member as seen now, unless that was
	// recorded less than interval ago.
	TouchLastSeen(ctx context.Context, id int64, interval time.Duration) error

	CreatePost(ctx context.Context, author MemberRef, body string) (Post, error)

	// CreateMessage stores a message and counts it unread for the
	// recipient; it returns the recipient's new unread count.
	CreateMessage(ctx context.Context, sender, recipient MemberRef, body string) (Message, int, error)
	// MarkMessagesRead marks read those of the given messages that were
	// sent to userID (others' are left alone), and MarkConversationRead
	// every message from peerID to userID. Both return the member's
	// remaining unread count and true when something was unread, 0 and
	// false otherwise.
	MarkMessagesRead(ctx context.Context, userID int64, ids []int64) (int, bool, error)
	MarkConversationRead(ctx context.Context, userID, peerID int64) (int, bool, error)
	Block(ctx context.Context, blocker, blocked int64) error
	Unblock(ctx context.Context, blocker, blocked int64) error
	Blocks(ctx context.Context, blocker, blocked int64) (bool, error)

	// AddActivity adds an entry to a member's notification centre, in the
	// group it belongs to, and returns it with the member's new unread
	// count.
	AddActivity(ctx context.Context, a NewActivity) (Activity, int, error)
	// MarkActivityRead marks read userID's entries up to id upTo (those
	// after it arrived after the member looked), and MarkPostActivityRead
	// their entries about one post. Both return the member's remaining
	// unread count and true when something was unread, 0 and false
	// otherwise.
	MarkActivityRead(ctx context.Context, userID, upTo int64) (int, bool, error)
	MarkPostActivityRead(ctx context.Context, userID, postID int64) (int, bool, error)
	// SetNotification replaces userID's notification called name with
	// data, under their next sequence number.
	SetNotification(ctx context.Context, userID int64, name string, data any) (Notification, error)
}
