package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"natter/internal/app"
	"natter/internal/natter"
)

// A post's own page, and what members do with posts (issue 15): reply,
// like, edit, delete. Every action is a form that works without
// JavaScript and redirects; static/posts.js sends the reply and like forms
// with fetch instead, asking for JSON (wantsJSON), and updates the page in
// place.

type postPage struct {
	Page   page
	Thread app.Thread
	// Post is the post alone, Parent the post it answers alone (if shown),
	// for the list template every post is rendered with.
	Post, Parent []natter.Post
	// Reply is the reply form's field; Error a refusal that is not its.
	Reply field
	Error string
	// Newer links back to the first replies when these are later ones.
	Newer bool
}

// postID reads the {id} of a post's URL.
func postIDOf(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, natter.Errorf(natter.NotFound, "There is no such post.")
	}
	return id, nil
}

// showPost is a post's own page, /post/{id}, where its time links from
// every list: what it answers, the post, its earlier versions, its replies
// in order and a reply form. Opening it reads the member's notifications
// about it. A deleted post's page is a 410 that says so and still lists
// the replies.
func (s *Server) showPost(w http.ResponseWriter, r *http.Request) error {
	return s.renderPost(w, r, http.StatusOK, "", nil)
}

func (s *Server) renderPost(w http.ResponseWriter, r *http.Request, status int, reply string, refused *natter.Error) error {
	id, err := postIDOf(r)
	if err != nil {
		return err
	}
	after, err := app.ParsePosition("", "", r.URL.Query().Get("after"))
	if err != nil {
		return err
	}
	t, left, err := s.app.Thread(r.Context(), current(r), id, after.After)
	if err != nil {
		return err
	}
	title := "Post by " + t.Post.Author.Username
	if t.Post.Deleted {
		title, status = "Deleted post", http.StatusGone
	}
	fields, msg := formMessages(refused)
	p := &postPage{Page: s.base(r, title, ""), Thread: t, Error: msg, Newer: after.After != 0,
		Reply: field{Name: "body", Label: "Reply to " + t.Post.Author.Username, Type: "textarea", Value: reply,
			Max: app.MaxBodyLen, Required: true, Error: fields["body"]}}
	if !t.Post.Deleted {
		p.Post = []natter.Post{t.Post}
	}
	if t.Post.ReplyTo != 0 && !t.ParentGone {
		p.Parent = []natter.Post{t.Parent}
	}
	// Reading the post may have lowered the count loaded earlier.
	p.Page.Me.UnreadActivity = left
	shown := append(append(append([]natter.Post{}, p.Parent...), p.Post...), t.Replies...)
	if err := s.likedOn(r, &p.Page, shown); err != nil {
		return err
	}
	return s.render(w, r, status, "post", p)
}

// likedOn notes on pg which of posts its member likes.
func (s *Server) likedOn(r *http.Request, pg *page, posts []natter.Post) error {
	if pg.Me == nil || len(posts) == 0 {
		return nil
	}
	liked, err := s.app.Liked(r.Context(), *pg.Me, posts)
	pg.Liked = liked
	return err
}

// wantsJSON reports whether the request came from posts.js, which asks
// for JSON; a form posted without JavaScript asks for a page.
func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

// jsonRefusal answers a script's request that failed: the member-facing
// message with its status, or the error itself for the log and a 500.
func jsonRefusal(w http.ResponseWriter, err error) error {
	e, status, ok := refusal(w, err)
	if !ok {
		return err
	}
	msg := e.Message
	if f, ok := e.Fields["body"]; ok {
		msg = f
	}
	writeJSON(w, status, map[string]string{"error": msg})
	return nil
}

// replyPost posts a reply to the post {id}: from the post page's form (a
// redirect back to the thread, or the form again with what is wrong) or
// from the timeline's reply form through posts.js (the new post rendered,
// as JSON).
func (s *Server) replyPost(w http.ResponseWriter, r *http.Request) error {
	id, err := postIDOf(r)
	if err != nil {
		return err
	}
	body := r.PostFormValue("body")
	u := current(r)
	post, err := s.app.Reply(r.Context(), u, id, body)
	if wantsJSON(r) {
		if err != nil {
			return jsonRefusal(w, err)
		}
		pg := s.base(r, "", "")
		h, err := s.frags.post.renderNow(s.postItem(post, pg))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"id": post.ID, "html": h})
		return nil
	}
	if e, status, ok := refusal(w, err); ok && (e.Kind == natter.Invalid || e.Kind == natter.RateLimited) {
		return s.renderPost(w, r, status, body, e)
	}
	if err != nil {
		return err
	}
	s.notice(w, "Your reply is posted.")
	http.Redirect(w, r, "/post/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
	return nil
}

