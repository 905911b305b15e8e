package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"natter/internal/natter"
)

// SendMessage sends a private message from sender to the member called
// recipient, counts it unread and notifies them. A member who has blocked
// the sender receives nothing.
func (a *App) SendMessage(ctx context.Context, sender natter.Account, recipient, body string) (natter.Message, error) {
	body = normalizeText(body)
	fe := fieldErrors{}
	checkText(fe, "message", body, 1, MaxBodyLen, "Write a message first.")
	if err := fe.err(); err != nil {
		return natter.Message{}, err
	}
	if ok, wait := a.sendByMember.allow(memberKey(sender.ID), a.store.Now()); !ok {
		return natter.Message{}, rateLimited("messages", wait)
	}
	var msg natter.Message
	err := a.update(ctx, func(tx natter.Tx) error {
		to, err := tx.MemberByName(ctx, recipient)
		if errors.Is(err, natter.ErrNotFound) {
			return notFound("There is no member called %q.", recipient)
		}
		if err != nil {
			return err
		}
		if to.ID == sender.ID {
			return invalid("message", "You cannot send a message to yourself.")
		}
		blocked, err := tx.Blocks(ctx, to.ID, sender.ID)
		if err != nil {
			return err
		}
		if blocked {
			return forbidden("%s is not accepting messages from you.", to.Username)
		}
		var unread int
		msg, unread, err = tx.CreateMessage(ctx, sender.Ref(), to.Ref(), body)
		if err != nil {
			return err
		}
		// The Messages badge counts it; the notification centre does not
		// (one count per thing).
		if _, err := tx.SetNotification(ctx, to.ID, NotifyMessages, unread); err != nil {
			return err
		}
		return a.oweMessage(ctx, tx, natter.Item{UserID: to.ID, Kind: natter.KindMessage, ID: msg.ID}, natter.MessageTag(sender.ID))
	})
	if err == nil {
		a.wake()
	}
	return msg, err
}

// ReadMessages returns a page of the messages u received, newest first,
// and marks read the unread ones among them (the seed's rule: seeing the
// list is reading it), but not those on pages u has not seen. The messages
// keep the unread mark they had when shown. It also returns u's unread
// count once the page is read. A page that does not exist changes nothing.
func (a *App) ReadMessages(ctx context.Context, u natter.Account, page int) (Page[natter.Message], int, error) {
	if err := checkPage(page); err != nil {
		return Page[natter.Message]{}, 0, err
	}
	msgs, err := a.store.MessagesReceived(ctx, u.ID, a.pagination(page))
	if err != nil {
		return Page[natter.Message]{}, 0, err
	}
	p := newPage(msgs, page, a.cfg.PostsPerPage)
	var shown []int64
	for _, m := range p.Items {
		if m.Unread {
			shown = append(shown, m.ID)
		}
	}
	left := u.UnreadMessages
	if len(shown) == 0 {
		return p, left, nil // nothing to mark: the page costs no write
	}
	// What is still owed about these conversations is withdrawn, and the
	// devices pushed about them told to close it.
	var peers []int64
	for _, m := range p.Items {
		if m.Unread && !slices.Contains(peers, m.Sender.ID) {
			peers = append(peers, m.Sender.ID)
		}
	}
	var queued bool
	err = a.update(ctx, func(tx natter.Tx) error {
		n, changed, err := tx.MarkMessagesRead(ctx, u.ID, shown)
		if err != nil || !changed {
			return err
		}
		left = n
		if _, err = tx.SetNotification(ctx, u.ID, NotifyMessages, n); err != nil {
			return err
		}
		for _, peer := range peers {
			if err := a.read(ctx, tx, u.ID, natter.KindMessage, natter.MessageTag(peer), &queued); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Page[natter.Message]{}, 0, err
	}
	if queued {
		a.wake()
	}
	return p, left, nil
}

// SuggestLimit is how many members a name field suggests at once.
const SuggestLimit = 8

// SuggestRecipients returns up to SuggestLimit members, other than u,
// whose username begins with prefix (in any case), by name: the
// suggestions of the "New message" field as u types. A prefix no username
// can begin with suggests nobody. Lookups are limited per member.
func (a *App) SuggestRecipients(ctx context.Context, u natter.Account, prefix string) ([]natter.MemberRef, error) {
	if ok, wait := a.lookupByMember.allow(memberKey(u.ID), a.store.Now()); !ok {
		return nil, rateLimited("lookups", wait)
	}
	refs, err := a.store.MembersByPrefix(ctx, prefix, SuggestLimit+1)
	if err != nil {
		return nil, err
	}
	refs = slices.DeleteFunc(refs, func(m natter.MemberRef) bool { return m.ID == u.ID })
	return refs[:min(len(refs), SuggestLimit)], nil
}

// Recipient finds the member u would write to from the "New message"
// field: anyone but u, by name in any case.
func (a *App) Recipient(ctx context.Context, u natter.Account, name string) (natter.Member, error) {
	name = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), "@"))
	if name == "" {
		return natter.Member{}, invalid("to", "Write the name of the member to write to.")
	}
	m, err := a.store.MemberByName(ctx, name)
	if errors.Is(err, natter.ErrNotFound) {
		return m, &natter.Error{Kind: natter.NotFound, Message: fmt.Sprintf("There is no member called %q.", name),
			Fields: map[string]string{"to": fmt.Sprintf("There is no member called %q. Check the spelling, or pick a name from the suggestions.", name)}}
	}
	if err != nil {
		return m, err
	}
	if m.ID == u.ID {
		return m, invalid("to", "You cannot send a message to yourself.")
	}
	return m, nil
}

