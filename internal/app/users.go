package app

import (
	"context"
	"errors"
	"strings"
	"time"

	"natter/internal/natter"
)

// RegisterInput is the registration form.
type RegisterInput struct {
	Username, Email, Password, ConfirmPassword string
}

// Register creates a member. addr is the client's address, for rate
// limiting.
func (a *App) Register(ctx context.Context, in RegisterInput, addr string) (natter.Account, error) {
	in.Username, in.Email = strings.TrimSpace(in.Username), strings.TrimSpace(in.Email)
	fe := fieldErrors{}
	checkUsername(fe, "username", in.Username)
	checkEmail(fe, "email", in.Email)
	checkNewPassword(fe, "password", in.Password, in.Username, in.Email)
	if in.ConfirmPassword != in.Password {
		fe.add("confirm_password", "The passwords do not match.")
	}
	if err := fe.err(); err != nil {
		return natter.Account{}, err
	}
	if ok, wait := a.registerByAddress.allow(addressKey(addr), a.store.Now()); !ok {
		return natter.Account{}, rateLimited("registrations from your address", wait)
	}
	hash, err := a.hashPassword(ctx, addressKey(addr), in.Password)
	if err != nil {
		return natter.Account{}, err
	}
	if a.EmailEnabled() {
		return a.registerWithEmail(ctx, in, hash)
	}
	var u natter.Account
	err = a.update(ctx, func(tx natter.Tx) error {
		u, err = tx.CreateUser(ctx, in.Username, in.Email, hash)
		return err
	})
	return u, takenError(err, "username", "email")
}

// takenError turns the store's uniqueness errors into field errors.
func takenError(err error, usernameField, emailField string) error {
	switch {
	case errors.Is(err, natter.ErrUsernameTaken):
		return invalid(usernameField, "That username is taken. Please choose another.")
	case errors.Is(err, natter.ErrEmailTaken):
		return invalid(emailField, "That email address is already registered.")
	}
	return err
}

// LoginInput is a login attempt: the form, and where it comes from.
type LoginInput struct {
	Username, Password string
	// Addr is the client's address.
	Addr string
	// Device is the browser's device cookie, if it has one (DeviceToken).
	Device string
}

// Authenticate checks a username and password. The error never says which
// of the two was wrong.
//
// Failures are limited so that they slow the guesser and not the owner
// (docs/operations.md, "Login limits"): per client address (IPv6: per
// /64) across accounts, per account and address, and per account from
// browsers that have not logged in to it before; a browser with a valid
// device cookie for the account is exempt from that last one, so failures
// from elsewhere cannot keep the member out of the browser they use.
// Successful logins are limited per account and per address too: each one
// costs a hash and makes a session. Attempts under way count against what
// is left of every limit, so that guesses sent in parallel cannot outrun
// them; a limit refuses before any password is checked.
//
// It is the only reader of credentials, and keeps them no longer than the
// check takes.
func (a *App) Authenticate(ctx context.Context, in LoginInput) (acct natter.Account, err error) {
	now := a.store.Now()
	account, addr := natter.Key(strings.TrimSpace(in.Username)), addressKey(in.Addr)
	var ends []func(failed, succeeded bool, now time.Time)
	defer func() {
		now := a.store.Now()
		for _, end := range ends {
			end(err == ErrBadCredentials, err == nil, now)
		}
	}()
	// begin starts an attempt against l; onFailure says whether a failure
	// (true) or a success (false) spends its token. Anything else (a
	// refusal by a later limit, a fault) spends none.
	begin := func(l *limiter, key string, onFailure bool, what string) error {
		end, wait := l.begin(key, now)
		if wait > 0 {
			return rateLimited(what, wait)
		}
		ends = append(ends, func(failed, succeeded bool, now time.Time) {
			end(onFailure && failed || !onFailure && succeeded, now)
		})
		return nil
	}
	// The address first: a blocked address makes no bucket for each name
	// it tries.
	if err := begin(a.failByAddress, addr, true, "failed logins from your address"); err != nil {
		return natter.Account{}, err
	}
	if err := begin(a.failByAccountAddress, account+"\x00"+addr, true, "failed logins to this account"); err != nil {
		return natter.Account{}, err
	}

	cred, err := a.store.Credentials(ctx, account)
	hash := cred.PasswordHash
	if errors.Is(err, natter.ErrNotFound) || len(in.Password) > 4*MaxPasswordLen {
		hash = a.dummyHash
	} else if err != nil {
		return natter.Account{}, err
	}
	if !a.knownDevice(ctx, in.Device, cred.MemberID) {
		if err := begin(a.failByAccount, account, true, "failed logins to this account from new browsers"); err != nil {
			return natter.Account{}, err
		}
	}
	if err := begin(a.loginByAccount, account, false, "logins to this account"); err != nil {
		return natter.Account{}, err
	}
	if err := begin(a.loginByAddress, addr, false, "logins from your address"); err != nil {
		return natter.Account{}, err
	}

	ok, err := a.checkPassword(ctx, addr, hash, in.Password)
	if err != nil {
		return natter.Account{}, err
	}
	if !ok || hash == a.dummyHash {
		return natter.Account{}, ErrBadCredentials
	}
	acct, err = a.store.Account(ctx, cred.MemberID)
	if errors.Is(err, natter.ErrNotFound) { // deleted since the check
		return natter.Account{}, ErrBadCredentials
	}
	return acct, err
}

