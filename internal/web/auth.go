package web

import (
	"net/http"
	"net/url"
	"strings"

	"natter/internal/app"
	"natter/internal/natter"
)

type loginPage struct {
	Page               page
	Username, Password field
	RememberMe         bool
	Next               string
	Error              string
}

func (s *Server) showLogin(w http.ResponseWriter, r *http.Request) error {
	return s.renderLogin(w, r, http.StatusOK, "", false, "")
}

func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, username string, remember bool, msg string) error {
	return s.render(w, r, status, "login", &loginPage{
		Page:       s.base(r, "Log in", "login"),
		Username:   field{Name: "username", Label: "Username", Type: "text", Value: username, Autocomplete: "username", Required: true, Autofocus: username == ""},
		Password:   field{Name: "password", Label: "Password", Type: "password", Autocomplete: "current-password", Required: true, Autofocus: username != ""},
		RememberMe: remember,
		Next:       safeNext(r.URL.Query().Get("next")),
		Error:      msg,
	})
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	username, password := r.PostFormValue("username"), r.PostFormValue("password")
	remember := r.PostFormValue("remember_me") != ""
	in := app.LoginInput{Username: username, Password: password, Addr: s.clientAddr(r)}
	if c, err := r.Cookie(deviceCookie); err == nil {
		in.Device = c.Value
	}
	u, err := s.app.Authenticate(r.Context(), in)
	if e, status, ok := refusal(w, err); ok {
		return s.renderLogin(w, r, status, username, remember, e.Message)
	}
	if err != nil {
		return err
	}
	// Logging in is the session's write: if it fails, the member is not
	// logged in and is told so (nothing else was done).
	if err := s.startSession(w, r, u.ID, remember); err != nil {
		return err
	}
	if err := s.setDeviceCookie(w, r, u.ID); err != nil {
		return err
	}
	target := safeNext(r.URL.Query().Get("next"))
	if target == "" {
		target = "/"
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

// startSession logs the member in under a new session token, so that a
// token planted before login (session fixation) is worthless, and saves
// the session before the response starts.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, userID int64, remember bool) error {
	ctx := r.Context()
	if err := s.sessions.RenewToken(ctx); err != nil {
		return err
	}
	s.sessions.Put(ctx, sessionUserID, userID)
	s.sessions.RememberMe(ctx, remember)
	if err := s.app.StartLogin(ctx, s.sessions.Token(ctx), userID, remember, r.UserAgent(), s.clientAddr(r)); err != nil {
		return err
	}
	return s.saveSession(w, r)
}

// deviceCookie names the cookie that tells the login limits this browser
// has logged in to the account before (app.DeviceToken).
const deviceCookie = "natter_device"

// setDeviceCookie gives the browser a device cookie for the member who
// just logged in with it. One cookie holds one member: the last one.
func (s *Server) setDeviceCookie(w http.ResponseWriter, r *http.Request, memberID int64) error {
	token, err := s.app.DeviceToken(r.Context(), memberID)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name:     deviceCookie,
		Value:    token,
		Path:     "/login",
		MaxAge:   int(app.DeviceLifetime.Seconds()),
		HttpOnly: true,
		Secure:   s.cfg.SecureCookies,
		SameSite: http.SameSiteLaxMode,
	})
	return nil
}

// safeNext returns next if it is a path on this site, "" otherwise: the
// login page must never send a member to another site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, `\`) {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return ""
	}
	return u.RequestURI()
}

type registerPage struct {
	Page                                       page
	Username, Email, Password, ConfirmPassword field
	Error                                      string
}

func (s *Server) showRegister(w http.ResponseWriter, r *http.Request) error {
	return s.renderRegister(w, r, http.StatusOK, app.RegisterInput{}, nil)
}

func (s *Server) renderRegister(w http.ResponseWriter, r *http.Request, status int, in app.RegisterInput, refused *natter.Error) error {
	errs, msg := formMessages(refused)
	// The address is checked by email when there is email; without, the
	// form says so (as every page that would send mail does).
	emailHint := "This site does not send email: your address is not checked."
	if s.app.EmailEnabled() {
		emailHint = "We will email you a link to confirm it."
	}
	p := &registerPage{
		Page:            s.base(r, "Register", "register"),
		Username:        field{Name: "username", Label: "Username", Type: "text", Value: in.Username, Autocomplete: "username", Required: true, Autofocus: true, Error: errs["username"], Hint: app.UsernameRule},
		Email:           field{Name: "email", Label: "Email", Type: "email", Value: in.Email, Autocomplete: "email", Required: true, Error: errs["email"], Hint: emailHint},
		Password:        field{Name: "password", Label: "Password", Type: "password", Autocomplete: "new-password", Required: true, Error: errs["password"], Hint: app.PasswordRule},
		ConfirmPassword: field{Name: "confirm_password", Label: "Repeat password", Type: "password", Autocomplete: "new-password", Required: true, Error: errs["confirm_password"]},
		Error:           msg,
	}
	return s.render(w, r, status, "register", p)
}

func (s *Server) register(w http.ResponseWriter, r *http.Request) error {
	in := app.RegisterInput{
		Username:        r.PostFormValue("username"),
		Email:           r.PostFormValue("email"),
		Password:        r.PostFormValue("password"),
		ConfirmPassword: r.PostFormValue("confirm_password"),
	}
	u, err := s.app.Register(r.Context(), in, s.clientAddr(r))
	if e, status, ok := refusal(w, err); ok {
		return s.renderRegister(w, r, status, in, e)
	}
	if err != nil {
		return err
	}
	if err := s.startSession(w, r, u.ID, false); err != nil {
		// The account exists: say so, and let the member log in, rather
		// than report a failure that a retry would meet as "taken".
		s.log.ErrorContext(r.Context(), "log in after registering", "user", u.ID, "err", err)
		s.notice(w, "Congratulations, you are now a registered user! Please log in, "+u.Username+".")
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil
	}
	welcome := "Congratulations, you are now a registered user! Welcome to natter, " + u.Username + "."
	if s.app.EmailEnabled() {
		// The same whether the address was free or another member's.
		welcome += " We have sent a link to " + strings.TrimSpace(in.Email) + ": follow it to confirm your address."
	}
	s.notice(w, welcome)
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}

// showLogout asks for confirmation: a GET never logs anyone out, so a link
// or an image on another site cannot either.
func (s *Server) showLogout(w http.ResponseWriter, r *http.Request) error {
	if _, ok := me(r); !ok {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil
	}
	return s.render(w, r, http.StatusOK, "logout", &struct{ Page page }{s.base(r, "Log out", "")})
}

// logout destroys the session on the server, so the old cookie is worth
// nothing, and closes the member's event streams (other sessions reconnect).
func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	u, ok := me(r)
	// Deleting the session is logging out: if it fails, the old cookie
	// would still be good, so the member is told it did not work.
	if err := s.sessions.Destroy(r.Context()); err != nil {
		return err
	}
	s.saveSession(w, r) // only expires the cookie: the row is gone already
	if ok {
		// The session is gone already; a failed announcement leaves
		// other instances' streams to notice it themselves (events.go).
		if err := s.app.LoggedOut(r.Context(), u.ID); err != nil {
			s.log.WarnContext(r.Context(), "announce logout", "user", u.ID, "err", err)
		}
	}
	s.notice(w, "You have been logged out.")
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}
