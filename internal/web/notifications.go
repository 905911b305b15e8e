package web

import (
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

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
	Page   page
	Groups []groupItem
	// Newest is the newest entry shown: "mark all read" sends it.
	Newest int64
	Pager  pager
	// PastEnd: an older page (?before=) with nothing on it.
	PastEnd bool
}

// groupItem is a group of the notification centre as the page shows it:
// "alice and 2 others mentioned you", then its newest entries.
type groupItem struct {
	Unread bool
	// Named are the actors named ("alice", or "alice" and "bob"), Others
	// how many more there are.
	Named  []natter.MemberRef
	Others int
	What   string // what they did: "mentioned you"
	// About is the text of the post a group of likes is about (its id
	// AboutID), shown once rather than with every like.
	About          string
	AboutMentioned natter.Mentions
	AboutID        int64
	When           stamp // the newest entry's time
	// Entries are the newest entries, each linking to what it is about;
	// More is how many older ones are not shown.
	Entries []entryItem
	More    int
}

// entryItem is one entry of a group: who, when, and the post it is about.
type entryItem struct {
	Actor     natter.MemberRef
	ID        int64 // the post's, for its permalink
	Body      string
	Mentioned natter.Mentions
	When      stamp
	Unread    bool
}

// activityVerbs says what a group's actors did, by kind.
var activityVerbs = map[string]string{
	natter.ActivityMention: "mentioned you",
	natter.ActivityReply:   "replied to your post",
	natter.ActivityLike:    "liked your post",
}

func (s *Server) groupItem(g natter.ActivityGroup) groupItem {
	it := groupItem{Unread: g.Unread > 0, What: activityVerbs[g.Kind], More: g.Entries - len(g.Recent)}
	if it.What == "" {
		it.What = g.Kind
	}
	// The newest actor by name, and the second too when there are just
	// two ("alice and bob"); beyond that, "alice and 2 others".
	for _, a := range g.Recent {
		if len(it.Named) == 0 || (g.Actors == 2 && a.Actor.ID != it.Named[0].ID && len(it.Named) == 1) {
			it.Named = append(it.Named, a.Actor)
		}
	}
	it.Others = max(g.Actors-len(it.Named), 0)
	for _, a := range g.Recent {
		e := entryItem{a.Actor, a.PostID, a.Body, a.Mentioned, s.stamp(a.CreatedAt), a.Unread}
		if g.Kind == natter.ActivityLike {
			// Every like is of the one post: it is shown once, above them.
			it.About, it.AboutMentioned, it.AboutID, e.Body = a.Body, a.Mentioned, a.PostID, ""
		}
		it.Entries = append(it.Entries, e)
	}
	if len(g.Recent) > 0 {
		it.When = s.stamp(g.Recent[0].CreatedAt)
	}
	return it
}

// showActivity is the notification centre: groups of entries, newest
// first, paged by key (?before= the newest entry of the last group seen),
// so that entries arriving meanwhile neither repeat nor skip a group.
func (s *Server) showActivity(w http.ResponseWriter, r *http.Request) error {
	// Read as every list reads its position, so that what is not one
	// gets the same 400; the centre pages by ?before= alone.
	pos, err := listPosition(r)
	if err != nil {
		return err
	}
	c, err := s.app.Activity(r.Context(), current(r), pos.Before)
	if err != nil {
		return err
	}
	p := &activityPage{
		Page:   s.base(r, "Notifications", "activity"),
		Newest: c.Newest,
		Pager:  pager{NewerLabel: "Newest", OlderLabel: "Older"},
	}
	for _, g := range c.Groups {
		p.Groups = append(p.Groups, s.groupItem(g))
	}
	if c.Before != 0 {
		p.Pager.Newer = "/activity"
		p.PastEnd = len(p.Groups) == 0
	}
	if c.Older != 0 {
		p.Pager.Older = "/activity?" + url.Values{"before": {strconv.FormatInt(c.Older, 10)}}.Encode()
	}
	return s.render(w, r, http.StatusOK, "activity", p)
}

// markActivityRead marks read what the centre showed: the entries up to
// the newest one the page had (the form's newest), not one that arrived
// since.
func (s *Server) markActivityRead(w http.ResponseWriter, r *http.Request) error {
	newest, err := formKey(r.PostFormValue("newest"), "newest")
	if err != nil {
		return err
	}
	if err := s.app.MarkActivityRead(r.Context(), current(r), newest); err != nil {
		return err
	}
	http.Redirect(w, r, "/activity", http.StatusSeeOther)
	return nil
}

// formKey reads an id given as a parameter; "" is 0.
func formKey(v, name string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, natter.Errorf(natter.Malformed, "%s must be a number such as 42.", name)
	}
	return n, nil
}
