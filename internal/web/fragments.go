package web

import (
	"html/template"
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
// keyed by their data. A fragment's data is a comparable value holding
// everything the partial shows, and the partial shows nothing else: it
// reads no clock and looks nothing up, and calls only pure functions
// (avatar, asset, segments). Equal data then renders equal HTML, so a kept
// fragment is always the one the templates would produce now; a rename, a
// new count or the passing of a minute is simply new data. Nothing is ever
// invalidated.

// fragmentKey is a fragment's partial template and data.
type fragmentKey struct {
	template string
	data     any // comparable
}

// fragmentCache keeps up to about 2 × max fragments in two generations:
// when the current one is full it becomes the previous one, and a fragment
// found there moves back. Fragments in use stay; the rest age out.
type fragmentCache struct {
	mu        sync.Mutex
	max       int
	cur, prev map[fragmentKey]template.HTML
}

func newFragmentCache(max int) *fragmentCache {
	return &fragmentCache{max: max, cur: make(map[fragmentKey]template.HTML, max)}
}

func (c *fragmentCache) get(k fragmentKey) (template.HTML, bool) {
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

func (c *fragmentCache) put(k fragmentKey, h template.HTML) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(k, h)
}

func (c *fragmentCache) putLocked(k fragmentKey, h template.HTML) {
	if len(c.cur) >= c.max {
		c.prev, c.cur = c.cur, make(map[fragmentKey]template.HTML, c.max)
	}
	c.cur[k] = h
}

// list returns the fragments of the partial name for each of items,
// joined, rendering those it does not keep with render.
func (c *fragmentCache) list(name string, items []any, render func(string, any) (template.HTML, error)) (template.HTML, error) {
	parts := make([]template.HTML, len(items))
	size := 0
	for i, data := range items {
		h, err := c.fragment(name, data, render)
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

// fragment returns the partial name rendered with data: kept, or rendered
// by render and kept.
func (c *fragmentCache) fragment(name string, data any, render func(string, any) (template.HTML, error)) (template.HTML, error) {
	k := fragmentKey{name, data}
	if h, ok := c.get(k); ok {
		return h, nil
	}
	h, err := render(name, data)
	if err != nil {
		return "", err
	}
	c.put(k, h)
	return h, nil
}

// fragment returns the partial template name rendered with data, kept or
// rendered now. data must be comparable and hold all the partial shows.
func (s *Server) fragment(name string, data any) (template.HTML, error) {
	return s.fragments.fragment(name, data, s.renderFragment)
}

// renderFragment renders the partial name with data.
func (s *Server) renderFragment(name string, data any) (template.HTML, error) {
	var b strings.Builder
	if err := s.items.ExecuteTemplate(&b, name, data); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil // produced by html/template: escaped
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
	When   stamp
}

// receivedItem is a received message as /messages shows it ("received").
type receivedItem struct {
	Sender natter.MemberRef
	Body   string
	When   stamp
	Unread bool // until this page showed it
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

// renderPosts renders a list of posts, each a kept fragment: one template
// call for the list rather than two for each post.
func (s *Server) renderPosts(posts []natter.Post) (template.HTML, error) {
	items := make([]any, len(posts))
	for i, p := range posts {
		items[i] = postItem{p.ID, p.Author, p.Body, s.stamp(p.CreatedAt)}
	}
	return s.fragments.list("post", items, s.renderFragment)
}

// renderReceived renders the list of received messages, as renderPosts.
func (s *Server) renderReceived(msgs []natter.Message) (template.HTML, error) {
	items := make([]any, len(msgs))
	for i, m := range msgs {
		items[i] = receivedItem{m.Sender, m.Body, s.stamp(m.CreatedAt), m.Unread}
	}
	return s.fragments.list("received", items, s.renderFragment)
}

func (s *Server) renderPager(p pager) (template.HTML, error) {
	return s.fragment("pager", p)
}

// top is what the top of a page shows, up to <main> (the partial "top").
type top struct {
	Title string
	Bar   navbar
	// Seq is the member's last notification sequence number: the page's
	// counts are as of it (natter.js, data-seq).
	Seq int64
}

func (s *Server) renderTop(title, nav string, me *natter.Account) (template.HTML, error) {
	t := top{Title: title, Bar: navbar{Nav: nav}}
	if me != nil {
		t.Bar.LoggedIn, t.Bar.ID, t.Bar.Username = true, me.ID, me.Username
		t.Bar.UnreadMessages, t.Bar.UnreadActivity = me.UnreadMessages, me.UnreadActivity
		t.Seq = me.NotificationSeq
	}
	return s.fragment("top", t)
}

// renderField renders a form field; an empty one without an error, the
// same for everyone, is kept. What members typed is never kept.
func (s *Server) renderField(f field) (template.HTML, error) {
	if f.Value == "" && f.Error == "" {
		return s.fragment("field", f)
	}
	return s.renderFragment("field", f)
}
