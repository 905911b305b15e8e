package app

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	"natter/internal/natter"
)

// Email (issue 12): proving addresses, resetting passwords, unsubscribing.
// Every email is written to the outbox in the transaction that causes it;
// the delivery engine's email channel sends it.

// mailLimit bounds the account emails one member gets (a "send again"
// button, registration attempts with their address, reset requests):
// nobody can make natter flood an inbox. Beyond it, nothing is sent and
// the answer does not change.
var mailLimit = Limit{Events: 3, Per: time.Hour}

// resetLimit bounds password reset requests per client address.
var resetLimit = Limit{Events: 10, Per: time.Hour}

// ErrEmailOff answers what needs email on a site that sends none.
var ErrEmailOff = &natter.Error{Kind: natter.NotFound, Message: "This site does not send email."}

// ErrBadLink is an emailed link that expired, was used, or never was.
var ErrBadLink = &natter.Error{Kind: natter.NotFound, Message: "This link has expired or was already used."}

// newToken makes an emailed link's token and the hash the store keeps.
func newToken() (token, hash string) {
	token = rand.Text()
	return token, tokenHash(token)
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// proveAddress owes, in tx, the email that proves address for member m: a
// link to it, or — if another member has the address — a warning to that
// member instead, so that what the form answers never tells whether an
// address belongs to someone. Past mailLimit it owes nothing.
func (a *App) proveAddress(ctx context.Context, tx natter.Tx, m natter.Account, address string) error {
	owner, err := tx.AccountByEmail(ctx, address)
	switch {
	case err == nil && owner.ID != m.ID:
		if ok, _ := a.mailByMember.allow(memberKey(owner.ID), tx.Now()); !ok {
			return nil
		}
		return tx.OweMail(ctx, owner.ID, natter.KindRegistrationAttempt, natter.MailData{To: owner.Email, Username: owner.Username})
	case err != nil && !errors.Is(err, natter.ErrNotFound):
		return err
	}
	if ok, _ := a.mailByMember.allow(memberKey(m.ID), tx.Now()); !ok {
		return nil
	}
	token, hash := newToken()
	if err := tx.SaveEmailToken(ctx, hash, natter.EmailToken{UserID: m.ID, Purpose: natter.TokenVerify,
		Address: address, Expires: tx.Now().Add(natter.VerifyLinkLifetime)}); err != nil {
		return err
	}
	return tx.OweMail(ctx, m.ID, natter.KindVerify, natter.MailData{To: address, Username: m.Username, Token: token})
}

// registerWithEmail is Register on a site that sends email: the account
// is made with the address pending, and proveAddress owes its email. A
// taken address answers exactly as a free one does.
func (a *App) registerWithEmail(ctx context.Context, in RegisterInput, hash string) (natter.Account, error) {
	var u natter.Account
	err := a.update(ctx, func(tx natter.Tx) error {
		var err error
		if u, err = tx.CreateUser(ctx, in.Username, "", hash); err != nil {
			return err
		}
		if err := tx.SetPendingEmail(ctx, u.ID, in.Email); err != nil {
			return err
		}
		u.PendingEmail = in.Email
		return a.proveAddress(ctx, tx, u, in.Email)
	})
	if err != nil {
		return u, takenError(err, "username", "email")
	}
	a.wake()
	return u, nil
}

// SendVerification sends the member's unproved address (pending, or
// their current one never proved) its link again: the settings page's
// "send again".
func (a *App) SendVerification(ctx context.Context, m natter.Account) (string, error) {
	if !a.EmailEnabled() {
		return "", ErrEmailOff
	}
	address := m.PendingEmail
	if address == "" && !m.EmailVerified {
		address = m.Email
	}
	if address == "" {
		return "", invalid("email", "Your address is confirmed already.")
	}
	err := a.update(ctx, func(tx natter.Tx) error { return a.proveAddress(ctx, tx, m, address) })
	if err == nil {
		a.wake()
	}
	return address, err
}

// changeEmailByLink is ChangeEmail with email on: the new address waits
// for its link.
func (a *App) changeEmailByLink(ctx context.Context, m natter.Account, email string) error {
	err := a.update(ctx, func(tx natter.Tx) error {
		if err := tx.SetPendingEmail(ctx, m.ID, email); err != nil {
			return err
		}
		return a.proveAddress(ctx, tx, m, email)
	})
	if err == nil {
		a.wake()
	}
	return err
}

// VerifyEmail follows an address's link: the address becomes the
// member's, proved. It works logged out; the link works once.
func (a *App) VerifyEmail(ctx context.Context, token string) (natter.Account, error) {
	var acct natter.Account
	err := a.update(ctx, func(tx natter.Tx) error {
		t, err := tx.TakeEmailToken(ctx, tokenHash(token), natter.TokenVerify)
		if errors.Is(err, natter.ErrNotFound) {
			return ErrBadLink
		}
		if err != nil {
			return err
		}
		if err := tx.VerifyEmail(ctx, t.UserID, t.Address); errors.Is(err, natter.ErrEmailTaken) {
			return invalid("email", "That address now belongs to another account.")
		} else if err != nil {
			return err
		}
		acct, err = tx.Account(ctx, t.UserID)
		return err
	})
	return acct, err
}

// RequestPasswordReset mails a reset link to address if it is a member's
// proved address. The answer is the same whatever the address; only the
// client's own rate limit can refuse.
func (a *App) RequestPasswordReset(ctx context.Context, address, clientAddr string) error {
	if !a.EmailEnabled() {
		return ErrEmailOff
	}
	if ok, wait := a.resetByAddress.allow(addressKey(clientAddr), a.store.Now()); !ok {
		return rateLimited("password reset requests from your address", wait)
	}
	address = strings.TrimSpace(address)
	if address == "" || len(address) > 254 {
		return nil
	}
	queued := false
	err := a.update(ctx, func(tx natter.Tx) error {
		queued = false
		m, err := tx.AccountByEmail(ctx, address)
		if errors.Is(err, natter.ErrNotFound) || (err == nil && !m.EmailVerified) {
			return nil
		}
		if err != nil {
			return err
		}
		if ok, _ := a.mailByMember.allow(memberKey(m.ID), tx.Now()); !ok {
			return nil
		}
		token, hash := newToken()
		if err := tx.SaveEmailToken(ctx, hash, natter.EmailToken{UserID: m.ID, Purpose: natter.TokenReset,
			Address: m.Email, Expires: tx.Now().Add(natter.ResetLinkLifetime)}); err != nil {
			return err
		}
		queued = true
		return tx.OweMail(ctx, m.ID, natter.KindReset, natter.MailData{To: m.Email, Username: m.Username, Token: token})
	})
	if queued && err == nil {
		a.wake()
	}
	return err
}

// ResetAccount is the member a reset link is for, without using it.
func (a *App) ResetAccount(ctx context.Context, token string) (natter.Account, error) {
	t, err := a.store.EmailToken(ctx, tokenHash(token), natter.TokenReset)
	if errors.Is(err, natter.ErrNotFound) {
		return natter.Account{}, ErrBadLink
	}
	if err != nil {
		return natter.Account{}, err
	}
	m, err := a.store.Account(ctx, t.UserID)
	if errors.Is(err, natter.ErrNotFound) {
		return m, ErrBadLink
	}
	return m, err
}

// ResetPassword sets a new password through a reset link (used up), ends
// every session of the member's and mails them that it was changed.
func (a *App) ResetPassword(ctx context.Context, token, password, confirm string) (natter.Account, error) {
	m, err := a.ResetAccount(ctx, token)
	if err != nil {
		return m, err
	}
	fe := fieldErrors{}
	checkNewPassword(fe, "password", password, m.Username, m.Email)
	if confirm != password {
		fe.add("confirm_password", "The passwords do not match.")
	}
	if err := fe.err(); err != nil {
		return m, err
	}
	hash, err := a.hashPassword(ctx, "member:"+memberKey(m.ID), password)
	if err != nil {
		return m, err
	}
	err = a.update(ctx, func(tx natter.Tx) error {
		t, err := tx.TakeEmailToken(ctx, tokenHash(token), natter.TokenReset)
		if errors.Is(err, natter.ErrNotFound) || (err == nil && t.UserID != m.ID) {
			return ErrBadLink
		}
		if err != nil {
			return err
		}
		if err := tx.SetPassword(ctx, m.ID, hash); err != nil {
			return err
		}
		if err := tx.DropEmailTokens(ctx, m.ID, natter.TokenReset); err != nil {
			return err
		}
		return tx.OweMail(ctx, m.ID, natter.KindPasswordChanged, natter.MailData{To: m.Email, Username: m.Username})
	})
	if err != nil {
		return m, err
	}
	a.wake()
	_, err = a.EndAllLogins(ctx, m.ID)
	return m, err
}

// UnsubscribeAll is the list of an email about several kinds.
const UnsubscribeAll = "all"

// unsubscribeMAC signs member and list.
func unsubscribeMAC(key []byte, userID int64, list string) string {
	h := hmac.New(sha256.New, key)
	h.Write([]byte("unsubscribe:" + strconv.FormatInt(userID, 10) + ":" + list))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:16])
}

