package deliver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"natter/internal/natter"
	"natter/internal/webpush"
)

// PushStore is what the push channel needs of storage (*store.Store).
type PushStore interface {
	Now() time.Time
	PushSubscription(ctx context.Context, id int64) (natter.PushSubscription, error)
	// StartPush checks, under the member's lock, that the item is unread
	// and records that the subscription is being told of its tag.
	StartPush(ctx context.Context, job natter.Job) (bool, error)
	PushSucceeded(ctx context.Context, id int64) error
	PushFailed(ctx context.Context, id int64) (time.Time, error)
	DropPushSubscription(ctx context.Context, id int64) error
}

// Sender posts push messages (webpush.Sender).
type Sender interface {
	Send(ctx context.Context, sub webpush.Subscription, msg webpush.Message) (webpush.Result, error)
}

// Push is the Web Push channel: one job is one push to one subscription.
type Push struct {
	Store  PushStore
	Sender Sender
	// DropAfter is how long a subscription may keep failing before it is
	// dropped (Discourse's rule). Default a day.
	DropAfter time.Duration
}

// Name implements Channel.
func (p *Push) Name() string { return natter.ChannelPush }

// PushPayload is the JSON a push carries, which the service worker
// (/sw.js) reads: a notification to show (message, mention, test), or
// notifications to close (read: Tags).
type PushPayload struct {
	Type  string   `json:"type"`
	Title string   `json:"title,omitempty"`
	Body  string   `json:"body,omitempty"`
	URL   string   `json:"url,omitempty"`
	Tag   string   `json:"tag,omitempty"`
	Tags  []string `json:"tags,omitempty"`
}

// How long a push service keeps a push for a device that is off: a
// message is worth seeing days later, a mention less; a read push must
// outlive the notifications it closes.
var pushTTL = map[string]time.Duration{
	natter.KindMessage: 4 * 24 * time.Hour,
	natter.KindMention: 24 * time.Hour,
	natter.KindReply:   24 * time.Hour,
	natter.KindLike:    12 * time.Hour,
	natter.KindRead:    4 * 24 * time.Hour,
	natter.KindTest:    10 * time.Minute,
}

// Message builds the push for a notice.
func (p *Push) Message(n Notice) (webpush.Message, error) {
	payload, err := json.Marshal(PushPayload{Type: n.Kind, Title: n.Title, Body: n.Body, URL: n.URL, Tag: n.Tag, Tags: n.Tags})
	if err != nil {
		return webpush.Message{}, err
	}
	msg := webpush.Message{Payload: payload, TTL: pushTTL[n.Kind], Urgency: webpush.UrgencyNormal}
	switch n.Kind {
	case natter.KindMessage:
		msg.Urgency = webpush.UrgencyHigh
		msg.Topic = n.Tag
	case natter.KindMention, natter.KindReply, natter.KindLike:
		msg.Topic = n.Tag
	case natter.KindRead:
		// Under the conversation's topic, a read push replaces a message
		// push the device has not yet fetched: it never sees either.
		if len(n.Tags) == 1 {
			msg.Topic = n.Tags[0]
		}
	}
	return msg, nil
}

// Send implements Channel.
func (p *Push) Send(ctx context.Context, job natter.Job, n Notice) Outcome {
	sub, err := p.Store.PushSubscription(ctx, job.SubscriptionID)
	if errors.Is(err, natter.ErrNotFound) {
		return Outcome{Result: Skipped}
	}
	if err != nil {
		return Outcome{Result: Retry, Err: err}
	}
	if sub.UserID != job.Item.UserID {
		return Outcome{Result: Skipped} // the browser now belongs to another member
	}
	ok, err := p.Store.StartPush(ctx, job)
	if err != nil {
		return Outcome{Result: Retry, Err: err}
	}
	if !ok {
		return Outcome{Result: Skipped} // read meanwhile
	}
	msg, err := p.Message(n)
	if err != nil {
		return Outcome{Result: Failed, Err: err}
	}
	ws := webpush.Subscription{Endpoint: sub.Endpoint, Keys: webpush.Keys{P256DH: sub.P256DH, Auth: sub.Auth}}
	res, err := p.Sender.Send(ctx, ws, msg)
	after := context.WithoutCancel(ctx)
	switch {
	case err != nil && webpush.Permanent(err):
		return p.drop(after, sub, err)
	case err != nil && ctx.Err() != nil:
		return Outcome{Result: Retry, Err: err} // shutting down: not the device's fault
	case err != nil:
		return p.failed(after, sub, Outcome{Result: Retry, Err: err})
	case res.Outcome == webpush.Delivered:
		if err := p.Store.PushSucceeded(after, sub.ID); err != nil {
			return Outcome{Result: Sent, Err: err}
		}
		return Outcome{Result: Sent}
	case res.Outcome == webpush.Gone:
		return p.drop(after, sub, fmt.Errorf("push service answered %d", res.Status))
	case res.Outcome == webpush.RetryLater:
		return p.failed(after, sub, Outcome{Result: Retry, RetryAfter: res.RetryAfter,
			Err: fmt.Errorf("push service answered %d", res.Status)})
	default:
		return p.failed(after, sub, Outcome{Result: Failed,
			Err: fmt.Errorf("push service refused with %d: %s", res.Status, res.Body)})
	}
}

// failed records a failure; a subscription failing for longer than
// DropAfter goes.
func (p *Push) failed(ctx context.Context, sub natter.PushSubscription, out Outcome) Outcome {
	since, err := p.Store.PushFailed(ctx, sub.ID)
	if err != nil {
		return out
	}
	dropAfter := p.DropAfter
	if dropAfter <= 0 {
		dropAfter = 24 * time.Hour
	}
	if p.Store.Now().Sub(since) > dropAfter {
		return p.drop(ctx, sub, fmt.Errorf("failing since %s: %w", since.Format(time.RFC3339), out.Err))
	}
	return out
}

// drop deletes a subscription that can never work again, and with it
// what was owed to it.
func (p *Push) drop(ctx context.Context, sub natter.PushSubscription, why error) Outcome {
	if err := p.Store.DropPushSubscription(ctx, sub.ID); err != nil {
		return Outcome{Result: Retry, Err: errors.Join(why, err)}
	}
	return Outcome{Result: Failed, Err: fmt.Errorf("subscription %d dropped: %w", sub.ID, why)}
}
