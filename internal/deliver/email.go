package deliver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"strconv"
	"time"

	"natter/internal/mail"
	"natter/internal/natter"
)

// MailStore is what the email channel needs of storage (*store.Store).
type MailStore interface {
	Now() time.Time
	Prefs(ctx context.Context, userID int64) (natter.Prefs, error)
	ItemText(ctx context.Context, item natter.Item) (natter.ItemText, error)
	GatherMail(ctx context.Context, job natter.Job, maxPerDay int, keep func(natter.Job) bool) (natter.MailBatch, error)
	StartMail(ctx context.Context, job natter.Job, counted bool) (bool, error)
	FinishMail(ctx context.Context, job natter.Job) error
	ReleaseMail(ctx context.Context, job natter.Job) error
	// UnreadItems lists what a digest shows.
	UnreadItems(ctx context.Context, userID int64, limit int) ([]natter.Item, error)
}

// Mailer hands an email to the SMTP server (mail.Sender).
type Mailer interface {
	SendWith(ctx context.Context, m mail.Message, ready func(context.Context) error) error
}

// DefaultMaxPerDay is the daily cap of notification emails per member.
const DefaultMaxPerDay = 50

// Email is the email channel. A notification job is one item for one
// member; when it is sent, every other item of theirs due by then goes in
// the same email ("3 new messages from bob and alice"), which the job
// leads. Account emails (verify, reset, ...) go one job, one email.
//
// Never twice: an email is marked as being sent (StartMail) in the
// database once the SMTP connection is ready and just before the message
// is handed over, and its jobs are deleted once the server took it. A
// process that dies between the two leaves the mark; the job, taken again,
// is then dropped with a warning rather than sent again. Only a crash in
// the instant of handing over can so lose an email; none is ever sent
// twice. The Message-ID is the job's, the same on every attempt.
type Email struct {
	Store    MailStore
	Presence Presence
	Sender   Mailer
	Composer *mail.Composer
	// Unsubscribe is the site-relative one-click unsubscribe path of a
	// member for a list (a kind, or "all").
	Unsubscribe func(userID int64, list string) string
	// MaxPerDay caps notification emails per member per UTC day. Default
	// DefaultMaxPerDay.
	MaxPerDay int
	Logger    *slog.Logger
}

// Name implements Channel.
func (e *Email) Name() string { return natter.ChannelEmail }

// errGone says the job was withdrawn, or marked by an earlier attempt,
// between gathering and sending.
var errGone = errors.New("email job gone")

// Send implements Channel.
func (e *Email) Send(ctx context.Context, job natter.Job, _ Notice) Outcome {
	if job.Item.Kind == natter.KindDigest {
		return e.sendDigest(ctx, job)
	}
	if natter.IsAccountMail(job.Item.Kind) {
		return e.sendAccount(ctx, job)
	}
	return e.sendNotifications(ctx, job)
}

func (e *Email) sendAccount(ctx context.Context, job natter.Job) Outcome {
	var d natter.MailData
	if err := json.Unmarshal([]byte(job.Data), &d); err != nil {
		return Outcome{Result: Failed, Err: fmt.Errorf("account email data: %w", err)}
	}
	var m mail.Email
	switch job.Item.Kind {
	case natter.KindVerify:
		m = mail.VerifyAddress{Username: d.Username, Path: "/verify-email/" + d.Token, ValidFor: natter.VerifyLinkLifetime}
	case natter.KindRegistrationAttempt:
		m = mail.RegistrationAttempt{Username: d.Username, LoginPath: "/login", ResetPath: "/reset-password"}
	case natter.KindReset:
		m = mail.PasswordReset{Username: d.Username, Path: "/reset-password/" + d.Token, ValidFor: natter.ResetLinkLifetime}
	case natter.KindPasswordChanged:
		m = mail.PasswordChanged{Username: d.Username, ResetPath: "/reset-password"}
	}
	msg, err := e.Composer.Compose(&netmail.Address{Name: d.Username, Address: d.To}, m)
	if err != nil {
		return Outcome{Result: Failed, Err: err}
	}
	return e.deliver(ctx, job, msg, false)
}

