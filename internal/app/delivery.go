package app

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"natter/internal/natter"
	"natter/internal/webpush"
)

// Delivery beyond the open page (DESIGN.md §8). The transactions that
// create something notifying owe it to each delivery channel (owe), and
// the transactions in which a member reads withdraw it (read); the
// delivery engine (internal/deliver) does the rest after the commit.

// Channel is a delivery channel the app owes notifications to, and the
// grace period before they are due: a member who reads within it is sent
// nothing.
type Channel struct {
	Name  string        // natter.ChannelPush, natter.ChannelEmail
	Delay time.Duration // the grace period
}

// Waker is told after a commit that owed something (deliver.Engine).
type Waker interface{ Wake() }

// EndpointChecker judges a push endpoint before it is stored
// (webpush.Sender).
type EndpointChecker interface{ CheckEndpoint(endpoint string) error }

// DefaultPushDelay is the push channel's grace period when none is set.
const DefaultPushDelay = 5 * time.Second

// owe records, in tx, that item is owed on each channel its member wants
// it on, and reports whether there was any. What they want is read in the
// same transaction and judged by the rule the delivery engine applies
// again when the item comes due (natter.KindPrefs.Wants), since the member
// may change their mind meanwhile. So a like, which by default is neither
// pushed nor emailed, costs no outbox row and wakes no engine.
func (a *App) owe(ctx context.Context, tx natter.Tx, item natter.Item, tag string) (bool, error) {
	prefs, err := tx.Prefs(ctx, item.UserID)
	if err != nil {
		return false, err
	}
	k := prefs.Kind(item.Kind)
	return a.oweOn(ctx, tx, item, tag, func(channel string) bool {
		wanted, _ := k.Wants(channel)
		return wanted
	})
}

// oweMessage records, in tx, that a private message is owed on every
// channel, without reading the recipient's preferences: by default a
// message is wanted on every channel, and the engine asks when it comes
// due.
func (a *App) oweMessage(ctx context.Context, tx natter.Tx, item natter.Item, tag string) error {
	_, err := a.oweOn(ctx, tx, item, tag, func(string) bool { return true })
	return err
}

// oweOn records, in tx, that item is owed on each channel wanted says,
// and reports whether it owed it on any.
func (a *App) oweOn(ctx context.Context, tx natter.Tx, item natter.Item, tag string, wanted func(channel string) bool) (bool, error) {
	owed := false
	for _, c := range a.cfg.Channels {
		if !wanted(c.Name) {
			continue
		}
		if err := tx.Owe(ctx, c.Name, item, tag, tx.Now().Add(c.Delay)); err != nil {
			return false, err
		}
		owed = true
	}
	return owed, nil
}

// read is the one hook of every path on which a member reads (a page,
// mark all read, another device): what is still owed for it is withdrawn
// and the devices that were told of it are told it was read. tag is the
// conversation's or post's, or empty for every item of the kind.
func (a *App) read(ctx context.Context, tx natter.Tx, userID int64, kind, tag string, queued *bool) error {
	q, err := tx.Withdraw(ctx, userID, kind, tag)
	if q {
		*queued = true
	}
	return err
}

// wake tells the delivery engine that something is owed.
func (a *App) wake() {
	if a.cfg.Deliveries != nil {
		a.cfg.Deliveries.Wake()
	}
}

// EmailEnabled reports whether this site sends email.
func (a *App) EmailEnabled() bool {
	for _, c := range a.cfg.Channels {
		if c.Name == natter.ChannelEmail {
			return true
		}
	}
	return false
}

// ErrPushOff answers push requests on a site that sends no push.
var ErrPushOff = &natter.Error{Kind: natter.NotFound, Message: "This site does not send push notifications."}

// PushEnabled reports whether this site sends push notifications.
func (a *App) PushEnabled() bool { return a.cfg.PushKey != "" }

// PushKey is the application server key browsers subscribe with; empty
// when the site sends no push.
func (a *App) PushKey() string { return a.cfg.PushKey }

// maxUserAgent bounds the user agent kept with a subscription.
const maxUserAgent = 512

// SubscribePush stores the browser's subscription (the JSON of
// PushSubscription.toJSON()) for u. The same endpoint again updates it.
func (a *App) SubscribePush(ctx context.Context, u natter.Account, data []byte, userAgent string) (natter.PushSubscription, error) {
	if a.cfg.PushKey == "" {
		return natter.PushSubscription{}, ErrPushOff
	}
	sub, err := webpush.ParseSubscription(data)
	if err != nil {
		return natter.PushSubscription{}, &natter.Error{Kind: natter.Malformed, Message: strings.TrimPrefix(err.Error(), "webpush: ")}
	}
	if a.cfg.Endpoints != nil {
		if err := a.cfg.Endpoints.CheckEndpoint(sub.Endpoint); err != nil {
			return natter.PushSubscription{}, &natter.Error{Kind: natter.Malformed, Message: strings.TrimPrefix(err.Error(), "webpush: ")}
		}
	}
	if len(userAgent) > maxUserAgent {
		userAgent = userAgent[:maxUserAgent]
	}
	userAgent = strings.ToValidUTF8(userAgent, "")
	var saved natter.PushSubscription
	err = a.update(ctx, func(tx natter.Tx) error {
		var err error
		saved, err = tx.SavePushSubscription(ctx, natter.PushSubscription{
			UserID: u.ID, Endpoint: sub.Endpoint, P256DH: sub.Keys.P256DH, Auth: sub.Keys.Auth, UserAgent: userAgent,
		})
		return err
	})
	return saved, err
}

