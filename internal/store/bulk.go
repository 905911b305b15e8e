package store

// Bulk loading, for the benchmark tool (cmd/natter-load, a module of its
// own): members by the thousand and posts and messages by the million, in
// big transactions, without the use cases. Nothing in the site uses it; it
// lives here because all of natter's SQL does.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"natter/internal/natter"
)

// A BulkLoader writes rows straight into the tables, past the use cases,
// and then tells the Store's caches that rows came in behind their back:
// each method returns only once they have forgotten everything they held,
// so the Store it came from reads the new rows. What it writes looks to the
// rest of natter exactly like what the use cases write. It is meant for a
// database that is being prepared, not one that members are using: a read
// running beside a load may keep what it read before the load.
type BulkLoader struct {
	s *Store
}

// BulkLoader returns a loader that writes through s.
func (s *Store) BulkLoader() *BulkLoader { return &BulkLoader{s: s} }

// wroteAround tells the caches that rows were written past them.
func (l *BulkLoader) wroteAround() { l.s.cache.forgetAll() }

// bulkTxRows is how many rows one bulk transaction writes.
const bulkTxRows = 200_000

// BulkUsername is the name BulkLoader.CreateUsers gives member i (0-based) of a
// batch made with prefix: the prefix and a zero-padded number, so that
// names sort in creation order.
func BulkUsername(prefix string, i int) string {
	return fmt.Sprintf("%s%07d", prefix, i+1)
}

