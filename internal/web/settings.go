package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"natter/internal/app"
	"natter/internal/natter"
)

// The notification settings page: per kind and channel, quiet hours,
// previews, and the member's devices with push on. It works without
// JavaScript; turning push on in a browser needs the browser, and
// static/push.js adds that button into #push-controls.

type settingsPage struct {
	Page  page
	Error string
	// Errors are per field (email_message, quiet_from, time_zone, ...).
	Errors       map[string]string
	Kinds        []kindRow
	QuietFrom    string // "22:00", or "" for none
	QuietTo      string
	TimeZone     string
	Previews     bool
	EmailEnabled bool
	PushEnabled  bool
	Devices      []app.Device
	EmailLevels  []emailLevel
	// Digest is the member's digest: "", "daily" or "weekly".
	Digest string
	// EmailUnconfirmed: email is on, and the member's address unproved.
	EmailUnconfirmed bool
}

// kindRow is one row of the table: a kind and the member's choices.
type kindRow struct {
	Kind, Label string
	Push        bool
	Email       natter.EmailLevel
}

// kindLabels names each kind on the page; a new kind gets a row by being
// added to natter.NotifyingKinds and here.
var kindLabels = map[string]string{
	natter.KindMessage: "Private messages",
	natter.KindMention: "Mentions",
	natter.KindReply:   "Replies to your posts",
	natter.KindLike:    "Likes of your posts",
}

// emailLevels are the choices of the email column, in order.
type emailLevel struct {
	Level natter.EmailLevel
	Label string
}

var emailLevels = []emailLevel{{natter.EmailAlways, "Always"}, {natter.EmailAway, "Only when away"}, {natter.EmailNever, "Never"}}

func (s *Server) showSettings(w http.ResponseWriter, r *http.Request) error {
	p, err := s.app.NotificationPrefs(r.Context(), current(r))
	if err != nil {
		return err
	}
	return s.renderSettings(w, r, http.StatusOK, p, nil)
}

func (s *Server) renderSettings(w http.ResponseWriter, r *http.Request, status int, p natter.Prefs, refused *natter.Error) error {
	devices, err := s.app.Devices(r.Context(), current(r))
	if err != nil {
		return err
	}
	errs, msg := formMessages(refused)
	data := &settingsPage{
		Page: s.base(r, "Notification settings", "settings"), Error: msg, Errors: errs,
		TimeZone: p.TimeZone, Previews: p.Previews, EmailEnabled: s.app.EmailEnabled(), PushEnabled: s.app.PushEnabled(),
		Devices: devices, EmailLevels: emailLevels, Digest: p.Digest,
		EmailUnconfirmed: s.app.EmailEnabled() && !current(r).EmailVerified,
	}
	if p.QuietFrom != p.QuietTo {
		data.QuietFrom, data.QuietTo = clock(p.QuietFrom), clock(p.QuietTo)
	}
	for _, k := range natter.NotifyingKinds {
		kp := p.Kind(k)
		data.Kinds = append(data.Kinds, kindRow{Kind: k, Label: kindLabels[k], Push: kp.Push, Email: kp.Email})
	}
	return s.render(w, r, status, "settings_notifications", data)
}

func clock(minutes int) string { return fmt.Sprintf("%02d:%02d", minutes/60, minutes%60) }

// parseClock reads "HH:MM" (what <input type="time"> sends) into minutes
// after midnight; "" is -1, no time.
func parseClock(v string) (int, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return -1, true
	}
	t, err := time.Parse("15:04", v)
	if err != nil {
		return 0, false
	}
	return t.Hour()*60 + t.Minute(), true
}

func (s *Server) saveSettings(w http.ResponseWriter, r *http.Request) error {
	u := current(r)
	old, err := s.app.NotificationPrefs(r.Context(), u)
	if err != nil {
		return err
	}
	p := natter.Prefs{Kinds: map[string]natter.KindPrefs{}, TimeZone: r.PostFormValue("time_zone"),
		Previews: r.PostFormValue("previews") != "", Digest: old.Digest}
	// Like the email column, the digest is not posted while it is disabled.
	if v, ok := r.PostForm["digest"]; ok && len(v) == 1 {
		p.Digest = v[0]
	}
	for _, k := range natter.NotifyingKinds {
		kp := natter.KindPrefs{Push: r.PostFormValue("push_"+k) != "", Email: old.Kind(k).Email}
		// While the site sends no email the select is disabled and not
		// posted: the member's choice is kept for when it does.
		if v := r.PostFormValue("email_" + k); v != "" {
			kp.Email = natter.EmailLevel(v)
		}
		p.Kinds[k] = kp
	}
	fe := map[string]string{}
	from, okFrom := parseClock(r.PostFormValue("quiet_from"))
	to, okTo := parseClock(r.PostFormValue("quiet_to"))
	switch {
	case !okFrom:
		fe["quiet_from"] = "Give a time such as 22:00."
	case !okTo:
		fe["quiet_to"] = "Give a time such as 07:00."
	case (from < 0) != (to < 0):
		fe["quiet_to"] = "Give both times, or neither for no quiet hours."
	case from >= 0:
		p.QuietFrom, p.QuietTo = from, to
	}
	if len(fe) == 0 {
		err = s.app.SaveNotificationPrefs(r.Context(), u, p)
	} else {
		err = &natter.Error{Kind: natter.Invalid, Message: "Please correct the errors below.", Fields: fe}
	}
	if e, status, ok := refusal(w, err); ok {
		if p.QuietFrom == 0 && p.QuietTo == 0 && from >= 0 && to >= 0 {
			p.QuietFrom, p.QuietTo = from, to
		}
		return s.renderSettings(w, r, status, p, e)
	}
	if err != nil {
		return err
	}
	s.notice(w, "Your notification settings have been saved.")
	http.Redirect(w, r, "/settings/notifications", http.StatusSeeOther)
	return nil
}

func (s *Server) turnOffDevice(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return &natter.Error{Kind: natter.NotFound, Message: "There is no such device."}
	}
	if err := s.app.TurnOffDevice(r.Context(), current(r), id); err != nil {
		return err
	}
	s.notice(w, "Notifications are off on that device.")
	http.Redirect(w, r, "/settings/notifications", http.StatusSeeOther)
	return nil
}

func (s *Server) sendTestPush(w http.ResponseWriter, r *http.Request) error {
	n, err := s.app.SendTestPush(r.Context(), current(r))
	if err != nil {
		return err
	}
	switch n {
	case 0:
		s.notice(w, "No browser of yours has notifications on yet.")
	case 1:
		s.notice(w, "A test notification is on its way to your browser.")
	default:
		s.notice(w, fmt.Sprintf("A test notification is on its way to your %d browsers.", n))
	}
	http.Redirect(w, r, "/settings/notifications", http.StatusSeeOther)
	return nil
}
