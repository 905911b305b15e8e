package store

import (
	"natter/internal/natter"
	"sync"
	"time"
)

// On SQLite natter is the database's only user: one process, and every
// write goes through this Store. So the Store can keep its hottest reads —
// login sessions, members by id, pages of posts — in memory and forget
// them when it changes them itself. On PostgreSQL other instances write
// too, and nothing is kept.
//
// Each cache is told, after every commit, what the transaction changed
// (Tx.userChanged, Tx.postsChanged); a read that began before a commit
// does not keep what it read (readCache's generation), so a cache never
// holds anything older than the last commit that touched it.

// caches are the Store's read caches. On PostgreSQL they are nil: a nil
// readCache keeps nothing.
type caches struct {
	sessions *readCache[string, sessionEntry]
	users    *readCache[int64, natter.Account] // no credentials: Credentials is never cached
	// posts holds the top pages of the timeline and of profiles (not
	// the windows by position deeper down). They change when somebody
	// posts or renames, and are then all forgotten.
	posts *readCache[postsKey, []natter.Post]
	// names answers MembersNamed: a name (natter.Key) → the member it
	// names now, the zero MemberRef for nobody. It changes when a member
	// registers, renames or goes, and is then all forgotten (with the
	// posts, which change then too, and when somebody posts).
	names *readCache[string, natter.MemberRef]
}

func newCaches() *caches {
	return &caches{
		sessions: newReadCache[string, sessionEntry](100_000),
		users:    newReadCache[int64, natter.Account](100_000),
		posts:    newReadCache[postsKey, []natter.Post](1_000),
		names:    newReadCache[string, natter.MemberRef](10_000),
	}
}

type sessionEntry struct {
	data   []byte
	expiry time.Time
	login  natter.Login // what natter knows of it (logins.go)
}

// live reports whether the session still counts at now: neither expired
// nor idle past its IdleUntil (zero for a session nobody logged in to).
func (e sessionEntry) live(now time.Time) bool {
	return e.expiry.After(now) && (e.login.IdleUntil.IsZero() || e.login.IdleUntil.UnixMicro() == 0 || e.login.IdleUntil.After(now))
}

// postsKey is a window of posts: the timeline's (user 0) or one member's.
type postsKey struct {
	user   int64
	window natter.Window
}

// readCache maps keys to what the database held for them. A reader takes
// the generation before it queries and keeps what it read only if no
// change came in between; every change moves the generation on.
type readCache[K comparable, V any] struct {
	mu  sync.Mutex
	max int
	gen uint64
	m   map[K]V
}

func newReadCache[K comparable, V any](max int) *readCache[K, V] {
	return &readCache[K, V]{max: max, m: make(map[K]V)}
}

// get returns the kept value for k, or the generation to keep a fresh
// read under.
func (c *readCache[K, V]) get(k K) (v V, ok bool, gen uint64) {
	if c == nil {
		return v, false, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok = c.m[k]
	return v, ok, c.gen
}

// put keeps v for k if nothing changed since get returned gen. A full
// cache starts again empty: simple, and rare at these sizes.
func (c *readCache[K, V]) put(k K, v V, gen uint64) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[k] = v
}

// forget drops the given keys, or everything if none are given.
func (c *readCache[K, V]) forget(keys ...K) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	if len(keys) == 0 {
		clear(c.m)
	}
	for _, k := range keys {
		delete(c.m, k)
	}
}

// userChanged notes that the transaction writes member id's row, to be
// forgotten by the cache when it commits.
func (tx *Tx) userChanged(id int64) {
	tx.changedUsers = append(tx.changedUsers, id)
}

// postsChanged notes that the transaction changes what lists of posts show
// (a new post, a new name).
func (tx *Tx) postsChanged() { tx.changedPosts = true }

// namesChanged notes that the transaction gives a name to a member (a
// registration); renames and deletions call postsChanged, which also
// forgets the names.
func (tx *Tx) namesChanged() { tx.changedNames = true }

// forgetAll empties every cache: bulk loading wrote around them.
func (c *caches) forgetAll() {
	c.sessions.forget()
	c.users.forget()
	c.posts.forget()
	c.names.forget()
}

// committed tells the caches what a committed transaction changed.
func (c *caches) committed(tx *Tx) {
	if len(tx.changedUsers) > 0 {
		c.users.forget(tx.changedUsers...)
	}
	if tx.changedPosts {
		c.posts.forget()
	}
	if tx.changedPosts || tx.changedNames {
		c.names.forget()
	}
}
