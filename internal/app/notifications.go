package app

import (
	"context"
	"slices"
	"time"

	"natter/internal/natter"
)

// NotificationsSince returns u's notifications changed after since, oldest
// first (the seed's polling endpoint).
func (a *App) NotificationsSince(ctx context.Context, u natter.Account, since time.Time) ([]natter.Notification, error) {
	return a.store.NotificationsSince(ctx, u.ID, since)
}

// NotificationsAfter returns u's notifications with sequence numbers above
// seq (an event stream resuming).
func (a *App) NotificationsAfter(ctx context.Context, userID, seq int64) ([]natter.Notification, error) {
	return a.store.NotificationsAfter(ctx, userID, seq)
}

// centreKinds are the kinds of delivery items the centre's entries are.
var centreKinds = []string{natter.KindMention, natter.KindReply, natter.KindLike}

// GroupShown is how many of a group's newest entries the centre shows.
const GroupShown = 3

// Centre is a page of a member's notification centre.
type Centre struct {
	// Groups are newest first.
	Groups []natter.ActivityGroup
	// Newest is the newest entry the page shows: "mark all read" marks read
	// up to it, so that an entry arriving meanwhile stays unread.
	Newest int64
	// Before is the key this page was asked for (0: the first page), and
	// Older the key of the next, 0 if there is none.
	Before, Older int64
}

// Activity returns the page of u's notification centre with the groups
// whose newest entry is below before (0: the first page), newest first.
func (a *App) Activity(ctx context.Context, u natter.Account, before int64) (Centre, error) {
	if before < 0 {
		return Centre{}, natter.Errorf(natter.Malformed, "before must be an entry number.")
	}
	n := a.cfg.PostsPerPage
	groups, err := a.store.ActivityGroups(ctx, u.ID, before, n+1, GroupShown)
	if err != nil {
		return Centre{}, err
	}
	c := Centre{Groups: groups, Before: before}
	if len(groups) > n {
		c.Groups = groups[:n]
		c.Older = c.Groups[n-1].LastID
	}
	for _, g := range c.Groups {
		c.Newest = max(c.Newest, g.LastID)
	}
	var bodies []string
	for _, g := range c.Groups {
		for _, e := range g.Recent {
			bodies = append(bodies, e.Body)
		}
	}
	mentioned, err := a.mentionsOf(ctx, bodies)
	if err != nil || mentioned == nil {
		return c, err
	}
	c.Groups = slices.Clone(c.Groups)
	for i := range c.Groups {
		recent := slices.Clone(c.Groups[i].Recent)
		for j := range recent {
			recent[j].Mentioned, mentioned = mentioned[0], mentioned[1:]
		}
		c.Groups[i].Recent = recent
	}
	return c, nil
}

// MarkActivityRead marks read u's notification-centre entries up to id
// newest, the newest the member was shown.
func (a *App) MarkActivityRead(ctx context.Context, u natter.Account, newest int64) error {
	if newest <= 0 {
		return natter.Errorf(natter.Malformed, "newest must be the newest entry shown.")
	}
	var queued bool
	err := a.update(ctx, func(tx natter.Tx) error {
		left, changed, err := tx.MarkActivityRead(ctx, u.ID, newest)
		if err != nil || !changed {
			return err
		}
		if _, err = tx.SetNotification(ctx, u.ID, NotifyActivity, left); err != nil {
			return err
		}
		for _, kind := range centreKinds {
			if err := a.read(ctx, tx, u.ID, kind, "", &queued); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && queued {
		a.wake()
	}
	return err
}

// ActivityUnread reports whether the entry of a notification centre is
// still unread, as MessageUnread does for a message.
func (a *App) ActivityUnread(ctx context.Context, id int64) (bool, error) {
	return a.store.ActivityUnread(ctx, id)
}
