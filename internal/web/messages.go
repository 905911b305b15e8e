package web

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"time"

	"natter/internal/app"
	"natter/internal/natter"
)

type sendMessagePage struct {
	Page      page
	Recipient natter.Member
	Message   field
	Error     string
}

func (s *Server) showSendMessage(w http.ResponseWriter, r *http.Request) error {
	return s.renderSendMessage(w, r, http.StatusOK, "", nil)
}

func (s *Server) renderSendMessage(w http.ResponseWriter, r *http.Request, status int, body string, refused *natter.Error) error {
	to, rerr := s.app.Member(r.Context(), r.PathValue("recipient"))
	if rerr != nil {
		return rerr
	}
	fields, msg := formMessages(refused)
	p := &sendMessagePage{
		Page:      s.base(r, "Send Message", "messages"),
		Recipient: to,
		Message:   messageField(body, fields["message"]),
		Error:     msg,
	}
	return s.render(w, r, status, "send_message", p)
}

func messageField(body, refusal string) field {
	return field{Name: "message", Label: "Message", Type: "textarea", Value: body, Max: app.MaxBodyLen, Required: true, Autofocus: true, Error: refusal}
}

func (s *Server) sendMessage(w http.ResponseWriter, r *http.Request) error {
	recipient, body := r.PathValue("recipient"), r.PostFormValue("message")
	msg, err := s.app.SendMessage(r.Context(), current(r), recipient, body)
	if e, status, ok := refusal(w, err); ok {
		return s.renderSendMessage(w, r, status, body, e)
	}
	if err != nil {
		return err
	}
	// The member goes on in the conversation, where the message now is
	// (the seed went back to the profile); the seed's flash still says so.
	s.notice(w, "Your message has been sent.")
	http.Redirect(w, r, "/messages/"+msg.Recipient.Username, http.StatusSeeOther)
	return nil
}

type messagesPage struct {
	Page     page
	Messages app.Page[natter.Message]
	// Groups are the page's messages by conversation (inboxGroups).
	Groups []inboxGroup
	Pager  pager
}

// inboxGroup is a row of the inbox: the messages of the page from one
// member, newest first, under their name, linking to the conversation.
type inboxGroup struct {
	Peer     natter.MemberRef
	Messages []natter.Message
	Unread   int // how many of them were unread until this page showed them
	// Reply, on the first page, is the member's own last message to
	// Peer when it is the conversation's newest (ID 0 if not).
	Reply natter.Message
}

// Latest is the newest message the row shows.
func (g inboxGroup) Latest() natter.Message {
	if len(g.Messages) == 0 || g.Reply.ID > g.Messages[0].ID {
		return g.Reply
	}
	return g.Messages[0]
}

// inboxGroups groups a page of received messages (newest first) by sender,
// in the order of each sender's newest message; reading the rows in order
// reads the page's messages newest first within each conversation.
//
// On the first page, sent are those of the member's newest conversations
// whose last message is the member's own and newer than what later pages
// hold (App.LastSent): each shows it as the row's newest ("You: ..."), and
// one the other has not answered at all gets a row of its own, so that a
// conversation just begun is in the inbox. On later pages the rows are the
// received messages alone.
func inboxGroups(page app.Page[natter.Message], sent []natter.Conversation) []inboxGroup {
	var groups []inboxGroup
	find := func(peer natter.MemberRef) int {
		i := slices.IndexFunc(groups, func(g inboxGroup) bool { return g.Peer.ID == peer.ID })
		if i < 0 {
			groups = append(groups, inboxGroup{Peer: peer})
			i = len(groups) - 1
		}
		return i
	}
	for _, m := range page.Items {
		g := &groups[find(m.Sender)]
		g.Messages = append(g.Messages, m)
		if m.Unread {
			g.Unread++
		}
	}
	for _, c := range sent {
		groups[find(c.Peer)].Reply = c.Last
	}
	slices.SortStableFunc(groups, func(a, b inboxGroup) int { return cmp.Compare(b.Latest().ID, a.Latest().ID) })
	return groups
}

// showMessages is the inbox: the seed's /messages, the messages received,
// newest first, by page number, shown grouped by conversation. Showing a
// page reads its messages (the seed's rule).
func (s *Server) showMessages(w http.ResponseWriter, r *http.Request) error {
	u := current(r)
	msgs, left, err := s.app.ReadMessages(r.Context(), u, pageNumber(r))
	if err != nil {
		return err
	}
	var sent []natter.Conversation
	if msgs.Number == 1 {
		if sent, err = s.app.LastSent(r.Context(), u, msgs); err != nil {
			return err
		}
	}
	p := &messagesPage{
		Page:     s.base(r, "Messages", "messages"),
		Messages: msgs,
		Groups:   inboxGroups(msgs, sent),
		Pager:    pagerFor("/messages", msgs, "Newer messages", "Older messages"),
	}
	// The page shows the counts after reading, not the ones loaded before.
	p.Page.Me.UnreadMessages = left
	return s.render(w, r, http.StatusOK, "messages", p)
}

type newMessagePage struct {
	Page        page
	To          string
	Error       string
	SuggestFrom int // how many names the suggestions list at most
}

