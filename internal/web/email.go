package web

import (
	"net/http"

	"natter/internal/app"
)

// Pages of email (issue 12): proving an address, resetting a forgotten
// password, and unsubscribing from an email's link. All work logged out:
// their links arrive by email, and the token in the URL is the proof.

// emailPage is every page of this file: a message, and perhaps a form.
type emailPage struct {
	Page page
	// Heading and Text say what this is; Error, what went wrong.
	Heading, Text, Error string
	// Off: this site sends no email.
	Off bool
	// Action is where the form posts, Button its label ("" for no form).
	Action, Button string
	Fields         []field
	// Done shows Text as the outcome, with no form.
	Done bool
	// Link leads on after Done.
	Link, LinkText string
}

func (s *Server) renderEmailPage(w http.ResponseWriter, r *http.Request, status int, p *emailPage) error {
	return s.render(w, r, status, "email", p)
}

// resetRequestPage is /reset-password: the field email.
func (s *Server) resetRequestPage(r *http.Request, email string, fieldErr string) *emailPage {
	p := &emailPage{Page: s.base(r, "Reset your password", ""), Heading: "Reset your password"}
	if !s.app.EmailEnabled() {
		p.Off = true
		p.Text = "This site does not send email, so a forgotten password cannot be reset by email. The site's operator can set a new one for you."
		return p
	}
	p.Text = "Give the address of your account. If it is confirmed, we email it a link to choose a new password."
	p.Action, p.Button = "/reset-password", "Send me a link"
	p.Fields = []field{{Name: "email", Label: "Email", Type: "email", Value: email, Autocomplete: "email", Required: true, Autofocus: true, Error: fieldErr}}
	return p
}

func (s *Server) showResetRequest(w http.ResponseWriter, r *http.Request) error {
	return s.renderEmailPage(w, r, http.StatusOK, s.resetRequestPage(r, "", ""))
}

// resetRequest always answers the same, whether the address is a
// member's or not: the form must not tell who is a member.
func (s *Server) resetRequest(w http.ResponseWriter, r *http.Request) error {
	email := r.PostFormValue("email")
	err := s.app.RequestPasswordReset(r.Context(), email, s.clientAddr(r))
	if e, status, ok := refusal(w, err); ok {
		p := s.resetRequestPage(r, email, "")
		p.Error = e.Message
		return s.renderEmailPage(w, r, status, p)
	}
	if err != nil {
		return err
	}
	p := s.resetRequestPage(r, email, "")
	p.Done = true
	p.Text = "If " + email + " is the confirmed address of an account here, we have emailed it a link to choose a new password. The link works for one hour, once. Nothing arrived? Look in your spam folder, or ask again in a few minutes."
	p.Link, p.LinkText = "/login", "Back to logging in"
	return s.renderEmailPage(w, r, http.StatusOK, p)
}

// newPasswordPage is the form behind a reset link.
func (s *Server) newPasswordPage(r *http.Request, username string, errs map[string]string) *emailPage {
	return &emailPage{
		Page: s.base(r, "Choose a new password", ""), Heading: "Choose a new password",
		Text:   "For " + username + ". Every session of yours will be logged out, and we will email you that your password was changed.",
		Action: r.URL.Path, Button: "Set my new password",
		Fields: []field{
			{Name: "password", Label: "New password", Type: "password", Autocomplete: "new-password", Required: true, Autofocus: true, Error: errs["password"]},
			{Name: "confirm_password", Label: "Repeat new password", Type: "password", Autocomplete: "new-password", Required: true, Error: errs["confirm_password"]},
		},
	}
}

func (s *Server) showResetPassword(w http.ResponseWriter, r *http.Request) error {
	m, err := s.app.ResetAccount(r.Context(), r.PathValue("token"))
	if err != nil {
		return s.badLink(w, r, err)
	}
	return s.renderEmailPage(w, r, http.StatusOK, s.newPasswordPage(r, m.Username, nil))
}

