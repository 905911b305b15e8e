package app

import (
	"context"
	"strings"
	"time"

	"natter/internal/natter"
)

// What a member changes about their own account (/settings/account).

// AddressVerifier confirms a changed email address before it takes effect.
// With email on and no AddressVerifier, the app's own link does it
// (email.go); with email off, a change applies at once. A verifier's
// Verify sends its own confirmation and returns; App.ConfirmEmail then
// applies the change.
type AddressVerifier interface {
	Verify(ctx context.Context, member natter.Account, address string) error
}

// reauthLimit bounds wrong current passwords per member on the settings
// forms: a stolen session must not become a way to guess the password.
var reauthLimit = Limit{Events: 10, Per: 15 * time.Minute}

// verifyPassword checks that password is the member's current one.
func (a *App) verifyPassword(ctx context.Context, m natter.Account, field, password string) error {
	key := memberKey(m.ID)
	end, wait := a.reauthByMember.begin(key, a.store.Now())
	if wait > 0 {
		return rateLimited("wrong passwords", wait)
	}
	ok := false
	defer func() { end(!ok, a.store.Now()) }()
	cred, err := a.store.Credentials(ctx, m.Username)
	if err != nil {
		return err
	}
	good, err := a.checkPassword(ctx, "member:"+key, cred.PasswordHash, password)
	if err != nil {
		return err
	}
	if ok = good && cred.MemberID == m.ID; !ok {
		return invalid(field, "That is not your current password.")
	}
	return nil
}

// ChangePassword sets a new password, the current one required, and logs
// out every other session of the member's (keep is this session's login
// ID): whoever else knew the old password is out at once. It returns how
// many sessions it ended.
func (a *App) ChangePassword(ctx context.Context, m natter.Account, current, password, confirm, keep string) (int, error) {
	fe := fieldErrors{}
	checkNewPassword(fe, "new_password", password, m.Username, m.Email)
	if confirm != password {
		fe.add("confirm_password", "The passwords do not match.")
	}
	if err := fe.err(); err != nil {
		return 0, err
	}
	if err := a.verifyPassword(ctx, m, "current_password", current); err != nil {
		return 0, err
	}
	return a.SetPassword(ctx, m, password, keep)
}

// SetPassword sets the member's password without asking for the current
// one (natter user set-password) and logs out their sessions but keep
// ("" for all).
func (a *App) SetPassword(ctx context.Context, m natter.Account, password, keep string) (int, error) {
	fe := fieldErrors{}
	checkNewPassword(fe, "new_password", password, m.Username, m.Email)
	if err := fe.err(); err != nil {
		return 0, err
	}
	hash, err := a.hashPassword(ctx, "member:"+memberKey(m.ID), password)
	if err != nil {
		return 0, err
	}
	if err := a.update(ctx, func(tx natter.Tx) error { return tx.SetPassword(ctx, m.ID, hash) }); err != nil {
		return 0, err
	}
	if keep == "" {
		return a.EndAllLogins(ctx, m.ID)
	}
	return a.EndOtherLogins(ctx, m, keep)
}

// ChangeEmail changes the member's email address, their current password
// required. pending is true when the new address must be confirmed first
// (email on: see AddressVerifier); then nothing has changed yet.
func (a *App) ChangeEmail(ctx context.Context, m natter.Account, email, current string) (pending bool, err error) {
	email = strings.TrimSpace(email)
	fe := fieldErrors{}
	checkEmail(fe, "email", email)
	if err := fe.err(); err != nil {
		return false, err
	}
	if email == m.Email {
		return false, invalid("email", "That is your address already.")
	}
	if err := a.verifyPassword(ctx, m, "current_password", current); err != nil {
		return false, err
	}
	if a.cfg.AddressVerifier != nil {
		// The email issue's hook: the address is confirmed first, and
		// ConfirmEmail applies it.
		return true, a.cfg.AddressVerifier.Verify(ctx, m, email)
	}
	if a.EmailEnabled() {
		return true, a.changeEmailByLink(ctx, m, email)
	}
	return false, a.ConfirmEmail(ctx, m.ID, email)
}

