package web

import (
	"encoding/json"
	"fmt"
	"net/http"

	"natter/internal/app"
	"natter/internal/natter"
)

// The account page (/settings/account): password, email, username,
// deleting the account and downloading what the member wrote. Each form
// posts to its own URL and, when refused, the page comes back with that
// form's messages.

type accountPage struct {
	Page page
	// Error is the message above the form that failed (Form names it).
	Error, Form string

	CurrentPassword, NewPassword, ConfirmPassword field
	Email, EmailPassword                          field
	// EmailStatus is what the email section says of the address (email.go).
	EmailStatus    emailStatus
	Username       field
	DeletePassword field
}

// accountForms maps each form to how the app's field names show on the
// page (ids must be unique there).
var accountForms = map[string]map[string]string{
	"password": {"current_password": "current_password", "new_password": "new_password", "confirm_password": "confirm_password"},
	"email":    {"email": "email", "current_password": "email_current_password"},
	"username": {"username": "username"},
	"delete":   {"current_password": "delete_current_password"},
}

func (s *Server) showAccount(w http.ResponseWriter, r *http.Request) error {
	return s.renderAccount(w, r, http.StatusOK, "", nil, nil)
}

// renderAccount shows the page; form and refused, if set, are the form
// that failed and why, values what it held.
func (s *Server) renderAccount(w http.ResponseWriter, r *http.Request, status int, form string, values map[string]string, refused *natter.Error) error {
	u := current(r)
	errs, msg := formMessages(refused)
	shown := map[string]string{}
	for k, v := range errs {
		if name, ok := accountForms[form][k]; ok {
			shown[name] = v
		} else if msg == "" {
			msg = v
		}
	}
	email, username := u.Email, u.Username
	if form == "email" {
		email = values["email"]
	}
	if form == "username" {
		username = values["username"]
	}
	pw := func(name, label, autocomplete string) field {
		return field{Name: name, Label: label, Type: "password", Autocomplete: autocomplete, Required: true, Error: shown[name]}
	}
	return s.render(w, r, status, "settings_account", &accountPage{
		Page:            s.base(r, "Account settings", "settings"),
		Error:           msg,
		Form:            form,
		CurrentPassword: pw("current_password", "Current password", "current-password"),
		NewPassword:     withHint(pw("new_password", "New password", "new-password"), app.PasswordRule),
		ConfirmPassword: pw("confirm_password", "Repeat new password", "new-password"),
		Email:           field{Name: "email", Label: "Email", Type: "email", Value: email, Autocomplete: "email", Required: true, Error: shown["email"]},
		EmailPassword:   pw("email_current_password", "Current password", "current-password"),
		Username:        field{Name: "username", Label: "Username", Type: "text", Value: username, Autocomplete: "username", Required: true, Error: shown["username"], Hint: app.UsernameRule},
		DeletePassword:  pw("delete_current_password", "Current password", "current-password"),
		EmailStatus:     s.emailStatus(u),
	})
}

// refuseAccount re-shows the page for a refused form, or returns a fault.
func (s *Server) refuseAccount(w http.ResponseWriter, r *http.Request, form string, values map[string]string, err error) error {
	if e, status, ok := refusal(w, err); ok {
		return s.renderAccount(w, r, status, form, values, e)
	}
	return err
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) error {
	n, err := s.app.ChangePassword(r.Context(), current(r), r.PostFormValue("current_password"),
		r.PostFormValue("new_password"), r.PostFormValue("confirm_password"), currentLogin(r).ID)
	if err != nil {
		return s.refuseAccount(w, r, "password", nil, err)
	}
	msg := "Your password has been changed."
	if n > 0 {
		msg += fmt.Sprintf(" Your other sessions (%d) have been logged out.", n)
	}
	s.notice(w, msg)
	http.Redirect(w, r, "/settings/account", http.StatusSeeOther)
	return nil
}

func (s *Server) changeEmail(w http.ResponseWriter, r *http.Request) error {
	email := r.PostFormValue("email")
	pending, err := s.app.ChangeEmail(r.Context(), current(r), email, r.PostFormValue("email_current_password"))
	if err != nil {
		return s.refuseAccount(w, r, "email", map[string]string{"email": email}, err)
	}
	if pending {
		s.notice(w, "We have sent a link to "+email+". Your address changes when you follow it.")
	} else {
		s.notice(w, "Your email address is now "+email+".")
	}
	http.Redirect(w, r, "/settings/account", http.StatusSeeOther)
	return nil
}

func (s *Server) changeUsername(w http.ResponseWriter, r *http.Request) error {
	u := current(r)
	username := r.PostFormValue("username")
	updated, err := s.app.UpdateProfile(r.Context(), u, username, u.AboutMe)
	if err != nil {
		return s.refuseAccount(w, r, "username", map[string]string{"username": username}, err)
	}
	if updated.Username != u.Username {
		s.notice(w, "You are now "+updated.Username+". Links to /user/"+u.Username+" and old @"+u.Username+" mentions lead here, and nobody else can take that name.")
	}
	http.Redirect(w, r, "/settings/account", http.StatusSeeOther)
	return nil
}

func (s *Server) deleteAccount(w http.ResponseWriter, r *http.Request) error {
	u := current(r)
	if err := s.app.DeleteAccount(r.Context(), u, r.PostFormValue("delete_current_password")); err != nil {
		return s.refuseAccount(w, r, "delete", nil, err)
	}
	// The sessions are gone on the server already; this drops the cookie.
	if err := s.sessions.Destroy(r.Context()); err != nil {
		return err
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

// exportAccount downloads everything the member wrote as JSON.
func (s *Server) exportAccount(w http.ResponseWriter, r *http.Request) error {
	u := current(r)
	e, err := s.app.Export(r.Context(), u)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Disposition", `attachment; filename="natter-`+u.Username+`.json"`)
	_, err = w.Write(append(b, '\n'))
	return err
}

// emailStatus is what the account page says of the member's address.
type emailStatus struct {
	Off bool // this site sends no email
	// Pending is an address waiting for its link; Unconfirmed says the
	// current address was never proved.
	Pending     string
	Unconfirmed bool
}

func (s *Server) emailStatus(u natter.Account) emailStatus {
	if !s.app.EmailEnabled() {
		return emailStatus{Off: true}
	}
	return emailStatus{Pending: u.PendingEmail, Unconfirmed: u.PendingEmail == "" && !u.EmailVerified && u.Email != ""}
}
