package web

import (
	"fmt"
	"html/template"
	"reflect"
	"strings"
	"sync"
	"time"

	"natter/internal/natter"
)

// Rendering through html/template costs more than reading a page's rows
// from the database: every action of a template runs its escapers through
// reflection, and a timeline page has a few hundred. Much of a page is the
// same from one request to the next, though: the <head>, the navbar of a
// member whose counts have not changed, an empty form field, the posts of
// the timeline, which look the same to everyone.
//
// Those pieces are fragments: partial templates rendered once and kept,
// keyed by their data. A fragment's data is a value holding everything the
// partial shows, and the partial shows nothing else. Equal data then renders
// equal HTML, so a kept fragment is always the one the templates would
// produce now; a rename, a new count or the passing of a minute is simply
// new data. Nothing is ever invalidated.
//
// Those rules hold by construction, not by convention:
//   - Each partial is a partial[D], its cache keyed by D itself; D must be
//     comparable (the compiler checks), and newPartial refuses at start-up
//     a D holding an interface or a pointer, which would compare by
//     identity or panic in a map (time.Time, compared by instant and zone,
//     is the one exception).
//   - The kept partials are parsed into their own set, whose function map
//     holds only pure functions (fragmentFuncs). The clock (stamp) is not
//     among them: a kept partial that asked for it would fail its first
//     render, and every test that renders it, rather than keep "3 minutes
//     ago" for ever.
//
// What is kept: the top of each page (a member's name and counts), the
// pager, empty form fields, and the posts, received messages and inbox rows
// of the lists as rendered, their bodies included, until they age out of
// the cache.
// Fields holding what a member typed into a form are never kept.

// partial is a partial template whose renderings are kept by their data D.
type partial[D comparable] struct {
	name  string
	set   *template.Template // the kept partials' set (fragmentFuncs)
	cache *fragmentCache[D]
}

// newPartial returns the partial template name of set, keeping up to about
// 2 × max renderings. It panics if D could make two different renderings
// look equal, or panic as a map key: a programming error, found at start-up.
func newPartial[D comparable](set *template.Template, name string, max int) *partial[D] {
	if err := checkFragmentData(reflect.TypeFor[D]()); err != nil {
		panic(fmt.Sprintf("web: partial %q: %v", name, err))
	}
	if set.Lookup(name) == nil {
		panic(fmt.Sprintf("web: no partial %q", name))
	}
	return &partial[D]{name: name, set: set, cache: newFragmentCache[D](max)}
}

// checkFragmentData refuses data types whose == is not "shows the same":
// interfaces (which also panic as map keys when they hold a slice) and
// pointers (equal when the same, however what they point to changes).
func checkFragmentData(t reflect.Type) error {
	if t == reflect.TypeFor[time.Time]() {
		return nil
	}
	switch t.Kind() {
	case reflect.Interface, reflect.Pointer, reflect.UnsafePointer:
		return fmt.Errorf("its data holds a %s, which is compared by identity", t)
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if err := checkFragmentData(f.Type); err != nil {
				return fmt.Errorf("field %s: %w", f.Name, err)
			}
		}
	case reflect.Array:
		return checkFragmentData(t.Elem())
	}
	return nil
}

// render returns the partial rendered with d: kept, or rendered now and
// kept.
func (p *partial[D]) render(d D) (template.HTML, error) {
	if h, ok := p.cache.get(d); ok {
		return h, nil
	}
	h, err := p.renderNow(d)
	if err != nil {
		return "", err
	}
	p.cache.put(d, h)
	return h, nil
}

// renderNow renders the partial with d, keeping nothing.
func (p *partial[D]) renderNow(d D) (template.HTML, error) {
	var b strings.Builder
	if err := p.set.ExecuteTemplate(&b, p.name, d); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil // produced by html/template: escaped
}

// list returns the partial rendered for each of ds, joined: one template
// call for a list rather than two for each item.
func (p *partial[D]) list(ds []D) (template.HTML, error) {
	parts := make([]template.HTML, len(ds))
	size := 0
	for i, d := range ds {
		h, err := p.render(d)
		if err != nil {
			return "", err
		}
		parts[i] = h
		size += len(h)
	}
	var b strings.Builder
	b.Grow(size)
	for _, h := range parts {
		b.WriteString(string(h))
	}
	return template.HTML(b.String()), nil
}

