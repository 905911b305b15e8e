package web

import (
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"time"

	"natter/internal/app"
	"natter/internal/natter"
)

// notificationJSON is the seed's notification object, kept exactly:
// {"name": ..., "data": ..., "timestamp": float seconds}.
type notificationJSON struct {
	Name      string          `json:"name"`
	Data      json.RawMessage `json:"data"`
	Timestamp float64         `json:"timestamp"`
}

func toJSON(n natter.Notification) notificationJSON {
	return notificationJSON{Name: n.Name, Data: n.Data, Timestamp: float64(n.Time.UnixMicro()) / 1e6}
}

// notifications is the seed's polling endpoint: the member's notifications
// changed after ?since= (float seconds), oldest first.
func (s *Server) notifications(w http.ResponseWriter, r *http.Request) error {
	t, err := parseSince(r.URL.Query().Get("since"))
	if err != nil {
		return err
	}
	notes, err := s.app.NotificationsSince(r.Context(), current(r), t)
	if err != nil {
		return err
	}
	list := make([]notificationJSON, len(notes))
	for i, n := range notes {
		list[i] = toJSON(n)
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

// parseSince reads a time in float seconds since the epoch; "" means 0.
func parseSince(v string) (time.Time, error) {
	if v == "" {
		return time.Unix(0, 0), nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e11 {
		return time.Time{}, &natter.Error{Kind: natter.Malformed, Message: "since must be a time in seconds, such as 1700000000.5."}
	}
	return time.UnixMicro(int64(math.Round(f * 1e6))), nil
}

type activityPage struct {
	Page     page
	Activity app.Page[natter.Activity]
	Pager    pager
}

func (s *Server) showActivity(w http.ResponseWriter, r *http.Request) error {
	list, err := s.app.Activity(r.Context(), current(r), pageNumber(r))
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "activity", &activityPage{
		Page:     s.base(r, "Notifications", "activity"),
		Activity: list,
		Pager:    pagerFor("/activity", list, "Newer", "Older"),
	})
}

func (s *Server) markActivityRead(w http.ResponseWriter, r *http.Request) error {
	if err := s.app.MarkActivityRead(r.Context(), current(r)); err != nil {
		return err
	}
	http.Redirect(w, r, "/activity", http.StatusSeeOther)
	return nil
}
