package web

import (
	"net/http"

	"natter/internal/app"
	"natter/internal/natter"
)

type indexPage struct {
	Page  page
	Error string // a refusal that is not the field's (too many posts)
	Body  field
	Posts app.Page[natter.Post]
	Pager pager
}

// frontPage is what a visitor who is not logged in sees at /: what this
// site is, and the ways in.
type frontPage struct {
	Page              page
	Name, Description string
}

// showHome is /: the timeline for members (the seed's index), and for
// anyone else the front page, rather than a bare redirect to the login
// form. /index stays the seed's, members only.
func (s *Server) showHome(w http.ResponseWriter, r *http.Request) error {
	if _, ok := me(r); ok {
		return s.showIndex(w, r)
	}
	return s.render(w, r, http.StatusOK, "front", &frontPage{
		Page:        s.base(r, "Welcome", "front"),
		Name:        s.cfg.SiteName,
		Description: s.cfg.SiteDescription,
	})
}

func (s *Server) showIndex(w http.ResponseWriter, r *http.Request) error {
	return s.renderIndex(w, r, http.StatusOK, "", nil)
}

func (s *Server) renderIndex(w http.ResponseWriter, r *http.Request, status int, body string, refused *natter.Error) error {
	pos, perr := listPosition(r)
	if perr != nil {
		return perr
	}
	posts, perr := s.app.Timeline(r.Context(), pos)
	if perr != nil {
		return perr
	}
	fields, msg := formMessages(refused)
	p := &indexPage{
		Page:  s.base(r, "Home", "home"),
		Error: msg,
		Body:  field{Name: "body", Label: "Say something", Type: "textarea", Value: body, Max: app.MaxBodyLen, Required: true, Error: fields["body"]},
		Posts: posts,
		Pager: pagerFor(r.URL.Path, posts, "Newer posts", "Older posts"),
	}
	if err := s.likedOn(r, &p.Page, posts.Items); err != nil {
		return err
	}
	return s.render(w, r, status, "index", p)
}

func (s *Server) createPost(w http.ResponseWriter, r *http.Request) error {
	body := r.PostFormValue("body")
	_, err := s.app.CreatePost(r.Context(), current(r), body)
	if e, status, ok := refusal(w, err); ok { // the typed post stays in the form
		return s.renderIndex(w, r, status, body, e)
	}
	if err != nil {
		return err
	}
	s.notice(w, "Your post is now live!")
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}