func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request) error {
	token := r.PathValue("token")
	m, err := s.app.ResetPassword(r.Context(), token, r.PostFormValue("password"), r.PostFormValue("confirm_password"))
	if e, status, ok := refusal(w, err); ok && e != app.ErrBadLink {
		errs, msg := formMessages(e)
		p := s.newPasswordPage(r, m.Username, errs)
		p.Error = msg
		return s.renderEmailPage(w, r, status, p)
	}
	if err != nil {
		return s.badLink(w, r, err)
	}
	s.notice(w, "Your password has been changed and every session of yours logged out. Log in with your new password, "+m.Username+".")
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

// badLink answers a link that expired or was used.
func (s *Server) badLink(w http.ResponseWriter, r *http.Request, err error) error {
	e, status, ok := refusal(w, err)
	if !ok {
		return err
	}
	return s.renderEmailPage(w, r, status, &emailPage{Page: s.base(r, "Link not valid", ""), Heading: "This link does not work",
		Error: e.Message, Done: true, Text: "Links sent by email work once, and for a limited time. Ask for a new one.",
		Link: "/reset-password", LinkText: "Reset your password"})
}

// showVerifyEmail asks for a click rather than proving the address on
// GET: mail scanners that fetch every link must not use it up.
func (s *Server) showVerifyEmail(w http.ResponseWriter, r *http.Request) error {
	address, err := s.app.VerifyLink(r.Context(), r.PathValue("token"))
	if err != nil {
		return s.badLink(w, r, err)
	}
	return s.renderEmailPage(w, r, http.StatusOK, &emailPage{Page: s.base(r, "Confirm your address", ""),
		Heading: "Confirm your address", Text: "Is " + address + " your address? Confirm it, and natter may email you there.",
		Action: r.URL.Path, Button: "Confirm my address"})
}

func (s *Server) verifyEmail(w http.ResponseWriter, r *http.Request) error {
	m, err := s.app.VerifyEmail(r.Context(), r.PathValue("token"))
	if err != nil {
		return s.badLink(w, r, err)
	}
	s.notice(w, "Thank you: "+m.Email+" is confirmed.")
	if u, ok := me(r); ok && u.ID == m.ID {
		http.Redirect(w, r, "/settings/account", http.StatusSeeOther)
	} else {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	}
	return nil
}

// sendVerification is the settings page's "send again".
func (s *Server) sendVerification(w http.ResponseWriter, r *http.Request) error {
	address, err := s.app.SendVerification(r.Context(), current(r))
	if err != nil {
		return s.refuseAccount(w, r, "email", nil, err)
	}
	s.notice(w, "We have sent a link to "+address+". It works for 24 hours.")
	http.Redirect(w, r, "/settings/account", http.StatusSeeOther)
	return nil
}

// showUnsubscribe is the unsubscribe link followed by a person: one
// button. Mail clients POST to the same URL (RFC 8058) and need no page.
func (s *Server) showUnsubscribe(w http.ResponseWriter, r *http.Request) error {
	u, err := s.app.CheckUnsubscribe(r.PathValue("token"))
	if err != nil {
		return s.badUnsubscribe(w, r, err)
	}
	return s.renderEmailPage(w, r, http.StatusOK, &emailPage{Page: s.base(r, "Unsubscribe", ""),
		Heading: "Stop these emails?", Text: "You will get no more email about " + u.What + ". Notifications on the site and push stay as they are.",
		Action: r.URL.Path, Button: "Unsubscribe"})
}

// unsubscribe is the one-click unsubscribe (RFC 8058): a POST with no
// login and no confirmation, the signed token in the URL.
func (s *Server) unsubscribe(w http.ResponseWriter, r *http.Request) error {
	u, err := s.app.Unsubscribe(r.Context(), r.PathValue("token"))
	if err != nil {
		return s.badUnsubscribe(w, r, err)
	}
	return s.renderEmailPage(w, r, http.StatusOK, &emailPage{Page: s.base(r, "Unsubscribed", ""),
		Heading: "Unsubscribed", Done: true, Text: "You will get no more email about " + u.What + ".",
		Link: "/settings/notifications", LinkText: "Choose which emails you get"})
}

func (s *Server) badUnsubscribe(w http.ResponseWriter, r *http.Request, err error) error {
	e, status, ok := refusal(w, err)
	if !ok {
		return err
	}
	return s.renderEmailPage(w, r, status, &emailPage{Page: s.base(r, "Unsubscribe", ""), Heading: "Unsubscribe",
		Error: e.Message, Done: true, Text: "You can choose which emails you get on your notification settings.",
		Link: "/settings/notifications", LinkText: "Notification settings"})
}