// likePost and unlikePost like the post {id} and take the like back:
// without JavaScript back to the page the form was on, through posts.js
// the new state as JSON.
func (s *Server) likePost(w http.ResponseWriter, r *http.Request) error {
	return s.setLike(w, r, true)
}

func (s *Server) unlikePost(w http.ResponseWriter, r *http.Request) error {
	return s.setLike(w, r, false)
}

func (s *Server) setLike(w http.ResponseWriter, r *http.Request, like bool) error {
	id, err := postIDOf(r)
	if err != nil {
		return err
	}
	var likes int
	if like {
		likes, err = s.app.Like(r.Context(), current(r), id)
	} else {
		likes, err = s.app.Unlike(r.Context(), current(r), id)
	}
	if wantsJSON(r) {
		if err != nil {
			return jsonRefusal(w, err)
		}
		writeJSON(w, http.StatusOK, map[string]any{"liked": like, "likes": likes})
		return nil
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, backTo(r, "/post/"+strconv.FormatInt(id, 10)), http.StatusSeeOther)
	return nil
}

// backTo is where a form sends the member back to: the page it was on
// (its Referer, if on this site), or else fallback.
func backTo(r *http.Request, fallback string) string {
	ref, err := url.Parse(r.Referer())
	if err != nil || ref.Host != r.Host || (ref.Scheme != "http" && ref.Scheme != "https") {
		return fallback
	}
	// Never a path a browser reads as another host ("//evil", "/\evil").
	back := ref.RequestURI()
	if !strings.HasPrefix(back, "/") || strings.HasPrefix(back, "//") || strings.HasPrefix(back, "/\\") {
		return fallback
	}
	return back
}

type editPostPage struct {
	Page  page
	Post  natter.Post
	Body  field
	Error string
	// Minutes is how long posts may be edited.
	Minutes int
}

// showEditPost is the form that edits the post {id}, for its author within
// the edit window.
func (s *Server) showEditPost(w http.ResponseWriter, r *http.Request) error {
	p, err := s.ownPost(r)
	if err != nil {
		return err
	}
	if !s.app.Editable(current(r), p) {
		return natter.Errorf(natter.Forbidden, "A post can be edited for %d minutes after it was posted; this one can no longer be.",
			int(natter.EditWindow.Minutes()))
	}
	return s.renderEditPost(w, r, http.StatusOK, p, p.Body, nil)
}

func (s *Server) renderEditPost(w http.ResponseWriter, r *http.Request, status int, p natter.Post, body string, refused *natter.Error) error {
	fields, msg := formMessages(refused)
	return s.render(w, r, status, "post_edit", &editPostPage{
		Page: s.base(r, "Edit post", ""), Post: p, Error: msg, Minutes: int(natter.EditWindow.Minutes()),
		Body: field{Name: "body", Label: "Your post", Type: "textarea", Value: body, Max: app.MaxBodyLen,
			Required: true, Autofocus: true, Error: fields["body"]},
	})
}

func (s *Server) editPost(w http.ResponseWriter, r *http.Request) error {
	id, err := postIDOf(r)
	if err != nil {
		return err
	}
	body := r.PostFormValue("body")
	_, err = s.app.EditPost(r.Context(), current(r), id, body)
	if e, status, ok := refusal(w, err); ok && e.Kind == natter.Invalid {
		p, perr := s.ownPost(r)
		if perr != nil {
			return perr
		}
		return s.renderEditPost(w, r, status, p, body, e)
	}
	if err != nil {
		return err
	}
	s.notice(w, "Your post is updated.")
	http.Redirect(w, r, "/post/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
	return nil
}

// ownPost reads the post {id}, refusing unless it is the member's own and
// not deleted.
func (s *Server) ownPost(r *http.Request) (natter.Post, error) {
	id, err := postIDOf(r)
	if err != nil {
		return natter.Post{}, err
	}
	return s.app.OwnPost(r.Context(), current(r), id)
}

type deletePostPage struct {
	Page  page
	Post  natter.Post
	Posts []natter.Post
}

// showDeletePost asks the author to confirm the deletion of the post {id}:
// a page, so that deleting needs no JavaScript.
func (s *Server) showDeletePost(w http.ResponseWriter, r *http.Request) error {
	p, err := s.ownPost(r)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "post_delete", &deletePostPage{Page: s.base(r, "Delete post", ""), Post: p, Posts: []natter.Post{p}})
}

func (s *Server) deletePost(w http.ResponseWriter, r *http.Request) error {
	id, err := postIDOf(r)
	if err != nil {
		return err
	}
	if err := s.app.DeletePost(r.Context(), current(r), id); err != nil {
		return err
	}
	s.notice(w, "Your post was deleted.")
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}