// ConfirmEmail gives the member the (verified, or email off) address.
func (a *App) ConfirmEmail(ctx context.Context, memberID int64, email string) error {
	err := a.update(ctx, func(tx natter.Tx) error { return tx.SetEmail(ctx, memberID, email) })
	return takenError(err, "", "email")
}

// Renamed returns the member who used to be called username, if any: a
// renamed member's old profile URL and old @mentions lead to them. It is
// the @mentions' look-up (Store.MembersNamed), which also answers a
// current name: that is nobody's former name, and answers false.
func (a *App) Renamed(ctx context.Context, username string) (natter.MemberRef, bool, error) {
	named, err := a.store.MembersNamed(ctx, []string{username})
	if err != nil {
		return natter.MemberRef{}, false, err
	}
	m, ok := named[natter.Key(username)]
	if !ok || natter.Key(m.Username) == natter.Key(username) {
		return natter.MemberRef{}, false, nil
	}
	return m, true, nil
}

// DeleteAccount deletes the member's account, their current password
// required: see Tx.DeleteAccount and docs/operations.md for what is
// removed and what stays, and why. Every session of theirs ends.
func (a *App) DeleteAccount(ctx context.Context, m natter.Account, current string) error {
	if err := a.verifyPassword(ctx, m, "current_password", current); err != nil {
		return err
	}
	err := a.update(ctx, func(tx natter.Tx) error {
		counts, err := tx.DeleteAccount(ctx, m.ID)
		if err != nil {
			return err
		}
		for uid, n := range counts {
			if _, err := tx.SetNotification(ctx, uid, NotifyActivity, n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	_, err = a.EndAllLogins(ctx, m.ID)
	return err
}

// Export is everything a member wrote, and was sent, as they download it.
type Export struct {
	Profile struct {
		Username  string    `json:"username"`
		Email     string    `json:"email"`
		AboutMe   string    `json:"about_me"`
		CreatedAt time.Time `json:"created_at"`
		LastSeen  time.Time `json:"last_seen"`
	} `json:"profile"`
	Posts            []ExportPost    `json:"posts"`
	MessagesSent     []ExportMessage `json:"messages_sent"`
	MessagesReceived []ExportMessage `json:"messages_received"`
	ExportedAt       time.Time       `json:"exported_at"`
}

// ExportPost is a post in an Export.
type ExportPost struct {
	ID        int64     `json:"id"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
}

// ExportMessage is a message in an Export.
type ExportMessage struct {
	ID        int64     `json:"id"`
	From      string    `json:"from"`
	To        string    `json:"to"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
}

// Export returns everything the member wrote: their profile, posts, and
// the messages they sent and received, oldest first.
func (a *App) Export(ctx context.Context, m natter.Account) (Export, error) {
	var e Export
	e.Profile.Username, e.Profile.Email, e.Profile.AboutMe = m.Username, m.Email, m.AboutMe
	e.Profile.CreatedAt, e.Profile.LastSeen = m.CreatedAt, m.LastSeen
	e.ExportedAt = a.store.Now().UTC()
	posts, msgs, err := a.store.Writings(ctx, m.ID)
	if err != nil {
		return Export{}, err
	}
	e.Posts, e.MessagesSent, e.MessagesReceived = []ExportPost{}, []ExportMessage{}, []ExportMessage{}
	for _, p := range posts {
		e.Posts = append(e.Posts, ExportPost{ID: p.ID, Body: p.Body, CreatedAt: p.CreatedAt})
	}
	for _, msg := range msgs {
		x := ExportMessage{ID: msg.ID, From: msg.Sender.Username, To: msg.Recipient.Username, Body: msg.Body, CreatedAt: msg.CreatedAt}
		if msg.Sender.ID == m.ID {
			e.MessagesSent = append(e.MessagesSent, x)
		}
		if msg.Recipient.ID == m.ID {
			e.MessagesReceived = append(e.MessagesReceived, x)
		}
	}
	return e, nil
}
