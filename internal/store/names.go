package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"natter/internal/natter"
)

// Former names (migration 0007): when a member renames themselves, the old
// name stays theirs. Their old profile URL and old @mentions lead to them,
// and nobody else can register or take the name, so nobody can inherit
// their history or pass for them. A member may take a former name of
// their own back.

// recordRename keeps the member's old name for them, and frees the new one
// from their own list (renaming back).
func (tx *Tx) recordRename(ctx context.Context, id int64, oldName, newName string) error {
	if natter.Key(oldName) == natter.Key(newName) {
		return nil
	}
	if _, err := tx.q.ExecContext(ctx, `DELETE FROM former_names WHERE name_key = $1 AND user_id = $2`, natter.Key(newName), id); err != nil {
		return fmt.Errorf("store: free former name: %w", err)
	}
	_, err := tx.q.ExecContext(ctx, `
		INSERT INTO former_names (name_key, user_id, renamed_at) VALUES ($1, $2, $3)
		ON CONFLICT (name_key) DO UPDATE SET user_id = excluded.user_id, renamed_at = excluded.renamed_at`,
		natter.Key(oldName), id, micros(tx.now))
	if err != nil {
		return fmt.Errorf("store: keep former name: %w", err)
	}
	return nil
}

// formerNameTaken reports whether another member than self once had the
// name.
func (tx *Tx) formerNameTaken(ctx context.Context, self int64, username string) (bool, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, `SELECT count(*) FROM former_names WHERE name_key = $1 AND user_id <> $2`,
		natter.Key(username), self).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: check former names: %w", err)
	}
	return n > 0, nil
}

// MemberByFormerName returns the member who used to be called username, or
// natter.ErrNotFound.
func (s *Store) MemberByFormerName(ctx context.Context, username string) (natter.Member, error) {
	a, err := scanAccount(s.rq.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM users
		WHERE id = (SELECT user_id FROM former_names WHERE name_key = $1) AND deleted_at = 0`, natter.Key(username)))
	return a.Member(), err
}

// MembersNamed returns, for each of names that is a member's username or
// was one before they renamed themselves, that member as they are called
// now, keyed by natter.Key(name); names that are nobody's are left out.
// Pages ask it for the @mentions of what they show, a name at a time
// through one prepared statement (a name is current or former for at
// most one member, so the two halves never both answer); on SQLite the
// answers are kept until a member registers, renames or goes (cache.go).
func (s *Store) MembersNamed(ctx context.Context, names []string) (map[string]natter.MemberRef, error) {
	found := make(map[string]natter.MemberRef, len(names))
	for _, n := range names {
		k := natter.Key(n)
		if _, ok := found[k]; ok {
			continue
		}
		m, ok, gen := s.cache.names.get(k)
		if ok {
			if m.ID != 0 {
				found[k] = m
			}
			continue
		}
		err := s.rq.QueryRowContext(ctx, `
			SELECT id, username FROM users WHERE username_key = $1 AND deleted_at = 0
			UNION ALL
			SELECT u.id, u.username FROM former_names f JOIN users u ON u.id = f.user_id
			WHERE f.name_key = $1 AND u.deleted_at = 0
			LIMIT 1`, k).Scan(&m.ID, &m.Username)
		if errors.Is(err, sql.ErrNoRows) {
			s.cache.names.put(k, natter.MemberRef{}, gen) // nobody
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("store: members named: %w", err)
		}
		s.cache.names.put(k, m, gen)
		found[k] = m
	}
	return found, nil
}