// UnsubscribePath is the one-click unsubscribe link of a member for a
// list (a kind, or UnsubscribeAll), site-relative, signed with key (the
// site's mail key, Config.MailKey). It needs no login and does not expire.
func UnsubscribePath(key []byte, userID int64, list string) string {
	return "/unsubscribe/" + strconv.FormatInt(userID, 10) + "." + list + "." + unsubscribeMAC(key, userID, list)
}

// Unsubscription is what an unsubscribe link stops.
type Unsubscription struct {
	UserID int64
	List   string
	// What names it for the member: "messages", "every notification".
	What string
}

// CheckUnsubscribe reads an unsubscribe token.
func (a *App) CheckUnsubscribe(token string) (Unsubscription, error) {
	parts := strings.Split(token, ".")
	bad := &natter.Error{Kind: natter.NotFound, Message: "This unsubscribe link is not valid."}
	if len(parts) != 3 || len(a.cfg.MailKey) == 0 {
		return Unsubscription{}, bad
	}
	id, err := strconv.ParseInt(parts[0], 10, 64)
	list := parts[1]
	if err != nil || (list != UnsubscribeAll && list != natter.KindDigest && !isNotifying(list)) ||
		!hmac.Equal([]byte(parts[2]), []byte(unsubscribeMAC(a.cfg.MailKey, id, list))) {
		return Unsubscription{}, bad
	}
	u := Unsubscription{UserID: id, List: list, What: "every notification"}
	switch list {
	case UnsubscribeAll:
	case natter.KindDigest:
		u.What = "what waits for you (the digest)"
	default:
		u.What = list + "s"
	}
	return u, nil
}

