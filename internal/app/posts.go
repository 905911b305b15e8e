package app

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"natter/internal/natter"
)

// NotifyActivity is the notification that counts unread entries of the
// notification centre; NotifyMessages counts unread private messages.
const (
	NotifyMessages = "unread_message_count"
	NotifyActivity = "unread_activity_count"
)

// CreatePost publishes a post by author and notifies the members it
// mentions, except those who have blocked the author.
func (a *App) CreatePost(ctx context.Context, author natter.Account, body string) (natter.Post, error) {
	return a.publish(ctx, author, body, 0)
}

// publish checks and stores a post by author, a reply to the post parent
// if parent is not 0, and notifies whom it concerns (notifyPost).
func (a *App) publish(ctx context.Context, author natter.Account, body string, parent int64) (natter.Post, error) {
	body, err := postBody(body)
	if err != nil {
		return natter.Post{}, err
	}
	if ok, wait := a.postByMember.allow(memberKey(author.ID), a.store.Now()); !ok {
		return natter.Post{}, rateLimited("posts", wait)
	}
	var post natter.Post
	var owed bool
	err = a.update(ctx, func(tx natter.Tx) error {
		owed = false
		var answered natter.Post
		if parent != 0 {
			var err error
			if answered, err = livePost(ctx, tx, parent); err != nil {
				return err
			}
		}
		var err error
		post, err = tx.CreatePost(ctx, author.Ref(), body)
		if err != nil {
			return err
		}
		if parent != 0 {
			if err := tx.AttachReply(ctx, post.ID, parent); err != nil {
				return err
			}
			post.ReplyTo, post.ReplyToAuthor = parent, answered.Author
		}
		owed, err = a.notifyPost(ctx, tx, author, post, body, nil)
		return err
	})
	if err == nil && owed {
		a.wake()
	}
	if p, ok := a.pub.(PostPublisher); ok && err == nil {
		p.Posted(post.ID)
	}
	return post, err
}

// PostPublisher is a Publisher that also tells open timelines of new posts
// (live.Hub: "N new posts"), and of deleted ones, which stop counting as
// new. It is asked for rather than required, so that a Publisher for tests
// need not care.
type PostPublisher interface {
	Posted(ids ...int64)
	Unposted(ids ...int64)
}

// notifyPost notifies whom post concerns: the author of the post it
// answers (kind reply), and the members body mentions (kind mention)
// other than those in already, who were told by an earlier version. Nobody
// is told of their own post, or by a member they have blocked, or twice:
// the author replied to is not told of being mentioned in the reply too.
// It reports whether anything was owed to the delivery channels (owe:
// only on those the member wants it on).
func (a *App) notifyPost(ctx context.Context, tx natter.Tx, author natter.Account, post natter.Post, body string, already map[string]bool) (bool, error) {
	owed := false
	replied := post.ReplyToAuthor.ID
	if post.ReplyTo != 0 && already == nil && replied != 0 && replied != author.ID {
		ok, err := a.mayNotify(ctx, tx, replied, author.ID)
		if err != nil {
			return false, err
		}
		if ok {
			// One group per post replied to, read by opening that post.
			if err := addActivity(ctx, tx, natter.NewActivity{UserID: replied, Kind: natter.ActivityReply,
				Actor: author.Ref(), PostID: post.ID, Subject: post.ReplyTo, Window: natter.ActivityWindow}); err != nil {
				return false, err
			}
			o, err := a.owe(ctx, tx, natter.Item{UserID: replied, Kind: natter.KindReply, ID: post.ID}, natter.PostTag(post.ID))
			if err != nil {
				return false, err
			}
			owed = owed || o
		}
	}
	var names []string
	for _, n := range Mentions(body) {
		if !already[strings.ToLower(n)] {
			names = append(names, n)
		}
	}
	// Whom the names name, as refs: all that notifying a member needs.
	byName, err := tx.MembersNamed(ctx, names)
	if err != nil {
		return false, err
	}
	// In id order: two posts mentioning the same members lock their rows
	// in the same order, and cannot deadlock on PostgreSQL.
	mentioned := slices.SortedFunc(maps.Values(byName), func(a, b natter.MemberRef) int { return cmp.Compare(a.ID, b.ID) })
	for _, u := range mentioned {
		if u.ID == author.ID || (post.ReplyTo != 0 && u.ID == replied) {
			continue
		}
		ok, err := a.mayNotify(ctx, tx, u.ID, author.ID)
		if err != nil {
			return false, err
		}
		if !ok {
			continue
		}
		// Mentions are about the member, not the post: the member's
		// mentions within the window are one group.
		if err := addActivity(ctx, tx, natter.NewActivity{UserID: u.ID, Kind: natter.ActivityMention,
			Actor: author.Ref(), PostID: post.ID, Window: natter.ActivityWindow}); err != nil {
			return false, err
		}
		o, err := a.owe(ctx, tx, natter.Item{UserID: u.ID, Kind: natter.KindMention, ID: post.ID}, natter.PostTag(post.ID))
		if err != nil {
			return false, err
		}
		owed = owed || o
	}
	return owed, nil
}

// mayNotify reports whether actor's doings may notify member: not if the
// member has blocked them.
func (a *App) mayNotify(ctx context.Context, tx natter.Tx, member, actor int64) (bool, error) {
	blocked, err := tx.Blocks(ctx, member, actor)
	return !blocked, err
}

// postBody normalises and checks the text of a post: 1 to MaxBodyLen
// characters.
func postBody(body string) (string, error) {
	body = normalizeText(body)
	fe := fieldErrors{}
	checkText(fe, "body", body, 1, MaxBodyLen, "Write something first.")
	return body, fe.err()
}