// CreateUsers inserts n members named BulkUsername(prefix, 0..n-1), with
// email <name>@bench.invalid and the given password hash, and returns them
// in that order. prefix must be lower-case letters, digits or underscores,
// and the names must not exist yet.
func (l *BulkLoader) CreateUsers(ctx context.Context, prefix string, n int, passwordHash string) ([]natter.MemberRef, error) {
	s := l.s
	defer l.wroteAround()
	if n <= 0 {
		return nil, nil
	}
	if !regexp.MustCompile(`^[a-z0-9_]{1,20}$`).MatchString(prefix) || n > 9_999_999 {
		return nil, fmt.Errorf("store: bulk users: bad prefix %q or count %d", prefix, n)
	}
	now := micros(s.now())
	err := s.bulkInsert(ctx, "users",
		[]string{"username", "username_key", "email", "email_key", "password_hash", "created_at", "last_seen"},
		n, func(i int, row []any) {
			name := BulkUsername(prefix, i)
			email := name + "@bench.invalid"
			row[0], row[1], row[2], row[3], row[4], row[5], row[6] = name, name, email, email, passwordHash, now, now
		})
	if err != nil {
		return nil, fmt.Errorf("store: bulk users: %w", err)
	}
	rows, err := s.write.QueryContext(ctx, `SELECT id, username FROM users
		WHERE username_key >= $1 AND username_key <= $2 ORDER BY username_key`,
		BulkUsername(prefix, 0), BulkUsername(prefix, n-1))
	if err != nil {
		return nil, fmt.Errorf("store: bulk users: %w", err)
	}
	defer rows.Close()
	users := make([]natter.MemberRef, 0, n)
	for rows.Next() {
		var u natter.MemberRef
		if err := rows.Scan(&u.ID, &u.Username); err != nil {
			return nil, fmt.Errorf("store: bulk users: %w", err)
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: bulk users: %w", err)
	}
	if len(users) != n {
		return nil, fmt.Errorf("store: bulk users: created %d, found %d", n, len(users))
	}
	return users, nil
}

// BulkSession is one logged-in session for BulkLoader.Sessions to create:
// the cookie value and the member it belongs to.
type BulkSession struct {
	Token  string
	UserID int64
}

// Sessions writes login sessions exactly as the session manager would
// after a login: SessionCodec's encoding of "user_id" set to the member's
// id. A client that sends the cookie natter_session=<Token> is then logged
// in, without paying for one password hash per member.
func (l *BulkLoader) Sessions(ctx context.Context, sessions []BulkSession, expiry time.Time) error {
	defer l.wroteAround()
	var encErr error
	now := micros(l.s.now())
	// The login columns too (logins.go): a session with no login behind
	// it is nobody's. Remembered, idle only at expiry.
	err := l.s.bulkInsert(ctx, "sessions", []string{"token", "data", "expiry", "user_id", "remember", "created_at", "last_active", "idle_until"}, len(sessions), func(i int, row []any) {
		data, err := SessionCodec{}.Encode(expiry, map[string]any{"user_id": sessions[i].UserID})
		if err != nil {
			encErr = err
		}
		row[0], row[1], row[2] = sessions[i].Token, data, micros(expiry)
		row[3], row[4], row[5], row[6], row[7] = sessions[i].UserID, 1, now, now, micros(expiry)
	})
	if err = errors.Join(encErr, err); err != nil {
		return fmt.Errorf("store: bulk sessions: %w", err)
	}
	return nil
}

// IDRange is the members with ids First to First+N-1 (CreateUsers makes
// such a range on a fresh database).
type IDRange struct {
	First int64
	N     int
}

// GeneratePosts inserts posts number from to to-1 of a synthetic timeline,
// generating the rows inside the database (no per-row parameters; about
// six times faster than multi-row INSERTs on SQLite), 200,000 per
// transaction: post k is by member First + k mod N of authors, reads
// bodies[k mod len(bodies)], and is dated k seconds after start, so that
// dates follow ids as they do on a live site.
func (l *BulkLoader) GeneratePosts(ctx context.Context, from, to int, authors IDRange, start time.Time, bodies []string) error {
	s := l.s
	defer l.wroteAround()
	if authors.N < 1 {
		return errors.New("store: generate posts: no authors")
	}
	err := s.bulkGenerate(ctx, from, to, bodies, func(k, body string) string {
		return `INSERT INTO posts (user_id, body, created_at)
			SELECT ` + fmt.Sprintf("%d + (%s %% %d)", authors.First, k, authors.N) + `, ` + body + `, ` +
			fmt.Sprintf("%d + %s * 1000000", micros(start), k)
	})
	if err != nil {
		return fmt.Errorf("store: generate posts: %w", err)
	}
	return nil
}

// GenerateMessages is GeneratePosts for private messages among members:
// message k is from member a = k mod N to member (a + 1 + (k div N) mod
// peers) mod N (so each member writes to peers others), reads bodies[k mod
// len(bodies)], is dated k seconds after start, and is read. Both sides of
// every conversation touched are brought up to date with its latest
// message; unread counts stay as they were. No notification-centre entries
// are written.
func (l *BulkLoader) GenerateMessages(ctx context.Context, from, to int, members IDRange, peers int, start time.Time, bodies []string) error {
	s := l.s
	defer l.wroteAround()
	if peers < 1 || peers >= members.N {
		return fmt.Errorf("store: generate messages: bad peers %d for %d members", peers, members.N)
	}
	firstID, err := s.nextMessageID(ctx)
	if err != nil {
		return err
	}
	err = s.bulkGenerate(ctx, from, to, bodies, func(k, body string) string {
		a := fmt.Sprintf("(%s %% %d)", k, members.N)
		return `INSERT INTO messages (sender_id, recipient_id, body, created_at)
			SELECT ` + fmt.Sprintf("%d + %s, %d + (%s + 1 + (%s / %d) %% %d) %% %d", members.First, a,
			members.First, a, k, members.N, peers, members.N) + `, ` + body + `, ` +
			fmt.Sprintf("%d + %s * 1000000", micros(start), k)
	})
	if err != nil {
		return fmt.Errorf("store: generate messages: %w", err)
	}
	return s.bulkConversations(ctx, firstID)
}

func (s *Store) nextMessageID(ctx context.Context) (int64, error) {
	var id int64
	if err := s.write.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) + 1 FROM messages`).Scan(&id); err != nil {
		return 0, fmt.Errorf("store: bulk messages: %w", err)
	}
	return id, nil
}

// bulkConversations brings both sides of every conversation with messages
// from id firstID on up to date with its latest message, keeping unread
// counts.
func (s *Store) bulkConversations(ctx context.Context, firstID int64) error {
	for _, q := range []string{
		`INSERT INTO conversations (user_id, peer_id, last_message_id, unread)
		 SELECT sender_id, recipient_id, MAX(id), 0 FROM messages WHERE id >= $1
		 GROUP BY sender_id, recipient_id
		 ON CONFLICT (user_id, peer_id) DO UPDATE SET last_message_id = excluded.last_message_id`,
		`INSERT INTO conversations (user_id, peer_id, last_message_id, unread)
		 SELECT recipient_id, sender_id, MAX(id), 0 FROM messages WHERE id >= $1
		 GROUP BY sender_id, recipient_id
		 ON CONFLICT (user_id, peer_id) DO UPDATE
		 SET last_message_id = CASE WHEN excluded.last_message_id > conversations.last_message_id
		     THEN excluded.last_message_id ELSE conversations.last_message_id END`,
	} {
		// (The WHERE clause also keeps SQLite from reading ON CONFLICT as a
		// join constraint of the SELECT.)
		if _, err := s.write.ExecContext(ctx, q, firstID); err != nil {
			return fmt.Errorf("store: bulk conversations: %w", err)
		}
	}
	return nil
}

// bulkGenerate runs the INSERT ... SELECT that insert(k, body) returns once
// per transaction of bulkTxRows rows, with k the SQL expression of the row
// number (from $1 to $2 inclusive, generated by the database) and body the
// expression choosing one of bodies ($3 and up).
func (s *Store) bulkGenerate(ctx context.Context, from, to int, bodies []string, insert func(k, body string) string) error {
	if to <= from {
		return nil
	}
	if len(bodies) == 0 {
		return errors.New("no bodies")
	}
	var body strings.Builder
	body.WriteString("CASE i % " + strconv.Itoa(len(bodies)))
	for j := range bodies {
		fmt.Fprintf(&body, " WHEN %d THEN $%d", j, j+3)
	}
	body.WriteString(" END")
	gen := `WITH RECURSIVE c(i) AS (SELECT $1 UNION ALL SELECT i + 1 FROM c WHERE i < $2) `
	from1 := " FROM c"
	bodyExpr := body.String()
	if s.dialect == Postgres {
		gen, from1 = "", " FROM generate_series($1::bigint, $2::bigint) AS c(i)"
		bodyExpr = strings.ReplaceAll(bodyExpr, " END", "::text END")
	}
	query := gen + insert("i", bodyExpr) + from1
	return s.withBulkConn(ctx, func(conn *sql.Conn) error {
		for lo := from; lo < to; lo += bulkTxRows {
			hi := min(to, lo+bulkTxRows)
			args := []any{int64(lo), int64(hi - 1)}
			for _, b := range bodies {
				args = append(args, b)
			}
			tx, err := conn.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, query, args...); err != nil {
				tx.Rollback()
				return err
			}
			if err := tx.Commit(); err != nil {
				return err
			}
		}
		return nil
	})
}

// Counts reports how many posts and messages the database holds.
func (l *BulkLoader) Counts(ctx context.Context) (posts, messages int64, err error) {
	err = l.s.read.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM posts), (SELECT COUNT(*) FROM messages)`).Scan(&posts, &messages)
	if err != nil {
		err = fmt.Errorf("store: counts: %w", err)
	}
	return posts, messages, err
}

