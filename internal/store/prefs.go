package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"natter/internal/natter"
)

// Prefs returns the member's notification preferences; a member who never
// set them has natter.DefaultPrefs.
func (s *Store) Prefs(ctx context.Context, userID int64) (natter.Prefs, error) {
	return prefs(ctx, s.rq, userID)
}

// Prefs are the member's notification preferences as the transaction sees
// them, for what it owes them.
func (tx *Tx) Prefs(ctx context.Context, userID int64) (natter.Prefs, error) {
	return prefs(ctx, tx.q, userID)
}

func prefs(ctx context.Context, db dbtx, userID int64) (natter.Prefs, error) {
	p := natter.DefaultPrefs()
	rows, err := db.QueryContext(ctx, `SELECT kind, push, email FROM notification_prefs WHERE user_id = $1`, userID)
	if err != nil {
		return p, fmt.Errorf("store: prefs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind, email string
		var push int
		if err := rows.Scan(&kind, &push, &email); err != nil {
			return p, fmt.Errorf("store: prefs: %w", err)
		}
		p.Kinds[kind] = natter.KindPrefs{Push: push != 0, Email: natter.EmailLevel(email)}
	}
	if err := rows.Err(); err != nil {
		return p, fmt.Errorf("store: prefs: %w", err)
	}
	var previews int
	err = db.QueryRowContext(ctx, `SELECT quiet_from, quiet_to, time_zone, previews, digest FROM notification_settings WHERE user_id = $1`,
		userID).Scan(&p.QuietFrom, &p.QuietTo, &p.TimeZone, &previews, &p.Digest)
	switch {
	case err == nil:
		p.Previews = previews != 0
	case errors.Is(err, sql.ErrNoRows):
	default:
		return p, fmt.Errorf("store: prefs: %w", err)
	}
	return p, nil
}

// SetPrefs replaces the member's notification preferences.
func (tx *Tx) SetPrefs(ctx context.Context, userID int64, p natter.Prefs) error {
	for kind, k := range p.Kinds {
		_, err := tx.q.ExecContext(ctx, `
			INSERT INTO notification_prefs (user_id, kind, push, email) VALUES ($1, $2, $3, $4)
			ON CONFLICT (user_id, kind) DO UPDATE SET push = excluded.push, email = excluded.email`,
			userID, kind, boolInt(k.Push), string(k.Email))
		if err != nil {
			return fmt.Errorf("store: set prefs: %w", err)
		}
	}
	// A digest turned on is first due a period from now; one left as it
	// was keeps its time.
	var due int64
	if p.Digest != "" {
		due = micros(tx.now.Add(natter.DigestPeriod(p.Digest)))
	}
	_, err := tx.q.ExecContext(ctx, `
		INSERT INTO notification_settings (user_id, quiet_from, quiet_to, time_zone, previews, digest, digest_due_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (user_id) DO UPDATE SET quiet_from = excluded.quiet_from, quiet_to = excluded.quiet_to,
			time_zone = excluded.time_zone, previews = excluded.previews, digest = excluded.digest,
			digest_due_at = CASE WHEN notification_settings.digest = excluded.digest
				THEN notification_settings.digest_due_at ELSE excluded.digest_due_at END`,
		userID, p.QuietFrom, p.QuietTo, p.TimeZone, boolInt(p.Previews), p.Digest, due)
	if err != nil {
		return fmt.Errorf("store: set prefs: %w", err)
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