// fragmentCache keeps up to about 2 × max fragments in two generations:
// when the current one is full it becomes the previous one, and a fragment
// found there moves back. Fragments in use stay; the rest age out.
type fragmentCache[D comparable] struct {
	mu        sync.Mutex
	max       int
	cur, prev map[D]template.HTML
}

func newFragmentCache[D comparable](max int) *fragmentCache[D] {
	return &fragmentCache[D]{max: max, cur: make(map[D]template.HTML, max)}
}

func (c *fragmentCache[D]) get(k D) (template.HTML, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h, ok := c.cur[k]; ok {
		return h, true
	}
	h, ok := c.prev[k]
	if ok {
		c.putLocked(k, h)
	}
	return h, ok
}

func (c *fragmentCache[D]) put(k D, h template.HTML) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(k, h)
}

func (c *fragmentCache[D]) putLocked(k D, h template.HTML) {
	if len(c.cur) >= c.max {
		c.prev, c.cur = c.cur, make(map[D]template.HTML, c.max)
	}
	c.cur[k] = h
}

// keptPartials are the partials whose renderings are kept. A generation of posts holds at about
// 700 bytes each some 3 MB; one of inbox rows, whose data holds their
// messages' HTML, at up to 4 KB a row (key and rendering) about as much;
// the others are smaller.
type keptPartials struct {
	top      *partial[top]
	field    *partial[field]
	pager    *partial[pager]
	post     *partial[postItem]
	received *partial[receivedItem]
	inboxRow *partial[inboxRow]
}

func newKeptPartials(set *template.Template) *keptPartials {
	return &keptPartials{
		top:      newPartial[top](set, "top", 2000),
		field:    newPartial[field](set, "field", 100),
		pager:    newPartial[pager](set, "pager", 500),
		post:     newPartial[postItem](set, "post", 4000),
		received: newPartial[receivedItem](set, "received", 2000),
		inboxRow: newPartial[inboxRow](set, "inbox-row", 1000),
	}
}

// pureFuncs are the template functions whose results depend on their
// arguments alone: the only ones a kept partial may call.
func (s *Server) pureFuncs() template.FuncMap {
	return template.FuncMap{
		"asset":    s.assetURL, // fingerprinted at start-up
		"avatar":   avatarURL,
		"iso":      func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"fulltime": func(t time.Time) string { return t.UTC().Format("Monday, 2 January 2006 at 15:04 UTC") },
		"day":      func(t time.Time) string { return t.UTC().Format("2 January 2006") },
		"text":     text,
	}
}

// fragmentFuncs is the kept partials' function map: pureFuncs, and in place
// of every other function of the pages (the clock, the fragments
// themselves) one that fails the render.
func (s *Server) fragmentFuncs() template.FuncMap {
	m := s.pureFuncs()
	for name := range s.funcs() {
		if _, ok := m[name]; !ok {
			m[name] = func(...any) (string, error) {
				return "", fmt.Errorf("web: a kept fragment may not call %s: its rendering would depend on more than its data", name)
			}
		}
	}
	return m
}

// stamp is a time as pages show it: the time itself (machine-readable in
// <time datetime>, in full in its title) and, as the text, how long ago it
// was ("3 minutes ago"), which is right without JavaScript and which
// natter.js keeps fresh.
type stamp struct {
	At  time.Time
	Ago string
}

func (s *Server) stamp(t time.Time) stamp {
	return stamp{At: t, Ago: ago(t, s.app.Now())}
}

// postItem is a post as a list shows it (the partial "post").
type postItem struct {
	ID     int64 // its time links to its page, /post/{id}
	Author natter.MemberRef
	Body   string
	// Mentioned: who its @names name now. A member who registers or
	// renames later makes new data, so a new fragment, as a new time does.
	Mentioned natter.Mentions
	When      stamp
	// The post it answers (0: none) and that post's author (zero ID:
	// gone with their account); its counts; whether it was edited.
	ReplyTo        int64
	ReplyToAuthor  natter.MemberRef
	Likes, Replies int
	Edited         bool
	// For the member looking: they like it; it is theirs (they may
	// delete it) and still editable.
	Liked, Mine, Editable bool
}

// receivedItem is a received message as /messages shows it ("received"):
// its time only in full, in its title, so no "3 minutes ago" to go stale.
type receivedItem struct {
	Body   string
	At     time.Time
	Unread bool // until this page showed it
}

