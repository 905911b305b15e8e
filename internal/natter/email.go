package natter

import (
	"context"
	"time"
)

// Account emails: sent through the outbox's email channel like
// notifications, but about the member's account. They are due at once and
// pass none of the notification checks (unread, preferences, presence,
// quiet hours, the daily cap): the member asked for them.
const (
	KindVerify              = "verify"               // a link that proves an address
	KindRegistrationAttempt = "registration_attempt" // someone registered with the member's address
	KindReset               = "reset"                // a password reset link
	KindPasswordChanged     = "password_changed"     // the password was reset
	KindDigest              = "digest"               // the daily or weekly digest
)

// IsAccountMail reports whether kind is an account email.
func IsAccountMail(kind string) bool {
	switch kind {
	case KindVerify, KindRegistrationAttempt, KindReset, KindPasswordChanged, KindDigest:
		return true
	}
	return false
}

// The purposes of email tokens (the links account emails carry).
const (
	TokenVerify = "verify"
	TokenReset  = "reset"
)

// EmailToken is an emailed link's record: the store keeps only the hash
// of the token itself.
type EmailToken struct {
	UserID  int64
	Purpose string
	// Address is the address being proved (TokenVerify), or the one the
	// reset link was sent to.
	Address string
	Expires time.Time
}

// MailData is what an account email's outbox job carries (Job.Data, as
// JSON): whom to write to, and the link's token. The raw token lives in
// the outbox only until the email is sent.
type MailData struct {
	To       string `json:"to"`
	Username string `json:"username"`
	Token    string `json:"token,omitempty"`
	// Period is a digest's (natter.DigestDaily, DigestWeekly).
	Period string `json:"period,omitempty"`
}

// EmailTx is what the app writes about addresses and account emails.
type EmailTx interface {
	// OweMail queues an account email for the member, due now.
	OweMail(ctx context.Context, userID int64, kind string, data MailData) error
	// SaveEmailToken keeps a link's record under the token's hash.
	SaveEmailToken(ctx context.Context, hash string, t EmailToken) error
	// TakeEmailToken deletes and returns the unexpired token of that hash
	// and purpose: ErrNotFound if there is none.
	TakeEmailToken(ctx context.Context, hash, purpose string) (EmailToken, error)
	// DropEmailTokens deletes the member's tokens of purpose.
	DropEmailTokens(ctx context.Context, userID int64, purpose string) error
	// SetPendingEmail records an address waiting to be proved.
	SetPendingEmail(ctx context.Context, userID int64, address string) error
	// VerifyEmail makes address the member's, verified, and clears a
	// pending one equal to it. ErrEmailTaken if another member has it.
	VerifyEmail(ctx context.Context, userID int64, address string) error
	// AccountByEmail finds the member whose address is address (in any
	// case): ErrNotFound if none.
	AccountByEmail(ctx context.Context, address string) (Account, error)
}

// EmailStore is what the app reads about account emails.
type EmailStore interface {
	// EmailToken returns the unexpired token of that hash and purpose
	// without using it: ErrNotFound if there is none.
	EmailToken(ctx context.Context, hash, purpose string) (EmailToken, error)
}

// MailState is what GatherMail found of an email job.
type MailState int

const (
	// MailSend: send Batch.Jobs in one email.
	MailSend MailState = iota + 1
	// MailGone: the job was done or withdrawn meanwhile.
	MailGone
	// MailBehind: another job leads the email this one is part of.
	MailBehind
	// MailAbandoned: an earlier attempt may have reached the SMTP server
	// before its process died; it is not sent again (never twice).
	MailAbandoned
	// MailNoAddress: the member has no verified address.
	MailNoAddress
	// MailCapped: the member had their daily number of emails; wait
	// until Until.
	MailCapped
)

// MailBatch is an email about to be sent: the jobs it groups (in the
// order they were owed) and whom it goes to.
type MailBatch struct {
	State    MailState
	Username string
	Address  string
	Jobs     []Job
	Until    time.Time
}

// How long emailed links work.
const (
	VerifyLinkLifetime = 24 * time.Hour
	ResetLinkLifetime  = time.Hour
)