func (e *Email) sendNotifications(ctx context.Context, job natter.Job) Outcome {
	uid := job.Item.UserID
	prefs, err := e.Store.Prefs(ctx, uid)
	if err != nil {
		return Outcome{Result: Retry, Err: err}
	}
	// The engine checked the leading job; another item joins it if the
	// member wants its kind by email, and — for "only when away" — if
	// they are away (the engine knows it when the leader's level is away).
	away := prefs.Kind(job.Item.Kind).Email == natter.EmailAway
	if !away {
		present, err := e.Presence.Present(ctx, uid)
		if err != nil {
			return Outcome{Result: Retry, Err: err}
		}
		away = !present
	}
	keep := func(j natter.Job) bool {
		wanted, onlyAway := prefs.Kind(j.Item.Kind).Wants(natter.ChannelEmail)
		return wanted && (!onlyAway || away)
	}
	maxPerDay := e.MaxPerDay
	if maxPerDay <= 0 {
		maxPerDay = DefaultMaxPerDay
	}
	b, err := e.Store.GatherMail(ctx, job, maxPerDay, keep)
	if err != nil {
		return Outcome{Result: Retry, Err: err}
	}
	switch b.State {
	case natter.MailGone, natter.MailNoAddress:
		return Outcome{Result: Skipped}
	case natter.MailBehind:
		return Outcome{Result: Deferred, RetryAfter: time.Minute}
	case natter.MailCapped:
		return Outcome{Result: Deferred, RetryAfter: b.Until.Sub(e.Store.Now())}
	case natter.MailAbandoned:
		e.logger().Warn("email: an earlier attempt may have been sent before natter stopped; not sending it again",
			"job", job.ID, "member", uid)
		return Outcome{Result: Skipped}
	}
	n := mail.Notification{Username: b.Username, SettingsPath: "/settings/notifications"}
	kinds := map[string]bool{}
	tags := map[string]bool{}
	paths := map[string]bool{}
	allMessages := true
	likes := map[int64]bool{} // posts whose likes are in, one item each
	for _, j := range b.Jobs {
		if j.Item.Kind == natter.KindLike && likes[j.Item.ID] {
			continue // one item names every liker of the post
		}
		t, err := e.Store.ItemText(ctx, j.Item)
		if errors.Is(err, natter.ErrNotFound) || (err == nil && t.Actor.Username == "") {
			continue // deleted meanwhile, or a kind the store cannot describe
		}
		if err != nil {
			return Outcome{Result: Retry, Err: err}
		}
		it := mail.Item{Kind: mail.Kind(j.Item.Kind), From: t.Actor.Username, Path: itemPath(j.Item, t), Others: t.Others}
		if prefs.Previews {
			it.Preview = t.Body
		}
		if j.Item.Kind == natter.KindLike {
			likes[j.Item.ID] = true
		}
		n.Items = append(n.Items, it)
		kinds[j.Item.Kind], tags[j.Tag], paths[it.Path] = true, true, true
		allMessages = allMessages && j.Item.Kind == natter.KindMessage
	}
	if len(n.Items) == 0 {
		if err := e.Store.FinishMail(context.WithoutCancel(ctx), job); err != nil {
			return Outcome{Result: Retry, Err: err}
		}
		return Outcome{Result: Skipped}
	}
	switch {
	case len(paths) == 1:
		n.Path = n.Items[0].Path
	case allMessages:
		n.Path = "/conversations"
	default:
		n.Path = "/activity"
	}
	if len(tags) == 1 && job.Tag != "" {
		// One conversation or one post: mail clients thread its emails.
		n.Thread = "member:" + strconv.FormatInt(uid, 10) + ":" + job.Tag
	}
	list := "all"
	if len(kinds) == 1 {
		list = job.Item.Kind
	}
	n.UnsubscribePath = e.Unsubscribe(uid, list)
	msg, err := e.Composer.Compose(&netmail.Address{Name: b.Username, Address: b.Address}, n)
	if err != nil {
		return Outcome{Result: Retry, Err: err}
	}
	return e.deliver(ctx, job, msg, true)
}

// digestItems is how many unread messages, and mentions, a digest lists.
const digestItems = 10

