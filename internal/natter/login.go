package natter

import "time"

// Login is one of a member's login sessions, as they see it on their
// sessions page. It holds no session token: ID is derived from the token
// and cannot be turned back into it, so a page can name the session
// without handing out what would let anyone use it.
type Login struct {
	ID       string
	MemberID int64
	// Remember is "remember me": the session outlives the browser's and
	// idles out after 30 days rather than one.
	Remember   bool
	UserAgent  string
	Address    string
	CreatedAt  time.Time
	LastActive time.Time
	// IdleUntil is when the session ends unless used before.
	IdleUntil time.Time
}