// inboxRow is a row of the inbox as /messages shows it ("inbox-row"): a
// conversation's messages of the page under the peer's avatar and name.
type inboxRow struct {
	Peer natter.MemberRef
	When stamp // of the newest message the row shows
	// Unread: how many of Messages were unread until this page showed
	// them ("2 new").
	Unread int
	// Reply is the member's own last message to Peer, shown on top
	// ("You: ..."), when HasReply.
	Reply    string
	HasReply bool
	// Messages are the row's received messages, rendered (each a kept
	// "received"): equal HTML is equal data.
	Messages template.HTML
}

// navbar is what the navbar shows.
type navbar struct {
	Nav      string // the current entry
	LoggedIn bool
	ID       int64
	Username string
	// The badges' counts.
	UnreadMessages, UnreadActivity int
}

// Unread is what the tab's title counts and its icon's dot shows, with or
// without JavaScript: everything unread ("(3) Home · natter").
func (b navbar) Unread() int { return b.UnreadMessages + b.UnreadActivity }

// The template functions that render fragments.

// renderPosts renders a list of posts as pg's member sees them (their
// likes, their own posts), each a kept fragment.
func (s *Server) renderPosts(posts []natter.Post, pg page) (template.HTML, error) {
	items := make([]postItem, len(posts))
	for i, p := range posts {
		items[i] = s.postItem(p, pg)
	}
	return s.frags.post.list(items)
}

func (s *Server) postItem(p natter.Post, pg page) postItem {
	it := postItem{ID: p.ID, Author: p.Author, Body: p.Body, Mentioned: p.Mentioned, When: s.stamp(p.CreatedAt),
		ReplyTo: p.ReplyTo, ReplyToAuthor: p.ReplyToAuthor, Likes: p.Likes, Replies: p.Replies,
		Edited: !p.EditedAt.IsZero(), Liked: pg.Liked[p.ID]}
	if pg.Me != nil && pg.Me.ID == p.Author.ID {
		it.Mine, it.Editable = true, s.app.Editable(*pg.Me, p)
	}
	return it
}

// renderReceived renders the list of received messages, as renderPosts.
func (s *Server) renderReceived(msgs []natter.Message) (template.HTML, error) {
	items := make([]receivedItem, len(msgs))
	for i, m := range msgs {
		items[i] = receivedItem{m.Body, m.CreatedAt, m.Unread}
	}
	return s.frags.received.list(items)
}

// renderInbox renders the rows of the inbox, each a kept fragment holding
// its messages, each kept too: one template call for the list.
func (s *Server) renderInbox(groups []inboxGroup) (template.HTML, error) {
	rows := make([]inboxRow, len(groups))
	for i, g := range groups {
		msgs, err := s.renderReceived(g.Messages)
		if err != nil {
			return "", err
		}
		rows[i] = inboxRow{Peer: g.Peer, When: s.stamp(g.Latest().CreatedAt), Unread: g.Unread,
			Reply: g.Reply.Body, HasReply: g.Reply.ID != 0, Messages: msgs}
	}
	return s.frags.inboxRow.list(rows)
}

func (s *Server) renderPager(p pager) (template.HTML, error) {
	return s.frags.pager.render(p)
}

// top is what the top of a page shows, up to <main> (the partial "top").
type top struct {
	Title string
	Site  string // the site's name (Config.SiteName), in the title and the brand
	Bar   navbar
	// Seq is the member's last notification sequence number: the page's
	// counts are as of it (natter.js, data-seq).
	Seq int64
}

func (s *Server) renderTop(title, nav string, me *natter.Account) (template.HTML, error) {
	t := top{Title: title, Site: s.cfg.SiteName, Bar: navbar{Nav: nav}}
	if me != nil {
		t.Bar.LoggedIn, t.Bar.ID, t.Bar.Username = true, me.ID, me.Username
		t.Bar.UnreadMessages, t.Bar.UnreadActivity = me.UnreadMessages, me.UnreadActivity
		t.Seq = me.NotificationSeq
	}
	return s.frags.top.render(t)
}

// renderField renders a form field; an empty one without an error, the
// same for everyone, is kept. What members typed is never kept.
func (s *Server) renderField(f field) (template.HTML, error) {
	if f.Value == "" && f.Error == "" {
		return s.frags.field.render(f)
	}
	return s.frags.field.renderNow(f)
}
