package web

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// avatarURL is the template function "avatar".
func avatarURL(userID int64) string {
	return "/avatar/" + strconv.FormatInt(userID, 10)
}

// serveAvatar draws a member's identicon: a symmetric 5×5 pattern in a
// colour, both derived from a hash of the member's id. It is generated
// here, so no page asks another site for a picture, and it depends on
// nothing in the database, so it is the same on every instance and for ever.
func (s *Server) serveAvatar(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 0 {
		http.NotFound(w, r)
		return
	}
	svg := identicon(id)
	h := w.Header()
	h.Set("Content-Type", "image/svg+xml")
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("Content-Length", strconv.Itoa(len(svg)))
	w.Write([]byte(svg))
}

func identicon(id int64) string {
	sum := sha256.Sum256([]byte("natter-avatar:" + strconv.FormatInt(id, 10)))
	hue := int(sum[0]) * 360 / 256
	var b strings.Builder
	// Saturation and lightness are fixed so that every colour contrasts
	// with the light background.
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 5 5" shape-rendering="crispEdges">`+
		`<rect width="5" height="5" fill="hsl(%d,30%%,94%%)"/><g fill="hsl(%d,55%%,42%%)">`, hue, hue)
	bit := 0
	for x := 0; x < 3; x++ {
		for y := 0; y < 5; y++ {
			if sum[1+bit/8]>>(bit%8)&1 == 1 {
				fmt.Fprintf(&b, `<rect x="%d" y="%d" width="1" height="1"/>`, x, y)
				if x != 2 {
					fmt.Fprintf(&b, `<rect x="%d" y="%d" width="1" height="1"/>`, 4-x, y)
				}
			}
			bit++
		}
	}
	b.WriteString(`</g></svg>`)
	return b.String()
}