// livePost reads the post id in tx: NotFound if there is none, Gone if it
// was deleted.
func livePost(ctx context.Context, tx natter.Tx, id int64) (natter.Post, error) {
	return alive(tx.Post(ctx, id))
}

// alive turns what reading post id returned into the post, NotFound if
// there is none, or Gone if it was deleted.
func alive(p natter.Post, err error) (natter.Post, error) {
	if errors.Is(err, natter.ErrNotFound) {
		return natter.Post{}, notFound("There is no such post.")
	}
	if err != nil {
		return natter.Post{}, err
	}
	if p.Deleted {
		return natter.Post{}, errPostGone
	}
	return p, nil
}

// errPostGone answers what is asked of a deleted post.
var errPostGone = natter.Errorf(natter.Gone, "This post was deleted by its author.")

func addActivity(ctx context.Context, tx natter.Tx, na natter.NewActivity) error {
	_, n, err := tx.AddActivity(ctx, na)
	if err != nil {
		return err
	}
	_, err = tx.SetNotification(ctx, na.UserID, NotifyActivity, n)
	return err
}

// ReadPost returns the post with the given id, for its own page, and marks
// read u's notification-centre entries about it (opening a mention's post
// reads the mention). It also returns u's unread count of the centre once
// they are read.
func (a *App) ReadPost(ctx context.Context, u natter.Account, id int64) (natter.Post, int, error) {
	p, err := a.store.Post(ctx, id)
	if errors.Is(err, natter.ErrNotFound) {
		return natter.Post{}, 0, notFound("There is no post %d.", id)
	}
	if err != nil {
		return natter.Post{}, 0, err
	}
	shown, err := a.withMentions(ctx, []natter.Post{p})
	if err != nil {
		return natter.Post{}, 0, err
	}
	p = shown[0]
	left := u.UnreadActivity
	// Read at the start of the request: with nothing unread then, opening
	// the post costs no write.
	if left == 0 {
		return p, 0, nil
	}
	var queued bool
	err = a.update(ctx, func(tx natter.Tx) error {
		queued = false
		// The replies about to be read: what devices were told of them
		// is closed too (a reply's tag is its own).
		replies, err := tx.UnreadReplies(ctx, u.ID, id)
		if err != nil {
			return err
		}
		n, changed, err := tx.MarkPostActivityRead(ctx, u.ID, id)
		if err != nil || !changed {
			return err
		}
		left = n
		if _, err = tx.SetNotification(ctx, u.ID, NotifyActivity, n); err != nil {
			return err
		}
		// What is still owed about the post is withdrawn, and the devices
		// pushed about it told to close it.
		for _, kind := range centreKinds {
			if err := a.read(ctx, tx, u.ID, kind, natter.PostTag(id), &queued); err != nil {
				return err
			}
		}
		for _, r := range replies {
			if err := a.read(ctx, tx, u.ID, natter.KindReply, natter.PostTag(r), &queued); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return natter.Post{}, 0, err
	}
	if queued {
		a.wake()
	}
	return p, left, nil
}

// memberKey keys a member's own rate limits (posting, sending) by id rather
// than by name, so that renaming oneself does not start a fresh allowance.
func memberKey(id int64) string { return strconv.FormatInt(id, 10) }

// Timeline returns the page of every member's posts at pos, newest first.
func (a *App) Timeline(ctx context.Context, pos Position) (Page[natter.Post], error) {
	p, err := pageAt(pos, a.cfg.PostsPerPage, func(w natter.Window) ([]natter.Post, error) {
		return a.store.Timeline(ctx, w)
	}, postID)
	if err != nil {
		return p, err
	}
	p.Items, err = a.withMentions(ctx, p.Items)
	return p, err
}

func postID(p natter.Post) int64 { return p.ID }

// mentionRE finds @username: the @ must not follow a letter, digit or
// underscore (so an email address is not a mention), and the name must be a
// whole valid username.
var mentionRE = regexp.MustCompile(`(?:^|[^A-Za-z0-9_@])@([A-Za-z0-9_]{3,32})\b`)

// Segment is a run of text: plain (Text alone), a mention (Mention set to
// the name, Text "@name"), or a web address (URL set to the address to
// link, Text as written).
type Segment struct {
	Text    string
	Mention string
	URL     string
}

// Segments splits body into plain text, web addresses and mentions, for
// rendering links and for telling the members mentioned. An @name inside
// an address (https://example.social/@bob) is part of the address, not a
// mention.
func Segments(body string) []Segment {
	var segs []Segment
	pos := 0
	for pos < len(body) {
		start, end, link := findURL(body, pos)
		if start < 0 {
			start, end = len(body), len(body)
		}
		segs = appendMentions(segs, body[pos:start])
		if end > start {
			segs = append(segs, Segment{Text: body[start:end], URL: link})
		}
		pos = end
	}
	return segs
}

// appendMentions splits text into plain runs and mentions.
func appendMentions(segs []Segment, text string) []Segment {
	last := 0
	for _, m := range mentionRE.FindAllStringSubmatchIndex(text, -1) {
		at := m[2] - 1 // the @ just before the captured name
		if at > last {
			segs = append(segs, Segment{Text: text[last:at]})
		}
		segs = append(segs, Segment{Text: text[at:m[3]], Mention: text[m[2]:m[3]]})
		last = m[3]
	}
	if last < len(text) {
		segs = append(segs, Segment{Text: text[last:]})
	}
	return segs
}

// Mentions returns the distinct usernames body mentions.
func Mentions(body string) []string {
	if !strings.Contains(body, "@") {
		return nil
	}
	var names []string
	seen := map[string]bool{}
	for _, s := range Segments(body) {
		if k := strings.ToLower(s.Mention); k != "" && !seen[k] {
			seen[k] = true
			names = append(names, s.Mention)
		}
	}
	return names
}