// Account returns the member with the given id as they see themselves.
func (a *App) Account(ctx context.Context, id int64) (natter.Account, error) {
	return a.store.Account(ctx, id)
}

// Member returns the member with that username in any case.
func (a *App) Member(ctx context.Context, username string) (natter.Member, error) {
	m, err := a.store.MemberByName(ctx, username)
	if errors.Is(err, natter.ErrNotFound) {
		return m, notFound("There is no member called %q.", username)
	}
	return m, err
}

// Profile is a member's profile page as viewer sees it.
type Profile struct {
	Member natter.Member
	Posts  Page[natter.Post]
	// Blocked is whether the viewer has blocked this member.
	Blocked bool
}

// Profile returns username's profile, with the page of their posts at pos.
func (a *App) Profile(ctx context.Context, viewer natter.Account, username string, pos Position) (Profile, error) {
	u, err := a.Member(ctx, username)
	if err != nil {
		return Profile{}, err
	}
	posts, err := pageAt(pos, a.cfg.PostsPerPage, func(w natter.Window) ([]natter.Post, error) {
		return a.store.PostsByUser(ctx, u.ID, w)
	}, postID)
	if err != nil {
		return Profile{}, err
	}
	if posts.Items, err = a.withMentions(ctx, posts.Items); err != nil {
		return Profile{}, err
	}
	p := Profile{Member: u, Posts: posts}
	if viewer.ID != 0 && viewer.ID != u.ID {
		if p.Blocked, err = a.store.Blocks(ctx, viewer.ID, u.ID); err != nil {
			return Profile{}, err
		}
	}
	return p, nil
}

// UpdateProfile changes the member's username and about-me text.
func (a *App) UpdateProfile(ctx context.Context, u natter.Account, username, aboutMe string) (natter.Account, error) {
	return a.EditProfile(ctx, u, username, aboutMe, u.HideLastSeen)
}

// EditProfile changes what /edit-profile shows: the member's username,
// about-me text and whether others see when they were last seen, in one
// transaction.
func (a *App) EditProfile(ctx context.Context, u natter.Account, username, aboutMe string, hideLastSeen bool) (natter.Account, error) {
	username, aboutMe = strings.TrimSpace(username), normalizeText(aboutMe)
	fe := fieldErrors{}
	checkUsername(fe, "username", username)
	checkText(fe, "about_me", aboutMe, 0, MaxAboutMeLen, "")
	if err := fe.err(); err != nil {
		return u, err
	}
	err := a.update(ctx, func(tx natter.Tx) error {
		if err := tx.UpdateProfile(ctx, u.ID, username, aboutMe); err != nil {
			return err
		}
		if hideLastSeen == u.HideLastSeen {
			return nil
		}
		return tx.SetHideLastSeen(ctx, u.ID, hideLastSeen)
	})
	if err != nil {
		return u, takenError(err, "username", "")
	}
	u.Username, u.AboutMe, u.HideLastSeen = username, aboutMe, hideLastSeen
	return u, nil
}

// Seen records that the member is active. It writes only when the stored
// time is older than Config.LastSeenEvery, so most requests cost nothing.
func (a *App) Seen(ctx context.Context, u natter.Account) error {
	if a.store.Now().Sub(u.LastSeen) < a.cfg.LastSeenEvery {
		return nil
	}
	return a.update(ctx, func(tx natter.Tx) error {
		return tx.TouchLastSeen(ctx, u.ID, a.cfg.LastSeenEvery)
	})
}

// LoggedOut ends the member's event streams on every instance: the session
// that logged out must not go on hearing the member's counts. Streams of
// their other sessions reconnect and carry on.
func (a *App) LoggedOut(ctx context.Context, userID int64) error {
	if a.pub != nil {
		a.pub.Disconnect(userID)
	}
	return a.store.AnnounceEndStreams(ctx, userID)
}
