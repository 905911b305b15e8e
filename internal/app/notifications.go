package app

import (
	"context"
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

// Activity returns a page of u's notification centre, newest first.
func (a *App) Activity(ctx context.Context, u natter.Account, page int) (Page[natter.Activity], error) {
	if err := checkPage(page); err != nil {
		return Page[natter.Activity]{}, err
	}
	list, err := a.store.Activity(ctx, u.ID, a.pagination(page))
	if err != nil {
		return Page[natter.Activity]{}, err
	}
	return newPage(list, page, a.cfg.PostsPerPage), nil
}

// MarkActivityRead marks u's whole notification centre read.
func (a *App) MarkActivityRead(ctx context.Context, u natter.Account) error {
	var queued bool
	err := a.update(ctx, func(tx natter.Tx) error {
		changed, err := tx.MarkActivityRead(ctx, u.ID)
		if err != nil || !changed {
			return err
		}
		if _, err = tx.SetNotification(ctx, u.ID, NotifyActivity, 0); err != nil {
			return err
		}
		return a.read(ctx, tx, u.ID, natter.KindMention, "", &queued)
	})
	if err == nil && queued {
		a.wake()
	}
	return err
}
