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
	// MembersByPrefix returns up to limit members whose username begins
	// with prefix, in any case, by name.
	MembersByPrefix(ctx context.Context, prefix string, limit int) ([]MemberRef, error)
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
	// LastSent returns, of userID's newest limit conversations whose last
	// message's id is above above, those whose last message userID sent,
	// newest first.
	LastSent(ctx context.Context, userID, above int64, limit int) ([]Conversation, error)
	// Blocks reports whether blocker has blocked blocked.
	Blocks(ctx context.Context, blocker, blocked int64) (bool, error)

	// Post returns the post with the given id, deleted (and emptied) ones
	// included.
	Post(ctx context.Context, id int64) (Post, error)
	// Replies returns up to limit replies to postID with ids above after,
	// oldest first; deleted ones are left out.
	Replies(ctx context.Context, postID, after int64, limit int) ([]Post, error)
	// PostVersions returns the earlier texts of an edited post, newest
	// first.
	PostVersions(ctx context.Context, postID int64) ([]PostVersion, error)
	// Liked returns which of the posts ids userID likes.
	Liked(ctx context.Context, userID int64, ids []int64) (map[int64]bool, error)

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
	DeliveryStore
	EmailStore
	// Secret returns the site's secret called name, made of size random
	// bytes the first time any instance asks for it.
	Secret(ctx context.Context, name string, size int) ([]byte, error)
	// StartLogin records who logged in under the session token, from
	// where, and until when it lasts unused (l.ID is ignored).
	StartLogin(ctx context.Context, token string, l Login) error
	// Login returns the live login session with that token, or
	// ErrNotFound (none, expired, or idle past its IdleUntil).
	Login(ctx context.Context, token string) (Login, error)
	// Logins returns the member's live login sessions, the most recently
	// active first.
	Logins(ctx context.Context, userID int64) ([]Login, error)
	// TouchLogin records the session as active at now, lasting unused
	// until idleUntil.
	TouchLogin(ctx context.Context, token string, now, idleUntil time.Time) error
	// EndLogins deletes the member's login sessions with the given IDs,
	// or all of them when none are given, and returns how many it ended.
	// Their cookies are worthless afterwards.
	EndLogins(ctx context.Context, userID int64, ids ...string) (int, error)
	// MembersNamed returns the members among names (current or former
	// usernames, in any case: a rename keeps the old name for its
	// member) as they are called now, keyed by Key(name). It may answer
	// from memory.
	MembersNamed(ctx context.Context, names []string) (map[string]MemberRef, error)
	// Writings returns the member's posts and every message they sent or
	// received, oldest first.
	Writings(ctx context.Context, userID int64) ([]Post, []Message, error)
	// Members returns every member, in the order they registered.
	Members(ctx context.Context) ([]Account, error)
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
	DeliveryTx
	EmailTx
	// Now is the transaction's single clock reading.
	Now() time.Time

	Account(ctx context.Context, id int64) (Account, error)
	MemberByName(ctx context.Context, username string) (Member, error)
	// MembersNamed is Store.MembersNamed as the transaction sees it:
	// never from memory.
	MembersNamed(ctx context.Context, names []string) (map[string]MemberRef, error)
	// CreateUser adds a member; a taken username or email is
	// ErrUsernameTaken or ErrEmailTaken.
	CreateUser(ctx context.Context, username, email, passwordHash string) (Account, error)
	// UpdateProfile renames a member and sets their about-me text; a taken
	// username is ErrUsernameTaken.
	UpdateProfile(ctx context.Context, id int64, username, aboutMe string) error
	// SetHideLastSeen records whether the member hides their last seen
	// time from others.
	SetHideLastSeen(ctx context.Context, id int64, hide bool) error
	// SetPassword replaces the member's password hash.
	SetPassword(ctx context.Context, id int64, passwordHash string) error
	// SetEmail changes the member's email address; a taken one is
	// ErrEmailTaken.
	SetEmail(ctx context.Context, id int64, email string) error
	// DeleteAccount removes the member's posts, inbox, notification centre
	// and blocks, and empties their row, which keeps their name taken; the
	// messages they exchanged stay with the other members. It returns the
	// new unread notification-centre counts of the members whose centres
	// lost entries.
	DeleteAccount(ctx context.Context, id int64) (map[int64]int, error)
	// TouchLastSeen records the member as seen now, unless that was
	// recorded less than interval ago.
	TouchLastSeen(ctx context.Context, id int64, interval time.Duration) error

	CreatePost(ctx context.Context, author MemberRef, body string) (Post, error)
	// Post returns the post with the given id, deleted ones included.
	Post(ctx context.Context, id int64) (Post, error)
	// AttachReply makes post reply answer post parent and counts it
	// among parent's replies.
	AttachReply(ctx context.Context, reply, parent int64) error
	// EditPost replaces a post's text, keeping the one it replaces among
	// its versions, and marks it edited.
	EditPost(ctx context.Context, id int64, body string) error
	// PostBodies returns every text the post has had, the current first
	// (the others in no particular order).
	PostBodies(ctx context.Context, id int64) ([]string, error)
	// DeletePost empties a post and marks it deleted; its versions and
	// likes go, and the post it answers counts a reply fewer.
	DeletePost(ctx context.Context, id int64) error
	// Like and Unlike add or take back userID's like of postID. Each
	// reports whether it changed anything, and the post's count of likes.
	Like(ctx context.Context, userID, postID int64) (bool, int, error)
	Unlike(ctx context.Context, userID, postID int64) (bool, int, error)
	// UnreadReplies returns the replies to postID that userID has unread
	// notification-centre entries about.
	UnreadReplies(ctx context.Context, userID, postID int64) ([]int64, error)
	// WithdrawActivity removes the notification-centre entries about
	// postID (of kind by actor only, if kind is given) with their counts,
	// and returns what each member lost, in member id order.
	WithdrawActivity(ctx context.Context, postID int64, kind string, actor int64) ([]Withdrawn, error)

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
	// their entries about one post (and their replies to it). Both return the member's remaining
	// unread count and true when something was unread, 0 and false
	// otherwise.
	MarkActivityRead(ctx context.Context, userID, upTo int64) (int, bool, error)
	MarkPostActivityRead(ctx context.Context, userID, postID int64) (int, bool, error)
	// SetNotification replaces userID's notification called name with
	// data, under their next sequence number.
	SetNotification(ctx context.Context, userID int64, name string, data any) (Notification, error)
}

