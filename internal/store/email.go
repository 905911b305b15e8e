package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"natter/internal/natter"
)

// Addresses, emailed links and the email channel's side of the outbox
// (issue 12).

// OweMail queues an account email for the member, due now.
func (tx *Tx) OweMail(ctx context.Context, userID int64, kind string, data natter.MailData) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	if _, err := tx.q.ExecContext(ctx, `
		INSERT INTO outbox (user_id, channel, kind, item_id, tag, data, due_at, next_attempt_at)
		VALUES ($1, $2, $3, 0, '', $4, $5, $5)`,
		userID, natter.ChannelEmail, kind, string(b), micros(tx.now)); err != nil {
		return fmt.Errorf("store: owe %s email: %w", kind, err)
	}
	return nil
}

// SaveEmailToken keeps a link's record under the token's hash, and drops
// the member's expired ones of the same purpose (links never followed).
func (tx *Tx) SaveEmailToken(ctx context.Context, hash string, t natter.EmailToken) error {
	if _, err := tx.q.ExecContext(ctx, `DELETE FROM email_tokens WHERE user_id = $1 AND purpose = $2 AND expires_at <= $3`,
		t.UserID, t.Purpose, micros(tx.now)); err != nil {
		return fmt.Errorf("store: save email token: %w", err)
	}
	if _, err := tx.q.ExecContext(ctx, `
		INSERT INTO email_tokens (token_hash, purpose, user_id, address, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		hash, t.Purpose, t.UserID, t.Address, micros(t.Expires)); err != nil {
		return fmt.Errorf("store: save email token: %w", err)
	}
	return nil
}

func emailToken(ctx context.Context, db dbtx, now time.Time, hash, purpose string) (natter.EmailToken, error) {
	t := natter.EmailToken{Purpose: purpose}
	var expires int64
	err := db.QueryRowContext(ctx, `
		SELECT user_id, address, expires_at FROM email_tokens WHERE token_hash = $1 AND purpose = $2`,
		hash, purpose).Scan(&t.UserID, &t.Address, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return t, natter.ErrNotFound
	}
	if err != nil {
		return t, fmt.Errorf("store: email token: %w", err)
	}
	t.Expires = fromMicros(expires)
	if !now.Before(t.Expires) {
		return t, natter.ErrNotFound
	}
	return t, nil
}

// EmailToken returns the unexpired token without using it.
func (s *Store) EmailToken(ctx context.Context, hash, purpose string) (natter.EmailToken, error) {
	return emailToken(ctx, s.rq, s.now(), hash, purpose)
}

// TakeEmailToken deletes and returns the unexpired token: a link works
// once.
func (tx *Tx) TakeEmailToken(ctx context.Context, hash, purpose string) (natter.EmailToken, error) {
	t, err := emailToken(ctx, tx.q, tx.now, hash, purpose)
	if err != nil && !errors.Is(err, natter.ErrNotFound) {
		return t, err
	}
	res, derr := tx.q.ExecContext(ctx, `DELETE FROM email_tokens WHERE token_hash = $1`, hash)
	if derr != nil {
		return t, fmt.Errorf("store: take email token: %w", derr)
	}
	if n, _ := res.RowsAffected(); n == 0 && err == nil {
		// Taken by a transaction that committed meanwhile.
		return t, natter.ErrNotFound
	}
	return t, err
}

// DropEmailTokens deletes the member's tokens of purpose.
func (tx *Tx) DropEmailTokens(ctx context.Context, userID int64, purpose string) error {
	if _, err := tx.q.ExecContext(ctx, `DELETE FROM email_tokens WHERE user_id = $1 AND purpose = $2`,
		userID, purpose); err != nil {
		return fmt.Errorf("store: drop email tokens: %w", err)
	}
	return nil
}

// SetPendingEmail records an address waiting to be proved.
func (tx *Tx) SetPendingEmail(ctx context.Context, userID int64, address string) error {
	tx.userChanged(userID)
	if _, err := tx.q.ExecContext(ctx, `UPDATE users SET pending_email = $1 WHERE id = $2`, address, userID); err != nil {
		return fmt.Errorf("store: set pending email: %w", err)
	}
	return nil
}

// VerifyEmail makes address the member's, verified.
func (tx *Tx) VerifyEmail(ctx context.Context, userID int64, address string) error {
	if err := tx.SetEmail(ctx, userID, address); err != nil {
		return err
	}
	tx.userChanged(userID)
	if _, err := tx.q.ExecContext(ctx, `
		UPDATE users SET email_verified = 1,
			pending_email = CASE WHEN lower(pending_email) = $1 THEN '' ELSE pending_email END
		WHERE id = $2`, natter.Key(address), userID); err != nil {
		return fmt.Errorf("store: verify email: %w", err)
	}
	return nil
}

// AccountByEmail finds the member whose address is address.
func (tx *Tx) AccountByEmail(ctx context.Context, address string) (natter.Account, error) {
	return scanAccount(tx.q.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM users
		WHERE email_key = $1 AND deleted_at = 0`, natter.Key(address)))
}

