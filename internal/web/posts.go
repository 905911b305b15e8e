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

func (s *Server) showIndex(w http.ResponseWriter, r *http.Request) error {
	return s.renderIndex(w, r, http.StatusOK, "", nil)
}

func (s *Server) renderIndex(w http.ResponseWriter, r *http.Request, status int, body string, err error) error {
	posts, perr := s.app.Timeline(r.Context(), pageNumber(r))
	if perr != nil {
		return perr
	}
	p := &indexPage{
		Page:  s.base(r, "Home", "home"),
		Body:  field{Name: "body", Label: "Say something", Type: "textarea", Value: body, Max: app.MaxBodyLen, Required: true, Error: formErrors(err)["body"]},
		Posts: posts,
		Pager: pagerFor(r.URL.Path, posts, "Newer posts", "Older posts"),
	}
	if e, ok := err.(*natter.Error); ok && e.Kind != natter.Invalid {
		p.Error = e.Message
	}
	setRetryAfter(w, err)
	return s.render(w, r, status, "index", p)
}

func (s *Server) createPost(w http.ResponseWriter, r *http.Request) error {
	body := r.PostFormValue("body")
	_, err := s.app.CreatePost(r.Context(), current(r), body)
	switch natter.ErrorKind(err) {
	case natter.Invalid:
		return s.renderIndex(w, r, http.StatusUnprocessableEntity, body, err)
	case natter.RateLimited: // the typed post stays in the form
		return s.renderIndex(w, r, http.StatusTooManyRequests, body, err)
	}
	if err != nil {
		return err
	}
	s.flash(r, "Your post is now live!")
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}
