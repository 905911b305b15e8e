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

// memberNamedSQL is the member a name names ($1, its natter.Key), as
// they are called now: the member whose username it is, or who had it
// before renaming themselves; a member who deleted their account names
// nobody. A name is current or former for at most one member, so the two
// halves never both answer. It is the one read of "whom does @name name",
// for pages (Store.MembersNamed, through the cache on SQLite), a new
// post's mentions (Tx.MembersNamed, uncached) and old profile links.
const memberNamedSQL = `
	SELECT id, username FROM users WHERE username_key = $1 AND deleted_at = 0
	UNION ALL
	SELECT u.id, u.username FROM former_names f JOIN users u ON u.id = f.user_id
	WHERE f.name_key = $1 AND u.deleted_at = 0
	LIMIT 1`

// memberNamed runs memberNamedSQL for the name key on db; false if the
// name is nobody's.
func memberNamed(ctx context.Context, db dbtx, key string) (natter.MemberRef, bool, error) {
	var m natter.MemberRef
	err := db.QueryRowContext(ctx, memberNamedSQL, key).Scan(&m.ID, &m.Username)
	if errors.Is(err, sql.ErrNoRows) {
		return natter.MemberRef{}, false, nil
	}
	if err != nil {
		return natter.MemberRef{}, false, fmt.Errorf("store: members named: %w", err)
	}
	return m, true, nil
}

// membersNamed asks find once per distinct name of names (in any case)
// whom it names, and returns the members found keyed by natter.Key(name).
func membersNamed(names []string, find func(key string) (natter.MemberRef, bool, error)) (map[string]natter.MemberRef, error) {
	found := make(map[string]natter.MemberRef, len(names))
	for _, n := range names {
		k := natter.Key(n)
		if _, ok := found[k]; ok {
			continue
		}
		m, ok, err := find(k)
		if err != nil {
			return nil, err
		}
		if ok {
			found[k] = m
		}
	}
	return found, nil
}

// MembersNamed returns, for each of names that is a member's username or
// was one before they renamed themselves, that member as they are called
// now, keyed by natter.Key(name); names that are nobody's are left out.
// Pages ask it for the @mentions of what they show, and for an old
// profile link, a name at a time through one prepared statement; on
// SQLite the answers are kept until a member registers, renames or goes
// (cache.go).
func (s *Store) MembersNamed(ctx context.Context, names []string) (map[string]natter.MemberRef, error) {
	return membersNamed(names, func(k string) (natter.MemberRef, bool, error) {
		m, ok, gen := s.cache.names.get(k)
		if ok {
			return m, m.ID != 0, nil
		}
		m, ok, err := memberNamed(ctx, s.rq, k)
		if err == nil {
			s.cache.names.put(k, m, gen) // the zero MemberRef for nobody
		}
		return m, ok, err
	})
}

// MembersNamed is Store.MembersNamed inside the transaction, for whom a
// new post's @mentions notify: never through the cache, so that it sees
// the transaction's own view (the cache holds what was committed, and is
// told of the transaction's changes only after its commit).
func (tx *Tx) MembersNamed(ctx context.Context, names []string) (map[string]natter.MemberRef, error) {
	return membersNamed(names, func(k string) (natter.MemberRef, bool, error) {
		return memberNamed(ctx, tx.q, k)
	})
}