// bulkInsert inserts n rows into table, row i filled by fill(i, row), as
// multi-row INSERTs of up to a few hundred rows in transactions of
// bulkTxRows rows.
func (s *Store) bulkInsert(ctx context.Context, table string, cols []string, n int, fill func(i int, row []any)) error {
	if n <= 0 {
		return nil
	}
	// SQLite allows 32766 parameters per statement, PostgreSQL 65535.
	perStmt := min(500, 30000/len(cols))
	return s.withBulkConn(ctx, func(conn *sql.Conn) error {
		return bulkInsertConn(ctx, conn, table, cols, n, perStmt, fill)
	})
}

func bulkInsertConn(ctx context.Context, conn *sql.Conn, table string, cols []string, n, perStmt int, fill func(i int, row []any)) error {
	stmtFor := func(rows int) string {
		var b strings.Builder
		b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
		p := 1
		for r := 0; r < rows; r++ {
			if r > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('(')
			for c := range cols {
				if c > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, "$%d", p)
				p++
			}
			b.WriteByte(')')
		}
		return b.String()
	}
	full := stmtFor(perStmt)
	args := make([]any, perStmt*len(cols))
	for done := 0; done < n; {
		txEnd := min(n, done+bulkTxRows)
		err := func() error {
			tx, err := conn.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			var stmt *sql.Stmt
			for done < txEnd {
				rows := min(perStmt, txEnd-done)
				a := args[:rows*len(cols)]
				for r := 0; r < rows; r++ {
					fill(done+r, a[r*len(cols):(r+1)*len(cols)])
				}
				if rows == perStmt {
					if stmt == nil {
						if stmt, err = tx.PrepareContext(ctx, full); err != nil {
							return err
						}
						defer stmt.Close()
					}
					_, err = stmt.ExecContext(ctx, a...)
				} else {
					_, err = tx.ExecContext(ctx, stmtFor(rows), a...)
				}
				if err != nil {
					return err
				}
				done += rows
			}
			return tx.Commit()
		}()
		if err != nil {
			return err
		}
	}
	return nil
}

// withBulkConn runs fn on one connection of the writer. On SQLite its page
// cache is raised to 1 GiB for the duration, so that index pages stay in
// memory while millions of rows go in.
func (s *Store) withBulkConn(ctx context.Context, fn func(*sql.Conn) error) error {
	conn, err := s.write.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if s.dialect == SQLite {
		var old int64
		if err := conn.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&old); err != nil {
			return err
		}
		if _, err := conn.ExecContext(ctx, `PRAGMA cache_size = -1048576`); err != nil {
			return err
		}
		defer conn.ExecContext(context.Background(), fmt.Sprintf(`PRAGMA cache_size = %d`, old))
	}
	return fn(conn)
}

// GenerateLikes has every member of likers like the post postID, and
// counts them on the post, as that many Like calls would.
func (l *BulkLoader) GenerateLikes(ctx context.Context, postID int64, likers IDRange, at time.Time) error {
	s := l.s
	defer l.wroteAround()
	err := s.bulkInsert(ctx, "likes", []string{"post_id", "user_id", "created_at"}, likers.N, func(i int, row []any) {
		row[0], row[1], row[2] = postID, likers.First+int64(i), micros(at)
	})
	if err == nil {
		_, err = s.wq.ExecContext(ctx, `UPDATE posts SET likes = likes + $1 WHERE id = $2`, likers.N, postID)
	}
	if err != nil {
		return fmt.Errorf("store: generate likes: %w", err)
	}
	return nil
}
