package app

import (
	"context"
	"time"

	"natter/internal/natter"
)

// How long a login session lasts (docs/operations.md, "Sessions").
const (
	// IdleWithoutRemember ends a session unused for a day: on a shared
	// computer, the next person finds it logged out.
	IdleWithoutRemember = 24 * time.Hour
	// IdleWithRemember ends a "remember me" session unused for 30 days.
	IdleWithRemember = 30 * 24 * time.Hour
	// MaxSessionAge ends every session 90 days after login, however busy:
	// the session store's lifetime (web).
	MaxSessionAge = 90 * 24 * time.Hour
)

func idleFor(remember bool) time.Duration {
	if remember {
		return IdleWithRemember
	}
	return IdleWithoutRemember
}

// StartLogin records that the member logged in under the session token,
// with which browser and from where, for their sessions page and the idle
// limit.
func (a *App) StartLogin(ctx context.Context, token string, memberID int64, remember bool, userAgent, addr string) error {
	now := a.store.Now()
	if len(userAgent) > 512 {
		userAgent = userAgent[:512]
	}
	return a.store.StartLogin(ctx, token, natter.Login{
		MemberID: memberID, Remember: remember, UserAgent: userAgent, Address: addr,
		CreatedAt: now, LastActive: now, IdleUntil: now.Add(idleFor(remember)),
	})
}

// Login returns the session token's login if it is live and the member
// memberID's; otherwise the session is not logged in (NotFound).
func (a *App) Login(ctx context.Context, token string, memberID int64) (natter.Login, error) {
	l, err := a.store.Login(ctx, token)
	if err == nil && l.MemberID != memberID {
		// A session from before natter kept logins, or one whose row
		// was ended and made again by the session store's commit: no
		// login stands behind it.
		err = natter.ErrNotFound
	}
	return l, err
}

// LoginActive records that the session was used now, pushing back its idle
// limit. Like Seen it writes at most once per Config.LastSeenEvery.
func (a *App) LoginActive(ctx context.Context, token string, l natter.Login) error {
	now := a.store.Now()
	if now.Sub(l.LastActive) < a.cfg.LastSeenEvery {
		return nil
	}
	return a.store.TouchLogin(ctx, token, now, now.Add(idleFor(l.Remember)))
}

// Logins returns the member's live sessions, the most recently active
// first.
func (a *App) Logins(ctx context.Context, member natter.Account) ([]natter.Login, error) {
	return a.store.Logins(ctx, member.ID)
}

// EndLogin logs the member's session id out, wherever it is, and ends its
// event streams at once.
func (a *App) EndLogin(ctx context.Context, member natter.Account, id string) error {
	n, err := a.store.EndLogins(ctx, member.ID, id)
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound("That session has already ended.")
	}
	return a.LoggedOut(ctx, member.ID)
}

// EndOtherLogins logs out every session of the member's but current, and
// ends their event streams at once, on every instance. It returns how
// many sessions it ended.
func (a *App) EndOtherLogins(ctx context.Context, member natter.Account, current string) (int, error) {
	logins, err := a.store.Logins(ctx, member.ID)
	if err != nil {
		return 0, err
	}
	var ids []string
	for _, l := range logins {
		if l.ID != current {
			ids = append(ids, l.ID)
		}
	}
	if len(ids) == 0 {
		return 0, nil
	}
	n, err := a.store.EndLogins(ctx, member.ID, ids...)
	if err != nil {
		return n, err
	}
	return n, a.LoggedOut(ctx, member.ID)
}

// EndAllLogins logs the member out everywhere (natter user logout).
func (a *App) EndAllLogins(ctx context.Context, memberID int64) (int, error) {
	n, err := a.store.EndLogins(ctx, memberID)
	if err != nil {
		return n, err
	}
	return n, a.LoggedOut(ctx, memberID)
}
