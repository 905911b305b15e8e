package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"natter/internal/app"
	"natter/internal/natter"
)

//go:embed templates
var templateFS embed.FS

// pageTemplate is one page: the layout, the partials and the page's own file.
type pageTemplate struct {
	*template.Template
	entry string // the template to execute: "layout", or the fragment's name
}

// fragments are templates rendered without the layout.
var fragments = map[string]bool{"popup": true}

// parseTemplates parses every page once, at start-up.
func (s *Server) parseTemplates() (map[string]*pageTemplate, error) {
	base, err := template.New("").Funcs(s.funcs()).ParseFS(templateFS, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, err
	}
	// The kept partials' own set, with only pure functions (fragments.go).
	kept, err := template.New("").Funcs(s.fragmentFuncs()).ParseFS(templateFS, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, err
	}
	s.frags = newKeptPartials(kept)
	pages := map[string]*pageTemplate{}
	files, err := fs.Glob(templateFS, "templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		name := f[len("templates/pages/") : len(f)-len(".html")]
		t, err := template.Must(base.Clone()).ParseFS(templateFS, f)
		if err != nil {
			return nil, err
		}
		pages[name] = &pageTemplate{Template: t, entry: "layout"}
	}
	for name := range fragments {
		t, err := template.Must(base.Clone()).ParseFS(templateFS, "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		pages[name] = &pageTemplate{Template: t, entry: name}
	}
	return pages, nil
}

// funcs is the pages' function map: the pure functions, the clock, and the
// kept fragments (fragments.go).
func (s *Server) funcs() template.FuncMap {
	m := s.pureFuncs()
	m["stamp"] = s.stamp
	m["top"] = s.renderTop
	m["field"] = s.renderField
	m["pager"] = s.renderPager
	m["posts"] = s.renderPosts
	m["received"] = s.renderReceived
	m["inbox"] = s.renderInbox
	return m
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// render executes a page into a buffer first, so that a template error
// sends an error page, never half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) error {
	t, ok := s.pages[name]
	if !ok {
		return fmt.Errorf("web: no template %q", name)
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	if err := t.ExecuteTemplate(buf, t.entry, data); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	h := w.Header()
	if t.entry == "layout" {
		s.notices.shown(w, r)
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store") // pages show private counts
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, err := buf.WriteTo(w)
	return err
}

// page is what the layout needs; every page's data holds it as Page. (A
// named field, not an embedded one: text/template finds a promoted field
// through reflect's slow, allocating search on every use.)
type page struct {
	Title string
	Nav   string // which navbar entry is current
	Me    *natter.Account
	Flash string
	// Since is where the page's script polls from, in seconds: a little
	// before the request began (see pollSkew).
	Since string
	// Liked are the posts on the page the member likes (likedOn).
	Liked map[int64]bool
}

// pollSkew is how far before a page's request its script starts polling.
// A notification is stamped with its transaction's start, so one that
// began before the page read its counts and committed after can carry a
// time before the page's; polling from a little earlier fetches it, and
// fetching a notification the page already shows is harmless (it is the
// current value of a named state). The event stream needs no such margin:
// it goes by sequence numbers, and the page gives its own (data-seq).
const pollSkew = 10 * time.Second

func (s *Server) base(r *http.Request, title, nav string) page {
	p := page{Title: title, Nav: nav}
	if u, ok := me(r); ok {
		p.Me = &u
		p.Since = strconv.FormatFloat(float64(since(r).Add(-pollSkew).UnixMicro())/1e6, 'f', 6, 64)
	}
	// render has the browser forget the notice once a page shows it.
	p.Flash = s.notices.read(r)
	return p
}

// field is one labelled form field (the "field" template).
type field struct {
	Name, Label, Type, Value string
	Autocomplete             string
	Error                    string
	// Hint says the field's rules before a submit fails (under the field,
	// tied to it with aria-describedby).
	Hint                string
	Max                 int
	Required, Autofocus bool
}

// withHint is f with the rules it explains before a submit fails.
func withHint(f field, hint string) field {
	f.Hint = hint
	return f
}

// formMessages splits a refusal into what its form shows: a message beside
// each field it names, or, when it names none, one message above the form.
func formMessages(e *natter.Error) (fields map[string]string, msg string) {
	switch {
	case e == nil:
		return nil, ""
	case len(e.Fields) > 0:
		return e.Fields, ""
	}
	return nil, e.Message
}

// pager is the newer/older links under a list.
type pager struct {
	Newer, Older           string
	NewerLabel, OlderLabel string
}

// pagerFor links the neighbours of page p of the list at path: by position
// (?after=, ?before=) on lists paged so, else by the seed's ?page=N.
func pagerFor[T any](path string, p app.Page[T], newer, older string) pager {
	pg := pager{NewerLabel: newer, OlderLabel: older}
	if p.Number == 0 {
		if p.HasPrev {
			pg.Newer = path
			if p.Newer != 0 {
				pg.Newer += "?after=" + strconv.FormatInt(p.Newer, 10)
			}
		}
		if p.HasNext {
			pg.Older = path + "?before=" + strconv.FormatInt(p.Older, 10)
		}
		return pg
	}
	link := func(n int) string {
		if n == 1 {
			return path
		}
		return path + "?" + url.Values{"page": {strconv.Itoa(n)}}.Encode()
	}
	if p.HasPrev {
		pg.Newer = link(p.Number - 1)
	}
	if p.HasNext {
		pg.Older = link(p.Number + 1)
	}
	return pg
}

// listPosition reads where a page of a list paged by position starts:
// ?before=ID or ?after=ID, as its links say, or the seed's ?page=N.
func listPosition(r *http.Request) (app.Position, error) {
	q := r.URL.Query()
	return app.ParsePosition(q.Get("page"), q.Get("before"), q.Get("after"))
}

// pageNumber reads ?page=N on the lists paged by number: absent or empty
// is page 1; what is not a number reads as 0, which the app refuses as it
// refuses any page out of range (Malformed, as on every list).
func pageNumber(r *http.Request) int {
	v := r.URL.Query().Get("page")
	if v == "" {
		return 1
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0
	}
	return n
}

// ago renders t relative to now the way natter.js does, so that the text is
// right without JavaScript and does not change when the script takes over.
func ago(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute") + " ago"
	case d < 24*time.Hour:
		return plural(int(d/time.Hour), "hour") + " ago"
	case d < 48*time.Hour:
		return "yesterday"
	case d < 7*24*time.Hour:
		return plural(int(d/(24*time.Hour)), "day") + " ago"
	}
	return t.UTC().Format("Jan 2, 2006")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

type errorPage struct {
	Page             page
	Status           int
	Heading, Message string
}