// Unsubscribe turns email off for the token's list at once: the email
// column of its kinds becomes never; push stays as it was.
func (a *App) Unsubscribe(ctx context.Context, token string) (Unsubscription, error) {
	u, err := a.CheckUnsubscribe(token)
	if err != nil {
		return u, err
	}
	err = a.update(ctx, func(tx natter.Tx) error {
		p, err := a.store.Prefs(ctx, u.UserID)
		if err != nil {
			return err
		}
		kinds := natter.NotifyingKinds
		switch u.List {
		case UnsubscribeAll:
		case natter.KindDigest:
			kinds = nil
		default:
			kinds = []string{u.List}
		}
		set := natter.Prefs{Kinds: map[string]natter.KindPrefs{}, QuietFrom: p.QuietFrom, QuietTo: p.QuietTo,
			TimeZone: p.TimeZone, Previews: p.Previews, Digest: p.Digest}
		if u.List == natter.KindDigest {
			set.Digest = ""
		}
		for _, k := range kinds {
			kp := p.Kind(k)
			kp.Email = natter.EmailNever
			set.Kinds[k] = kp
		}
		return tx.SetPrefs(ctx, u.UserID, set)
	})
	return u, err
}

// VerifyLink is the address a verification link proves, without using it.
func (a *App) VerifyLink(ctx context.Context, token string) (string, error) {
	t, err := a.store.EmailToken(ctx, tokenHash(token), natter.TokenVerify)
	if errors.Is(err, natter.ErrNotFound) {
		return "", ErrBadLink
	}
	return t.Address, err
}