// newMessage is "New message": a field for the recipient's name (which
// static/inbox.js completes from suggestMembers), submitted here by GET.
// A name that is a member opens the conversation with them; anything else
// comes back with the reason.
func (s *Server) newMessage(w http.ResponseWriter, r *http.Request) error {
	p := &newMessagePage{Page: s.base(r, "New message", "messages"), SuggestFrom: app.SuggestLimit}
	status := http.StatusOK
	if q := r.URL.Query(); q.Has("to") {
		p.To = q.Get("to")
		to, err := s.app.Recipient(r.Context(), current(r), p.To)
		e, st, ok := refusal(w, err)
		if !ok && err != nil {
			return err
		}
		if !ok {
			http.Redirect(w, r, "/messages/"+to.Username, http.StatusSeeOther)
			return nil
		}
		fields, msg := formMessages(e)
		p.Error, status = cmp.Or(fields["to"], msg), st
	}
	return s.render(w, r, status, "new_message", p)
}

// memberJSON is a member as suggestMembers lists them.
type memberJSON struct {
	Username string `json:"username"`
	Avatar   string `json:"avatar"`
}

// suggestMembers answers GET /members/suggest?prefix=al with the members
// whose names begin so (the asking member aside), by name:
// [{"username": "alice", "avatar": "/avatar/3"}, ...].
func (s *Server) suggestMembers(w http.ResponseWriter, r *http.Request) error {
	refs, err := s.app.SuggestRecipients(r.Context(), current(r), r.URL.Query().Get("prefix"))
	if err != nil {
		return err
	}
	list := make([]memberJSON, len(refs))
	for i, m := range refs {
		list[i] = memberJSON{m.Username, avatarURL(m.ID)}
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

// showConversations answers the old inbox's address: the inbox is
// /messages now.
func (s *Server) showConversations(w http.ResponseWriter, r *http.Request) error {
	http.Redirect(w, r, "/messages", http.StatusMovedPermanently)
	return nil
}

type conversationPage struct {
	Page         page
	Conversation app.Conversation
	Thread       []threadItem
	Message      field
	Error        string
}

// threadItem is a message as a conversation shows it: a bubble on the
// member's side or the peer's, under a separator where a new day begins.
// The days are UTC days here; static/inbox.js draws them again in the
// browser's time zone.
type threadItem struct {
	natter.Message
	Mine bool
	// Day names the day the message begins ("Today", "Yesterday", a
	// date), "" unless it is the first of its day; DayISO is that date.
	Day, DayISO string
	// Clock is the time of day shown in the bubble (the full time is in
	// its title and, for screen readers, in its text).
	Clock string
	// Tail: the last of a run of messages from one side, which shows the
	// sender's avatar.
	Tail bool
}

// thread lays out a conversation's messages, oldest first, for me.
func thread(msgs []natter.Message, me int64, now time.Time) []threadItem {
	items := make([]threadItem, len(msgs))
	today := now.UTC().Truncate(24 * time.Hour)
	var day time.Time
	for i, m := range msgs {
		it := threadItem{Message: m, Mine: m.Sender.ID == me, Clock: m.CreatedAt.UTC().Format("15:04")}
		if d := m.CreatedAt.UTC().Truncate(24 * time.Hour); i == 0 || !d.Equal(day) {
			day = d
			it.Day, it.DayISO = dayName(d, today), d.Format(time.DateOnly)
		}
		it.Tail = i == len(msgs)-1 || msgs[i+1].Sender.ID != m.Sender.ID
		items[i] = it
	}
	// A run also ends where a day does.
	for i := range items[:max(len(items)-1, 0)] {
		if items[i+1].Day != "" {
			items[i].Tail = true
		}
	}
	return items
}

// dayName names a (UTC) day as a separator in a conversation does.
func dayName(day, today time.Time) string {
	switch {
	case day.Equal(today):
		return "Today"
	case day.Equal(today.AddDate(0, 0, -1)):
		return "Yesterday"
	case day.Year() == today.Year():
		return day.Format("Monday, 2 January")
	}
	return day.Format("Monday, 2 January 2006")
}

func (s *Server) showConversation(w http.ResponseWriter, r *http.Request) error {
	return s.renderConversation(w, r, http.StatusOK, "", nil)
}

func (s *Server) renderConversation(w http.ResponseWriter, r *http.Request, status int, body string, refused *natter.Error) error {
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	c, cerr := s.app.Conversation(r.Context(), current(r), r.PathValue("username"), before)
	if cerr != nil {
		return cerr
	}
	fields, msg := formMessages(refused)
	p := &conversationPage{
		Page:         s.base(r, "Conversation with "+c.Peer.Username, "messages"),
		Conversation: c,
		Thread:       thread(c.Messages, current(r).ID, s.app.Now()),
		Message:      messageField(body, fields["message"]),
		Error:        msg,
	}
	p.Message.Autofocus = status != http.StatusOK
	// Reading the conversation may have lowered the count loaded earlier.
	p.Page.Me.UnreadMessages = c.Unread
	return s.render(w, r, status, "conversation", p)
}

func (s *Server) reply(w http.ResponseWriter, r *http.Request) error {
	peer, body := r.PathValue("username"), r.PostFormValue("message")
	msg, err := s.app.SendMessage(r.Context(), current(r), peer, body)
	if e, status, ok := refusal(w, err); ok {
		return s.renderConversation(w, r, status, body, e)
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/messages/"+msg.Recipient.Username+"#m"+strconv.FormatInt(msg.ID, 10), http.StatusSeeOther)
	return nil
}