// DeliveryTx is what the application needs from a transaction for the
// delivery engine (DESIGN.md §8): owing notifications, withdrawing them
// when read, push subscriptions and preferences.
type DeliveryTx interface {
	// Owe records that item is owed to its member on channel from due on.
	Owe(ctx context.Context, channel string, item Item, tag string, due time.Time) error
	// Withdraw drops what is owed for the member's items of kind with tag
	// (every tag of the kind if empty), which they have just read, and
	// queues read pushes to the devices told of them. It reports whether
	// it queued any.
	Withdraw(ctx context.Context, userID int64, kind, tag string) (bool, error)
	// OweTest queues a test push to each of the member's devices and
	// reports how many there are.
	OweTest(ctx context.Context, userID int64) (int, error)
	// SavePushSubscription adds or (same endpoint) updates a subscription.
	SavePushSubscription(ctx context.Context, sub PushSubscription) (PushSubscription, error)
	// DeletePushSubscription removes the member's subscription with
	// endpoint, or with id when endpoint is empty; false if none.
	DeletePushSubscription(ctx context.Context, userID, id int64, endpoint string) (bool, error)
	// SetPrefs replaces the member's notification preferences.
	SetPrefs(ctx context.Context, userID int64, p Prefs) error
	// Prefs are the member's notification preferences, read in the
	// transaction: whether to owe them an item at all.
	Prefs(ctx context.Context, userID int64) (Prefs, error)
}

// DeliveryStore is what the application reads for the delivery engine.
type DeliveryStore interface {
	// PushSubscriptions lists the member's devices, oldest first.
	PushSubscriptions(ctx context.Context, userID int64) ([]PushSubscription, error)
	// Prefs are the member's notification preferences.
	Prefs(ctx context.Context, userID int64) (Prefs, error)
}
