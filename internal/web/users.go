package web

import (
	"net/http"
	"net/url"

	"natter/internal/app"
	"natter/internal/natter"
)

type userPage struct {
	Page    page
	Profile app.Profile
	IsMe    bool
	Pager   pager
}

// ShowLastSeen: a member who hides when they were last seen still sees it
// themselves.
func (p *userPage) ShowLastSeen() bool { return p.IsMe || !p.Profile.Member.HideLastSeen }

func (s *Server) showUser(w http.ResponseWriter, r *http.Request) error {
	viewer := current(r)
	pos, err := listPosition(r)
	if err != nil {
		return err
	}
	p, err := s.app.Profile(r.Context(), viewer, r.PathValue("username"), pos)
	if err != nil {
		return s.renamed(w, r, "", err)
	}
	isMe := p.Member.ID == viewer.ID
	nav := ""
	if isMe {
		nav = "me"
	}
	page := &userPage{
		Page:    s.base(r, p.Member.Username, nav),
		Profile: p,
		IsMe:    isMe,
		Pager:   pagerFor("/user/"+p.Member.Username, p.Posts, "Newer posts", "Older posts"),
	}
	if err := s.likedOn(r, &page.Page, p.Posts.Items); err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "user", page)
}

// renamed answers a request for /user/{username}+suffix that failed with
// err: if no member is called that but one used to be, it sends the
// browser to their profile under their new name (old links and old
// @mentions still lead to them); otherwise it returns err.
func (s *Server) renamed(w http.ResponseWriter, r *http.Request, suffix string, err error) error {
	if natter.ErrorKind(err) != natter.NotFound {
		return err
	}
	m, ok, rerr := s.app.Renamed(r.Context(), r.PathValue("username"))
	if rerr != nil {
		return rerr
	}
	if !ok {
		return err
	}
	target := "/user/" + url.PathEscape(m.Username) + suffix
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	http.Redirect(w, r, target, http.StatusSeeOther) // not 301, which browsers keep: a name can change again, or come back
	return nil
}

type popupData struct {
	Member natter.Member
	IsMe   bool
}

// ShowLastSeen: a member who hides when they were last seen still sees it
// themselves.
func (d *popupData) ShowLastSeen() bool { return d.IsMe || !d.Member.HideLastSeen }

// showPopup serves the hover card: an HTML fragment, no layout.
func (s *Server) showPopup(w http.ResponseWriter, r *http.Request) error {
	u, err := s.app.Member(r.Context(), r.PathValue("username"))
	if err != nil {
		return s.renamed(w, r, "/popup", err)
	}
	return s.render(w, r, http.StatusOK, "popup", &popupData{Member: u, IsMe: u.ID == current(r).ID})
}

type editProfilePage struct {
	Page              page
	Username, AboutMe field
	HideLastSeen      bool
	Error             string
}

func (s *Server) showEditProfile(w http.ResponseWriter, r *http.Request) error {
	u := current(r)
	return s.renderEditProfile(w, r, http.StatusOK, u.Username, u.AboutMe, u.HideLastSeen, nil)
}

func (s *Server) renderEditProfile(w http.ResponseWriter, r *http.Request, status int, username, aboutMe string, hideLastSeen bool, refused *natter.Error) error {
	errs, msg := formMessages(refused)
	return s.render(w, r, status, "edit_profile", &editProfilePage{
		Page:         s.base(r, "Edit profile", "me"),
		Error:        msg,
		HideLastSeen: hideLastSeen,
		Username:     field{Name: "username", Label: "Username", Type: "text", Value: username, Autocomplete: "username", Required: true, Error: errs["username"], Hint: app.UsernameRule},
		AboutMe:      field{Name: "about_me", Label: "About me", Type: "textarea", Value: aboutMe, Max: app.MaxAboutMeLen, Error: errs["about_me"]},
	})
}

func (s *Server) editProfile(w http.ResponseWriter, r *http.Request) error {
	username, aboutMe := r.PostFormValue("username"), r.PostFormValue("about_me")
	// A checkbox: present when ticked. The seed's form had no such field,
	// so a form without it (theirs) means "show", as before.
	hide := r.PostFormValue("hide_last_seen") == "on"
	u, err := s.app.EditProfile(r.Context(), current(r), username, aboutMe, hide)
	if e, status, ok := refusal(w, err); ok {
		return s.renderEditProfile(w, r, status, username, aboutMe, hide, e)
	}
	if err != nil {
		return err
	}
	s.notice(w, "Your changes have been saved.")
	http.Redirect(w, r, "/user/"+u.Username, http.StatusSeeOther)
	return nil
}

func (s *Server) block(w http.ResponseWriter, r *http.Request) error {
	t, err := s.app.Block(r.Context(), current(r), r.PathValue("username"))
	if err != nil {
		return err
	}
	s.notice(w, "You have blocked "+t.Username+". They can no longer message you or notify you with mentions.")
	http.Redirect(w, r, "/user/"+t.Username, http.StatusSeeOther)
	return nil
}

func (s *Server) unblock(w http.ResponseWriter, r *http.Request) error {
	t, err := s.app.Unblock(r.Context(), current(r), r.PathValue("username"))
	if err != nil {
		return err
	}
	s.notice(w, "You have unblocked "+t.Username+".")
	http.Redirect(w, r, "/user/"+t.Username, http.StatusSeeOther)
	return nil
}