// GatherMail prepares the email that job leads, under the member's lock:
// every email job owed to them, unread and kept by keep, joins it (unless
// another email already holds it) — those not yet due too, so that a burst
// of messages makes one email, not one per message as each comes due —
// and a job of an item read meanwhile is dropped. maxPerDay is the daily
// cap.
func (s *Store) GatherMail(ctx context.Context, job natter.Job, maxPerDay int, keep func(natter.Job) bool) (natter.MailBatch, error) {
	var b natter.MailBatch
	_, err := s.Update(ctx, func(t natter.Tx) error {
		tx := t.(*Tx)
		b = natter.MailBatch{}
		uid := job.Item.UserID
		if err := tx.lockMember(ctx, uid); err != nil {
			return err
		}
		var group, sending int64
		err := tx.q.QueryRowContext(ctx, `SELECT mail_group, sending_at FROM outbox WHERE id = $1 AND due_at = $2`,
			job.ID, micros(job.Due)).Scan(&group, &sending)
		if errors.Is(err, sql.ErrNoRows) {
			b.State = natter.MailGone
			return nil
		}
		if err != nil {
			return err
		}
		if sending != 0 {
			b.State = natter.MailAbandoned
			return tx.dropMail(ctx, job)
		}
		if group != 0 && group != job.ID {
			var n int
			if err := tx.q.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE id = $1`, group).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				b.State = natter.MailBehind
				return nil
			}
		}
		var verified int
		err = tx.q.QueryRowContext(ctx, `SELECT username, email, email_verified FROM users WHERE id = $1 AND deleted_at = 0`,
			uid).Scan(&b.Username, &b.Address, &verified)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && (verified == 0 || b.Address == "")) {
			b.State = natter.MailNoAddress
			return nil
		}
		if err != nil {
			return err
		}
		day := tx.now.Unix() / 86400
		var countDay, sent int64
		err = tx.q.QueryRowContext(ctx, `SELECT day, sent FROM mail_counts WHERE user_id = $1`, uid).Scan(&countDay, &sent)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if countDay == day && sent >= int64(maxPerDay) {
			b.State, b.Until = natter.MailCapped, time.Unix((day+1)*86400, 0)
			return nil
		}
		rows, err := tx.q.QueryContext(ctx, `
			SELECT id, kind, item_id, tag FROM outbox
			WHERE user_id = $1 AND channel = $2 AND (mail_group = 0 OR mail_group = $3) AND sending_at = 0
			ORDER BY due_at, id`, uid, natter.ChannelEmail, job.ID)
		if err != nil {
			return err
		}
		var found []natter.Job
		for rows.Next() {
			j := natter.Job{Channel: natter.ChannelEmail, Item: natter.Item{UserID: uid}}
			if err := rows.Scan(&j.ID, &j.Item.Kind, &j.Item.ID, &j.Tag); err != nil {
				rows.Close()
				return err
			}
			if !natter.IsAccountMail(j.Item.Kind) {
				found = append(found, j)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		// In the order they came, the leader among them.
		led := false
		for _, j := range found {
			if j.ID == job.ID {
				b.Jobs, led = append(b.Jobs, job), true
				continue
			}
			u, err := unread(ctx, tx.q, j.Item)
			if err != nil {
				return err
			}
			if !u {
				if _, err := tx.q.ExecContext(ctx, `DELETE FROM outbox WHERE id = $1`, j.ID); err != nil {
					return err
				}
				continue
			}
			if keep != nil && !keep(j) {
				continue
			}
			b.Jobs = append(b.Jobs, j)
		}
		if !led {
			b.Jobs = append([]natter.Job{job}, b.Jobs...)
		}
		for _, j := range b.Jobs {
			if _, err := tx.q.ExecContext(ctx, `UPDATE outbox SET mail_group = $1 WHERE id = $2`, job.ID, j.ID); err != nil {
				return err
			}
		}
		b.State = natter.MailSend
		return nil
	})
	if err != nil {
		return b, fmt.Errorf("store: gather mail: %w", err)
	}
	return b, nil
}

// dropMail deletes the email job leader and the jobs it groups (the
// leader known by its due time too, as FinishJob knows a job).
func (tx *Tx) dropMail(ctx context.Context, leader natter.Job) error {
	_, err := tx.q.ExecContext(ctx, `DELETE FROM outbox WHERE user_id = $1 AND ((id = $2 AND due_at = $3) OR mail_group = $2)`,
		leader.Item.UserID, leader.ID, micros(leader.Due))
	return err
}

// StartMail is the last step before the SMTP server is given an email:
// it marks the leading job as sending, so that a process that dies from
// now until FinishMail is known to have perhaps sent it, and counts a
// notification email against the member's daily cap. It reports false,
// marking nothing, if the job is gone or was marked before.
func (s *Store) StartMail(ctx context.Context, job natter.Job, counted bool) (bool, error) {
	ok := false
	_, err := s.Update(ctx, func(t natter.Tx) error {
		tx := t.(*Tx)
		ok = false
		if err := tx.lockMember(ctx, job.Item.UserID); err != nil {
			return err
		}
		res, err := tx.q.ExecContext(ctx, `UPDATE outbox SET sending_at = $1 WHERE id = $2 AND due_at = $3 AND sending_at = 0`,
			micros(tx.now), job.ID, micros(job.Due))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		ok = true
		if !counted {
			return nil
		}
		_, err = tx.q.ExecContext(ctx, `
			INSERT INTO mail_counts (user_id, day, sent) VALUES ($1, $2, 1)
			ON CONFLICT (user_id) DO UPDATE SET
				sent = CASE WHEN mail_counts.day = excluded.day THEN mail_counts.sent + 1 ELSE 1 END,
				day = excluded.day`, job.Item.UserID, tx.now.Unix()/86400)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: start mail: %w", err)
	}
	return ok, nil
}

// FinishMail deletes an email's jobs once it is sent, or will never be.
func (s *Store) FinishMail(ctx context.Context, job natter.Job) error {
	_, err := s.Update(ctx, func(t natter.Tx) error {
		return t.(*Tx).dropMail(ctx, job)
	})
	if err != nil {
		return fmt.Errorf("store: finish mail: %w", err)
	}
	return nil
}

// ReleaseMail clears the sending mark of an email the SMTP server surely
// did not take (it refused, or could not be reached), to be tried again.
func (s *Store) ReleaseMail(ctx context.Context, job natter.Job) error {
	if _, err := s.wq.ExecContext(ctx, `UPDATE outbox SET sending_at = 0 WHERE id = $1 AND due_at = $2`,
		job.ID, micros(job.Due)); err != nil {
		return fmt.Errorf("store: release mail: %w", err)
	}
	return nil
}

// OweDigests owes a digest email to every member whose digest is due, who
// has been away (no page seen) for natter.DigestAway, has a verified
// address and something unread; every due digest, sent or not, is next
// due a period later. It reports how many it owed. Instances may call it
// at once: on PostgreSQL each due row is taken by one (SKIP LOCKED).
func (s *Store) OweDigests(ctx context.Context) (int, error) {
	lock := ""
	if s.dialect == Postgres {
		lock = "FOR UPDATE OF ns SKIP LOCKED"
	}
	n := 0
	_, err := s.Update(ctx, func(t natter.Tx) error {
		tx := t.(*Tx)
		n = 0
		type due struct {
			id                 int64
			digest, name, mail string
			owed               bool
		}
		rows, err := tx.q.QueryContext(ctx, `
			SELECT ns.user_id, ns.digest, u.username, u.email,
				u.email_verified = 1 AND u.deleted_at = 0 AND u.last_seen < $2
				AND (u.unread_messages > 0 OR u.unread_activity > 0)
			FROM notification_settings ns JOIN users u ON u.id = ns.user_id
			WHERE ns.digest_due_at > 0 AND ns.digest_due_at <= $1
			ORDER BY ns.digest_due_at LIMIT 500 `+lock,
			micros(tx.now), micros(tx.now.Add(-natter.DigestAway)))
		if err != nil {
			return err
		}
		var list []due
		for rows.Next() {
			var d due
			if err := rows.Scan(&d.id, &d.digest, &d.name, &d.mail, &d.owed); err != nil {
				rows.Close()
				return err
			}
			list = append(list, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, d := range list {
			if d.owed {
				if err := tx.OweMail(ctx, d.id, natter.KindDigest, natter.MailData{To: d.mail, Username: d.name, Period: d.digest}); err != nil {
					return err
				}
				n++
			}
			if _, err := tx.q.ExecContext(ctx, `UPDATE notification_settings SET digest_due_at = $1 WHERE user_id = $2`,
				micros(tx.now.Add(natter.DigestPeriod(d.digest))), d.id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: owe digests: %w", err)
	}
	return n, nil
}

// UnreadItems lists up to limit of the member's unread messages and up to
// limit of their unread mentions, newest first: what a digest shows.
func (s *Store) UnreadItems(ctx context.Context, userID int64, limit int) ([]natter.Item, error) {
	var items []natter.Item
	for _, q := range []struct{ kind, sql string }{
		{natter.KindMessage, `SELECT id FROM messages WHERE recipient_id = $1 AND unread ORDER BY id DESC LIMIT $2`},
		{natter.KindMention, `SELECT post_id FROM activity WHERE user_id = $1 AND unread AND kind = '` + natter.ActivityMention + `' ORDER BY id DESC LIMIT $2`},
	} {
		rows, err := s.rq.QueryContext(ctx, q.sql, userID, limit)
		if err != nil {
			return nil, fmt.Errorf("store: unread items: %w", err)
		}
		for rows.Next() {
			it := natter.Item{UserID: userID, Kind: q.kind}
			if err := rows.Scan(&it.ID); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: unread items: %w", err)
			}
			items = append(items, it)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("store: unread items: %w", err)
		}
	}
	return items, nil
}
