package web

import (
	"net/http"
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
	Tab      string
	Messages app.Page[natter.Message]
	Pager    pager
}

func (s *Server) showMessages(w http.ResponseWriter, r *http.Request) error {
	msgs, left, err := s.app.ReadMessages(r.Context(), current(r), pageNumber(r))
	if err != nil {
		return err
	}
	p := &messagesPage{
		Page:     s.base(r, "Messages", "messages"),
		Tab:      "received",
		Messages: msgs,
		Pager:    pagerFor("/messages", msgs, "Newer messages", "Older messages"),
	}
	// The page shows the counts after reading, not the ones loaded before.
	p.Page.Me.UnreadMessages = left
	return s.render(w, r, http.StatusOK, "messages", p)
}

type conversationsPage struct {
	Page          page
	Tab           string
	Conversations app.Page[natter.Conversation]
	Pager         pager
}

func (s *Server) showConversations(w http.ResponseWriter, r *http.Request) error {
	pos, err := listPosition(r)
	if err != nil {
		return err
	}
	convs, err := s.app.Conversations(r.Context(), current(r), pos)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "conversations", &conversationsPage{
		Page:          s.base(r, "Conversations", "messages"),
		Tab:           "conversations",
		Conversations: convs,
		Pager:         pagerFor("/conversations", convs, "Newer", "Older"),
	})
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
	p.Message.Label, p.Message.Autofocus = "Reply", status != http.StatusOK
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