// UnsubscribePush removes u's subscription with endpoint. Removing one
// that is not there is not an error: the browser's wish is met.
func (a *App) UnsubscribePush(ctx context.Context, u natter.Account, endpoint string) error {
	if endpoint == "" {
		return &natter.Error{Kind: natter.Malformed, Message: "endpoint missing"}
	}
	return a.update(ctx, func(tx natter.Tx) error {
		_, err := tx.DeletePushSubscription(ctx, u.ID, 0, endpoint)
		return err
	})
}

// TurnOffDevice removes u's subscription id (the settings page's "turn
// off").
func (a *App) TurnOffDevice(ctx context.Context, u natter.Account, id int64) error {
	return a.update(ctx, func(tx natter.Tx) error {
		found, err := tx.DeletePushSubscription(ctx, u.ID, id, "")
		if err == nil && !found {
			return notFound("That device no longer receives notifications.")
		}
		return err
	})
}

// Device is one of a member's browsers with push on.
type Device struct {
	ID          int64
	Name        string // from the user agent: "Firefox on Android"
	Added       time.Time
	LastSuccess time.Time // zero if nothing was delivered yet
	Failing     bool
}

// Devices lists u's browsers with push on, oldest first.
func (a *App) Devices(ctx context.Context, u natter.Account) ([]Device, error) {
	subs, err := a.store.PushSubscriptions(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	list := make([]Device, len(subs))
	for i, s := range subs {
		list[i] = Device{ID: s.ID, Name: DeviceName(s.UserAgent), Added: s.CreatedAt, LastSuccess: s.LastSuccess, Failing: !s.FailingSince.IsZero()}
	}
	return list, nil
}

// SendTestPush queues a test notification to each of u's devices and
// reports how many there are.
func (a *App) SendTestPush(ctx context.Context, u natter.Account) (int, error) {
	if a.cfg.PushKey == "" {
		return 0, ErrPushOff
	}
	var n int
	err := a.update(ctx, func(tx natter.Tx) error {
		var err error
		n, err = tx.OweTest(ctx, u.ID)
		return err
	})
	if err == nil && n > 0 {
		a.wake()
	}
	return n, err
}

// NotificationPrefs returns u's notification preferences.
func (a *App) NotificationPrefs(ctx context.Context, u natter.Account) (natter.Prefs, error) {
	return a.store.Prefs(ctx, u.ID)
}

// SaveNotificationPrefs checks and stores u's notification preferences.
// Kinds other than natter.NotifyingKinds are refused; a time zone must be
// an IANA name.
func (a *App) SaveNotificationPrefs(ctx context.Context, u natter.Account, p natter.Prefs) error {
	fe := fieldErrors{}
	for kind, k := range p.Kinds {
		if !isNotifying(kind) {
			return &natter.Error{Kind: natter.Malformed, Message: fmt.Sprintf("There are no notifications of kind %q.", kind)}
		}
		if !k.Email.Valid() {
			fe.add("email_"+kind, "Choose always, only when away, or never.")
		}
	}
	if p.QuietFrom < 0 || p.QuietFrom >= 24*60 {
		fe.add("quiet_from", "Give a time such as 22:00.")
	}
	if p.QuietTo < 0 || p.QuietTo >= 24*60 {
		fe.add("quiet_to", "Give a time such as 07:00.")
	}
	if p.Digest != "" && p.Digest != natter.DigestDaily && p.Digest != natter.DigestWeekly {
		fe.add("digest", "Choose off, daily or weekly.")
	}
	p.TimeZone = strings.TrimSpace(p.TimeZone)
	if p.TimeZone != "" {
		if _, err := time.LoadLocation(p.TimeZone); err != nil || p.TimeZone == "Local" || !utf8.ValidString(p.TimeZone) {
			fe.add("time_zone", "Give a time zone such as Europe/Paris, or leave it empty for UTC.")
		}
	}
	if err := fe.err(); err != nil {
		return err
	}
	return a.update(ctx, func(tx natter.Tx) error { return tx.SetPrefs(ctx, u.ID, p) })
}

func isNotifying(kind string) bool {
	for _, k := range natter.NotifyingKinds {
		if k == kind {
			return true
		}
	}
	return false
}

// DeviceName names a browser from its user agent, as a member would: the
// browser and the system, "Firefox on Android". The order of the checks
// matters: Edge and Opera say "Chrome" too, and Chrome says "Safari".
func DeviceName(ua string) string {
	browser := "A browser"
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"SamsungBrowser/", "Samsung Internet"}, {"Firefox/", "Firefox"},
		{"FxiOS/", "Firefox"}, {"CriOS/", "Chrome"}, {"Chrome/", "Chrome"}, {"Safari/", "Safari"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	system := ""
	for _, s := range []struct{ token, name string }{
		{"Android", "Android"}, {"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Windows", "Windows"},
		{"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, s.token) {
			system = s.name
			break
		}
	}
	if system == "" {
		return browser
	}
	return browser + " on " + system
}
