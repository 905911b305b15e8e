package app

import (
	"context"
	"errors"
	"strings"

	"natter/internal/natter"
)

// What members do with posts (issue 15): reply, like, edit within
// natter.EditWindow, delete. Each is one transaction that also notifies
// (or stops notifying) whom it concerns.

// Reply publishes body by author as a reply to the post parent, and
// notifies parent's author (kind reply) unless it is their own post or
// they have blocked author, besides the members it mentions.
func (a *App) Reply(ctx context.Context, author natter.Account, parent int64, body string) (natter.Post, error) {
	if parent <= 0 {
		return natter.Post{}, notFound("There is no such post.")
	}
	p, err := a.publish(ctx, author, body, parent)
	if err != nil {
		return p, err
	}
	// Shown at once in place: its @names link as in every list.
	shown, err := a.withMentions(ctx, []natter.Post{p})
	return shown[0], err
}

// Like records that u likes the post id and returns its count of likes.
// Its author is told (kind like, one group per post) unless it is u's own
// post, u liked it already, or the author has blocked u.
func (a *App) Like(ctx context.Context, u natter.Account, id int64) (int, error) {
	var likes int
	var owed bool
	err := a.update(ctx, func(tx natter.Tx) error {
		owed = false
		p, err := livePost(ctx, tx, id)
		if err != nil {
			return err
		}
		added, n, err := tx.Like(ctx, u.ID, id)
		if err != nil {
			return err
		}
		likes = n
		if !added || p.Author.ID == u.ID {
			return nil
		}
		if ok, err := a.mayNotify(ctx, tx, p.Author.ID, u.ID); err != nil || !ok {
			return err
		}
		if err := addActivity(ctx, tx, natter.NewActivity{UserID: p.Author.ID, Kind: natter.ActivityLike,
			Actor: u.Ref(), PostID: id, Subject: id, Window: natter.ActivityWindow}); err != nil {
			return err
		}
		owed, err = a.owe(ctx, tx, natter.Item{UserID: p.Author.ID, Kind: natter.KindLike, ID: id}, natter.PostTag(id))
		return err
	})
	if err == nil && owed {
		a.wake()
	}
	return likes, err
}

// Unlike takes back u's like of the post id, and the entry it made in the
// author's centre, and returns the post's count of likes.
func (a *App) Unlike(ctx context.Context, u natter.Account, id int64) (int, error) {
	var likes int
	err := a.update(ctx, func(tx natter.Tx) error {
		if _, err := livePost(ctx, tx, id); err != nil {
			return err
		}
		removed, n, err := tx.Unlike(ctx, u.ID, id)
		if err != nil || !removed {
			likes = n
			return err
		}
		likes = n
		gone, err := tx.WithdrawActivity(ctx, id, natter.ActivityLike, u.ID)
		if err != nil {
			return err
		}
		// What is owed about the post's likes stays: at delivery, it is
		// sent only while a like of it is unread in the centre.
		return recount(ctx, tx, gone)
	})
	return likes, err
}

// recount writes the new unread counts of the members whose centres lost
// unread entries, so that every open page shows them at once.
func recount(ctx context.Context, tx natter.Tx, gone []natter.Withdrawn) error {
	for _, w := range gone {
		if w.Unread == 0 {
			continue
		}
		if _, err := tx.SetNotification(ctx, w.UserID, NotifyActivity, w.Left); err != nil {
			return err
		}
	}
	return nil
}

// OwnPost returns u's post id, for the pages that edit or delete it:
// NotFound if there is none, Gone if deleted, Forbidden if not u's.
func (a *App) OwnPost(ctx context.Context, u natter.Account, id int64) (natter.Post, error) {
	return own(u, "change")(alive(a.store.Post(ctx, id)))
}

// ownPost reads u's post id in tx, to edit or delete it (what): NotFound,
// Gone or Forbidden as OwnPost.
func ownPost(ctx context.Context, tx natter.Tx, u natter.Account, id int64, what string) (natter.Post, error) {
	return own(u, what)(livePost(ctx, tx, id))
}

// own checks that a post read is u's, whom alone it may do what to.
func own(u natter.Account, what string) func(natter.Post, error) (natter.Post, error) {
	return func(p natter.Post, err error) (natter.Post, error) {
		if err == nil && p.Author.ID != u.ID {
			err = forbidden("Only its author can %s a post.", what)
		}
		return p, err
	}
}

// Editable reports whether u may edit p now: their own post, not deleted,
// within natter.EditWindow of posting.
func (a *App) Editable(u natter.Account, p natter.Post) bool {
	return p.Author.ID == u.ID && !p.Deleted && a.store.Now().Before(p.CreatedAt.Add(natter.EditWindow))
}

// errEditClosed refuses an edit after the window.
var errEditClosed = forbidden("A post can be edited for %d minutes after it was posted; this one can no longer be. You can delete it.",
	int(natter.EditWindow.Minutes()))