// MessageUnread reports whether the message is still unread by its
// recipient: what would tell them of it later (a push, an email) asks
// first, so that nothing already read is told.
func (a *App) MessageUnread(ctx context.Context, id int64) (bool, error) {
	return a.store.MessageUnread(ctx, id)
}

// Conversations returns the page of u's inbox at pos, one row per peer, the
// most recent first; a conversation's position is its last message's id.
// It marks nothing read.
func (a *App) Conversations(ctx context.Context, u natter.Account, pos Position) (Page[natter.Conversation], error) {
	return pageAt(pos, a.cfg.PostsPerPage, func(w natter.Window) ([]natter.Conversation, error) {
		return a.store.Conversations(ctx, u.ID, w)
	}, func(c natter.Conversation) int64 { return c.Last.ID })
}

// LastSent returns the conversations the first page of u's inbox shows
// with u's own message on top ("You: ..."): of u's newest conversations (as
// many as a page holds), those whose last message is u's and is newer than
// page, u's first page of received messages, reaches (with no page after
// it, it reaches back to the first). The others' last messages are u's
// received ones, on page already (or on later pages), so they are not read.
func (a *App) LastSent(ctx context.Context, u natter.Account, page Page[natter.Message]) ([]natter.Conversation, error) {
	var above int64
	if n := len(page.Items); n > 0 && page.HasNext {
		above = page.Items[n-1].ID
	}
	return a.store.LastSent(ctx, u.ID, above, a.cfg.PostsPerPage)
}

// ConversationSize is how many messages a conversation page shows.
const ConversationSize = 50

// Conversation is the exchange between a member and one peer.
type Conversation struct {
	Peer natter.Member
	// Messages are oldest first, ending with the newest (or with the one
	// before Before).
	Messages []natter.Message
	// Earlier is the id to pass as before for the previous page, 0 if none.
	Earlier int64
	// Blocked: the member has blocked Peer. BlockedBy: Peer has blocked the
	// member, who cannot reply.
	Blocked, BlockedBy bool
	// Unread is the member's unread count once the conversation is read.
	Unread int
}

// Conversation returns the messages between u and the member called peer
// with ids below before (0: up to the newest), and marks the conversation
// read.
func (a *App) Conversation(ctx context.Context, u natter.Account, peer string, before int64) (Conversation, error) {
	p, err := a.Member(ctx, peer)
	if err != nil {
		return Conversation{}, err
	}
	if p.ID == u.ID {
		return Conversation{}, notFound("You have no conversation with yourself.")
	}
	c := Conversation{Peer: p, Unread: u.UnreadMessages}
	// u was read at the start of the request, and its unread count is kept
	// exactly: with nothing unread there is nothing to mark, and the view
	// opens no write transaction (on SQLite, the one writer connection).
	var queued bool
	if u.UnreadMessages > 0 {
		err = a.update(ctx, func(tx natter.Tx) error {
			left, changed, err := tx.MarkConversationRead(ctx, u.ID, p.ID)
			if err != nil || !changed {
				return err
			}
			c.Unread = left
			// 0 too: the member's other tabs hide their badge.
			if _, err = tx.SetNotification(ctx, u.ID, NotifyMessages, left); err != nil {
				return err
			}
			return a.read(ctx, tx, u.ID, natter.KindMessage, natter.MessageTag(p.ID), &queued)
		})
		if err != nil {
			return Conversation{}, err
		}
	}
	if queued {
		a.wake()
	}
	msgs, err := a.store.ConversationMessages(ctx, u.ID, p.ID, before, ConversationSize+1)
	if err != nil {
		return Conversation{}, err
	}
	if len(msgs) > ConversationSize {
		msgs = msgs[:ConversationSize]
		c.Earlier = msgs[len(msgs)-1].ID
	}
	slices.Reverse(msgs)
	c.Messages = msgs
	if c.Blocked, err = a.store.Blocks(ctx, u.ID, p.ID); err != nil {
		return Conversation{}, err
	}
	if c.BlockedBy, err = a.store.Blocks(ctx, p.ID, u.ID); err != nil {
		return Conversation{}, err
	}
	return c, nil
}

// Block stops the member called target from messaging u or notifying u by
// mentions.
func (a *App) Block(ctx context.Context, u natter.Account, target string) (natter.Member, error) {
	return a.setBlock(ctx, u, target, true)
}

// Unblock undoes Block.
func (a *App) Unblock(ctx context.Context, u natter.Account, target string) (natter.Member, error) {
	return a.setBlock(ctx, u, target, false)
}

func (a *App) setBlock(ctx context.Context, u natter.Account, target string, block bool) (natter.Member, error) {
	t, err := a.Member(ctx, target)
	if err != nil {
		return t, err
	}
	if t.ID == u.ID {
		return t, forbidden("You cannot block yourself.")
	}
	return t, a.update(ctx, func(tx natter.Tx) error {
		if block {
			return tx.Block(ctx, u.ID, t.ID)
		}
		return tx.Unblock(ctx, u.ID, t.ID)
	})
}
