package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

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
	switch n := len([]rune(in.Password)); {
	case n < MinPasswordLen:
		fe.add("password", fmt.Sprintf("Use at least %d characters.", MinPasswordLen))
	case n > MaxPasswordLen:
		fe.add("password", fmt.Sprintf("Use at most %d characters.", MaxPasswordLen))
	}
	if in.ConfirmPassword != in.Password {
		fe.add("confirm_password", "The passwords do not match.")
	}
	if err := fe.err(); err != nil {
		return natter.Account{}, err
	}
	if ok, wait := a.registerByAddress.allow(addr, a.store.Now()); !ok {
		return natter.Account{}, rateLimited("registrations from your address", wait)
	}
	hash, err := a.hashPassword(ctx, in.Password)
	if err != nil {
		return natter.Account{}, err
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

// Authenticate checks a username and password. Failed attempts are limited
// per client address and per account; the error never says which of the
// two was wrong. Attempts under way count against what is left of the
// limits, so that guesses sent in parallel cannot outrun them.
//
// It is the only reader of credentials, and keeps them no longer than the
// check takes.
func (a *App) Authenticate(ctx context.Context, username, password, addr string) (acct natter.Account, err error) {
	now := a.store.Now()
	account := natter.Key(strings.TrimSpace(username))
	// The address first: a blocked address makes no bucket for each name
	// it tries.
	endAddr, wait := a.loginByAddress.begin(addr, now)
	if wait > 0 {
		return natter.Account{}, rateLimited("failed logins", wait)
	}
	endAccount, wait := a.loginByAccount.begin(account, now)
	if wait > 0 {
		endAddr(false, now)
		return natter.Account{}, rateLimited("failed logins", wait)
	}
	defer func() {
		failed := err == ErrBadCredentials
		now := a.store.Now()
		endAddr(failed, now)
		endAccount(failed, now)
	}()

	cred, err := a.store.Credentials(ctx, account)
	hash := cred.PasswordHash
	if errors.Is(err, natter.ErrNotFound) || len(password) > 4*MaxPasswordLen {
		hash = a.dummyHash
	} else if err != nil {
		return natter.Account{}, err
	}
	ok, err := a.checkPassword(ctx, hash, password)
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
	username, aboutMe = strings.TrimSpace(username), normalizeText(aboutMe)
	fe := fieldErrors{}
	checkUsername(fe, "username", username)
	checkText(fe, "about_me", aboutMe, 0, MaxAboutMeLen, "")
	if err := fe.err(); err != nil {
		return u, err
	}
	err := a.update(ctx, func(tx natter.Tx) error {
		return tx.UpdateProfile(ctx, u.ID, username, aboutMe)
	})
	if err != nil {
		return u, takenError(err, "username", "")
	}
	u.Username, u.AboutMe = username, aboutMe
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
	a.pub.Disconnect(userID)
	return a.store.AnnounceEndStreams(ctx, userID)
}
