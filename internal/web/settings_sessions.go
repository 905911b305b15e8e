package web

import (
	"fmt"
	"net/http"
	"strings"

	"natter/internal/natter"
)

// The sessions page (/settings/sessions): every browser the member is
// logged in on, and a way to log any of them out.

type sessionsPage struct {
	Page     page
	Sessions []sessionRow
	Others   int // sessions besides this one
}

type sessionRow struct {
	ID, Device, Address string
	Remember, Current   bool
	Started, Active     stamp
}

func (s *Server) showSessions(w http.ResponseWriter, r *http.Request) error {
	logins, err := s.app.Logins(r.Context(), current(r))
	if err != nil {
		return err
	}
	cur := currentLogin(r)
	p := &sessionsPage{Page: s.base(r, "Your sessions", "settings")}
	for _, l := range logins {
		row := sessionRow{ID: l.ID, Device: describeAgent(l.UserAgent), Address: l.Address, Remember: l.Remember,
			Current: l.ID == cur.ID, Started: s.stamp(l.CreatedAt), Active: s.stamp(l.LastActive)}
		if row.Current {
			// This one first: it is the one the member is looking from.
			p.Sessions = append([]sessionRow{row}, p.Sessions...)
		} else {
			p.Sessions = append(p.Sessions, row)
			p.Others++
		}
	}
	return s.render(w, r, http.StatusOK, "settings_sessions", p)
}

// endSession logs out one session; ending this one is logging out.
func (s *Server) endSession(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if id == currentLogin(r).ID {
		return s.logout(w, r)
	}
	if err := s.app.EndLogin(r.Context(), current(r), id); err != nil {
		return err
	}
	s.notice(w, "That session has been logged out.")
	http.Redirect(w, r, "/settings/sessions", http.StatusSeeOther)
	return nil
}

// endOtherSessions logs out every session but this one, and ends their
// event streams at once, on every instance.
func (s *Server) endOtherSessions(w http.ResponseWriter, r *http.Request) error {
	n, err := s.app.EndOtherLogins(r.Context(), current(r), currentLogin(r).ID)
	if err != nil {
		return err
	}
	switch n {
	case 0:
		s.notice(w, "You were logged in nowhere else.")
	case 1:
		s.notice(w, "You have been logged out of 1 other session.")
	default:
		s.notice(w, fmt.Sprintf("You have been logged out of %d other sessions.", n))
	}
	http.Redirect(w, r, "/settings/sessions", http.StatusSeeOther)
	return nil
}

// currentLogin is the session of the request (loadUser found it).
func currentLogin(r *http.Request) natter.Login {
	l, _ := r.Context().Value(loginKey).(natter.Login)
	return l
}

// describeAgent names a browser and its system from a User-Agent header,
// roughly: enough for a member to tell their phone from their laptop. The
// order of the checks matters, as browsers name their relatives
// (Edge says Chrome, Chrome says Safari).
func describeAgent(ua string) string {
	browser := "Unknown browser"
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"FxiOS/", "Firefox"},
		{"CriOS/", "Chrome"}, {"Chromium/", "Chromium"}, {"Chrome/", "Chrome"}, {"Safari/", "Safari"},
		{"curl/", "curl"}, {"Go-http-client/", "Go program"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	system := ""
	for _, o := range []struct{ token, name string }{
		{"Android", "Android"}, {"iPhone", "iOS"}, {"iPad", "iPadOS"}, {"Windows", "Windows"},
		{"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, o.token) {
			system = o.name
			break
		}
	}
	if system == "" {
		return browser
	}
	return browser + " on " + system
}