// sendDigest mails what still waits for the member (OweDigests owed it).
func (e *Email) sendDigest(ctx context.Context, job natter.Job) Outcome {
	var d natter.MailData
	if err := json.Unmarshal([]byte(job.Data), &d); err != nil {
		return Outcome{Result: Failed, Err: fmt.Errorf("digest data: %w", err)}
	}
	prefs, err := e.Store.Prefs(ctx, job.Item.UserID)
	if err != nil {
		return Outcome{Result: Retry, Err: err}
	}
	items, err := e.Store.UnreadItems(ctx, job.Item.UserID, digestItems)
	if err != nil {
		return Outcome{Result: Retry, Err: err}
	}
	m := mail.Digest{Username: d.Username, Period: d.Period, Path: "/conversations",
		UnsubscribePath: e.Unsubscribe(job.Item.UserID, natter.KindDigest), SettingsPath: "/settings/notifications"}
	for _, it := range items {
		t, err := e.Store.ItemText(ctx, it)
		if errors.Is(err, natter.ErrNotFound) || (err == nil && t.Actor.Username == "") {
			continue
		}
		if err != nil {
			return Outcome{Result: Retry, Err: err}
		}
		mi := mail.Item{Kind: mail.Kind(it.Kind), From: t.Actor.Username, Path: itemPath(it, t)}
		if prefs.Previews {
			mi.Preview = t.Body
		}
		m.Items = append(m.Items, mi)
		if it.Kind != natter.KindMessage {
			m.Path = "/activity"
		}
	}
	if len(m.Items) == 0 {
		return Outcome{Result: Skipped} // read meanwhile
	}
	msg, err := e.Composer.Compose(&netmail.Address{Name: d.Username, Address: d.To}, m)
	if err != nil {
		return Outcome{Result: Failed, Err: err}
	}
	return e.deliver(ctx, job, msg, false)
}

// DigestStore owes the digests that are due (*store.Store).
type DigestStore interface {
	OweDigests(ctx context.Context) (int, error)
}

// RunDigests owes the due digests every so often (an hour by default)
// until ctx ends, and wakes the engine when it owed some.
func RunDigests(ctx context.Context, s DigestStore, engine *Engine, every time.Duration, log *slog.Logger) {
	if every <= 0 {
		every = time.Hour
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := s.OweDigests(ctx); err != nil && ctx.Err() == nil {
			log.Warn("email: owing digests", "err", err)
		} else if n > 0 {
			engine.Wake()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// itemPath is where an item's link in an email goes.
func itemPath(item natter.Item, t natter.ItemText) string {
	switch {
	case item.Kind == natter.KindMessage:
		return "/messages/" + t.Actor.Username
	case t.PostID != 0:
		return "/post/" + strconv.FormatInt(t.PostID, 10)
	}
	return "/activity"
}

// deliver sends msg for job: marked as sending just before the server
// gets it, finished once it took it.
func (e *Email) deliver(ctx context.Context, job natter.Job, msg mail.Message, counted bool) Outcome {
	// The same on every attempt, and unique: SQLite may give a later job
	// the id of one deleted, never with the same due time.
	msg.ID = "job-" + strconv.FormatInt(job.ID, 10) + "-" + strconv.FormatInt(job.Due.UnixMicro(), 36)
	var readyErr error
	err := e.Sender.SendWith(ctx, msg, func(ctx context.Context) error {
		ok, err := e.Store.StartMail(ctx, job, counted)
		switch {
		case err != nil:
			readyErr = err
		case !ok:
			readyErr = errGone
		}
		return readyErr
	})
	after := context.WithoutCancel(ctx)
	switch {
	case errors.Is(readyErr, errGone):
		return Outcome{Result: Skipped}
	case readyErr != nil:
		return Outcome{Result: Retry, Err: readyErr}
	case err == nil:
		if err := e.Store.FinishMail(after, job); err != nil {
			// Sent, but its jobs are still there: taken again, the mark
			// drops them without sending (MailAbandoned).
			return Outcome{Result: Deferred, RetryAfter: 30 * time.Second, Err: err}
		}
		return Outcome{Result: Sent}
	case mail.IsUnknown(err):
		// The server may have it: never twice, so it is not sent again.
		e.logger().Warn("email: no answer after the message was sent; not sending it again", "job", job.ID, "err", err)
		if ferr := e.Store.FinishMail(after, job); ferr != nil {
			return Outcome{Result: Deferred, RetryAfter: 30 * time.Second, Err: errors.Join(err, ferr)}
		}
		return Outcome{Result: Failed, Err: err}
	case mail.IsTemporary(err):
		if rerr := e.Store.ReleaseMail(after, job); rerr != nil {
			return Outcome{Result: Retry, Err: errors.Join(err, rerr)}
		}
		return Outcome{Result: Retry, Err: err}
	default:
		if ferr := e.Store.FinishMail(after, job); ferr != nil {
			return Outcome{Result: Failed, Err: errors.Join(err, ferr)}
		}
		return Outcome{Result: Failed, Err: err}
	}
}

func (e *Email) logger() *slog.Logger {
	if e.Logger == nil {
		return slog.Default()
	}
	return e.Logger
}
