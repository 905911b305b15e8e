package web

import (
	"net/http"
	"strconv"

	"natter/internal/natter"
)

type postPage struct {
	Page page
	Post natter.Post
	// Posts is Post alone, for the list template that every post is
	// rendered with.
	Posts []natter.Post
}

// showPost is a post's own page, /post/{id}, where its time links from
// every list. Opening it reads the member's notifications about it.
func (s *Server) showPost(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return natter.Errorf(natter.NotFound, "There is no such post.")
	}
	post, left, err := s.app.ReadPost(r.Context(), current(r), id)
	if err != nil {
		return err
	}
	p := &postPage{Page: s.base(r, "Post by "+post.Author.Username, ""), Post: post, Posts: []natter.Post{post}}
	// Reading the post may have lowered the count loaded earlier.
	p.Page.Me.UnreadActivity = left
	return s.render(w, r, http.StatusOK, "post", p)
}