// EditPost replaces the text of u's post id with body, within
// natter.EditWindow of posting. The text it replaces stays visible on the
// post's page. Members the new text mentions who no version mentioned
// before are told; the others are not told again. The same text again
// changes nothing.
func (a *App) EditPost(ctx context.Context, u natter.Account, id int64, body string) (natter.Post, error) {
	body, err := postBody(body)
	if err != nil {
		return natter.Post{}, err
	}
	var post natter.Post
	var owed bool
	err = a.update(ctx, func(tx natter.Tx) error {
		owed = false
		p, err := ownPost(ctx, tx, u, id, "edit")
		if err != nil {
			return err
		}
		if !tx.Now().Before(p.CreatedAt.Add(natter.EditWindow)) {
			return errEditClosed
		}
		post = p
		if p.Body == body {
			return nil
		}
		bodies, err := tx.PostBodies(ctx, id)
		if err != nil {
			return err
		}
		told := map[string]bool{}
		for _, b := range bodies {
			for _, n := range Mentions(b) {
				told[strings.ToLower(n)] = true
			}
		}
		if err := tx.EditPost(ctx, id, body); err != nil {
			return err
		}
		post.Body, post.EditedAt = body, tx.Now()
		owed, err = a.notifyPost(ctx, tx, u, post, body, told)
		return err
	})
	if err == nil && owed {
		a.wake()
	}
	return post, err
}

// DeletePost deletes u's post id. It leaves every list at once; its page
// says it was deleted, and replies to it stay. Its entries in every
// notification centre (the mentions it made, the reply it was, its likes)
// are withdrawn, the unread counts written anew for every open page, and
// what is still owed about it on any channel withdrawn, the devices told
// of it told to close it.
func (a *App) DeletePost(ctx context.Context, u natter.Account, id int64) error {
	var queued bool
	err := a.update(ctx, func(tx natter.Tx) error {
		queued = false
		if _, err := ownPost(ctx, tx, u, id, "delete"); err != nil {
			return err
		}
		if err := tx.DeletePost(ctx, id); err != nil {
			return err
		}
		gone, err := tx.WithdrawActivity(ctx, id, "", 0)
		if err != nil {
			return err
		}
		if err := recount(ctx, tx, gone); err != nil {
			return err
		}
		for _, w := range gone {
			for _, kind := range w.Kinds {
				if err := a.read(ctx, tx, w.UserID, kind, natter.PostTag(id), &queued); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err == nil && queued {
		a.wake()
	}
	if p, ok := a.pub.(PostPublisher); ok && err == nil {
		p.Unposted(id)
	}
	return err
}

// RepliesShown is how many replies a post's page shows at a time.
const RepliesShown = 50

// Thread is a post's page: the post (Deleted if its author deleted it),
// the post it answers, its replies in order, its earlier versions.
type Thread struct {
	Post natter.Post
	// Parent is the post Post answers; ParentGone says it was deleted or
	// went with its author's account.
	Parent     natter.Post
	ParentGone bool
	// Replies are the replies after After, oldest first; More is where
	// the next replies start (0: none).
	Replies     []natter.Post
	After, More int64
	Versions    []natter.PostVersion
}

// Thread returns the page of the post id for u, its replies from after
// on, having read u's notifications about it (ReadPost), and u's unread
// count of the centre once they are read.
func (a *App) Thread(ctx context.Context, u natter.Account, id, after int64) (Thread, int, error) {
	if after < 0 {
		return Thread{}, 0, errNotAPage
	}
	p, left, err := a.ReadPost(ctx, u, id)
	if err != nil {
		return Thread{}, 0, err
	}
	t := Thread{Post: p, After: after}
	if p.ReplyTo != 0 {
		t.Parent, err = a.store.Post(ctx, p.ReplyTo)
		switch {
		case errors.Is(err, natter.ErrNotFound):
			t.ParentGone = true
		case err != nil:
			return Thread{}, 0, err
		default:
			t.ParentGone = t.Parent.Deleted
		}
	}
	replies, err := a.store.Replies(ctx, id, after, RepliesShown+1)
	if err != nil {
		return Thread{}, 0, err
	}
	if len(replies) > RepliesShown {
		replies = replies[:RepliesShown]
		t.More = replies[RepliesShown-1].ID
	}
	// The parent and the replies link their @names as every list does.
	shown, err := a.withMentions(ctx, append([]natter.Post{t.Parent}, replies...))
	if err != nil {
		return Thread{}, 0, err
	}
	t.Parent, t.Replies = shown[0], shown[1:]
	if !p.Deleted && !p.EditedAt.IsZero() {
		if t.Versions, err = a.store.PostVersions(ctx, id); err != nil {
			return Thread{}, 0, err
		}
		// Earlier texts link their @names as the post does.
		bodies := make([]string, len(t.Versions))
		for i, v := range t.Versions {
			bodies[i] = v.Body
		}
		mentioned, err := a.mentionsOf(ctx, bodies)
		if err != nil {
			return Thread{}, 0, err
		}
		for i := range mentioned {
			t.Versions[i].Mentioned = mentioned[i]
		}
	}
	return t, left, nil
}

// Liked returns which of posts u likes, for their buttons. It asks the
// store only about posts that somebody likes: a post nobody likes, as its
// count of likes read with it says, is not u's either, and a page of such
// posts costs no read at all.
func (a *App) Liked(ctx context.Context, u natter.Account, posts []natter.Post) (map[int64]bool, error) {
	var ids []int64
	for _, p := range posts {
		if p.Likes > 0 {
			ids = append(ids, p.ID)
		}
	}
	return a.store.Liked(ctx, u.ID, ids)
}
