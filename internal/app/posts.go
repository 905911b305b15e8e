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
	body = normalizeText(body)
	fe := fieldErrors{}
	checkText(fe, "body", body, 1, MaxBodyLen, "Write something first.")
	if err := fe.err(); err != nil {
		return natter.Post{}, err
	}
	if ok, wait := a.postByMember.allow(memberKey(author.ID), a.store.Now()); !ok {
		return natter.Post{}, rateLimited("posts", wait)
	}
	var post natter.Post
	var owed bool
	err := a.update(ctx, func(tx natter.Tx) error {
		var err error
		post, err = tx.CreatePost(ctx, author.Ref(), body)
		if err != nil {
			return err
		}
		byName, err := tx.MembersByName(ctx, Mentions(body))
		if err != nil {
			return err
		}
		// In id order: two posts mentioning the same members lock their
		// rows in the same order, and cannot deadlock on PostgreSQL.
		mentioned := slices.SortedFunc(maps.Values(byName), func(a, b natter.Member) int { return cmp.Compare(a.ID, b.ID) })
		for _, u := range mentioned {
			if u.ID == author.ID {
				continue
			}
			blocked, err := tx.Blocks(ctx, u.ID, author.ID)
			if err != nil {
				return err
			}
			if blocked {
				continue
			}
			// Mentions are about the member, not the post: the member's
			// mentions within the window are one group.
			if err := addActivity(ctx, tx, natter.NewActivity{UserID: u.ID, Kind: natter.ActivityMention,
				Actor: author.Ref(), PostID: post.ID, Window: natter.ActivityWindow}); err != nil {
				return err
			}
			if err := a.owe(ctx, tx, natter.Item{UserID: u.ID, Kind: natter.KindMention, ID: post.ID}, natter.PostTag(post.ID)); err != nil {
				return err
			}
			owed = true
		}
		return nil
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
// (live.Hub: "N new posts"). It is asked for rather than required, so that
// a Publisher for tests need not care.
type PostPublisher interface {
	Posted(ids ...int64)
}

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
		return a.read(ctx, tx, u.ID, natter.KindMention, natter.PostTag(id), &queued)
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
