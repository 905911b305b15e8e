package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// A notice is the one-time message the next page shows after an action
// ("Your message has been sent."). It travels in a short-lived cookie that
// natter signs, not in the server-side session: a session write after the
// action had committed could fail and turn a success into an error page
// (and a retry into a duplicate), and taking the notice out of the session
// when it is shown made every page a database write, which on a full disk
// made every page fail.
const noticeCookie = "natter_notice"

// noticeLifetime is how long a notice waits for the page that shows it: the
// redirect that follows the action, a moment later.
const noticeLifetime = time.Minute

// notices signs and verifies notice cookies. The key is shared by every
// instance (cmd/natter keeps it in the database), so that the page after
// the redirect may be served by another one; a notice another key signed,
// or an expired one, is simply not shown.
type notices struct {
	key    []byte
	secure bool
	now    func() time.Time
}

// set makes msg the notice of the next page w's client shows.
func (n notices) set(w http.ResponseWriter, msg string) {
	expiry := strconv.FormatInt(n.now().Add(noticeLifetime).Unix(), 10)
	payload := expiry + "." + base64.RawURLEncoding.EncodeToString([]byte(msg))
	http.SetCookie(w, &http.Cookie{
		Name:     noticeCookie,
		Value:    payload + "." + base64.RawURLEncoding.EncodeToString(n.sign(payload)),
		Path:     "/",
		MaxAge:   int(noticeLifetime / time.Second),
		HttpOnly: true,
		Secure:   n.secure,
		SameSite: http.SameSiteLaxMode,
	})
}

// read returns the notice r carries, if it is natter's and still fresh.
func (n notices) read(r *http.Request) string {
	c, err := r.Cookie(noticeCookie)
	if err != nil {
		return ""
	}
	return n.verify(c.Value)
}

// shown has w's client forget the notice r carried, once a page has shown
// it, so that it shows once.
func (n notices) shown(w http.ResponseWriter, r *http.Request) {
	if _, err := r.Cookie(noticeCookie); err == nil {
		http.SetCookie(w, &http.Cookie{Name: noticeCookie, Path: "/", MaxAge: -1, HttpOnly: true, Secure: n.secure, SameSite: http.SameSiteLaxMode})
	}
}

// verify returns the message of a notice cookie's value, or "" when the
// value is not one natter signed or has expired.
func (n notices) verify(value string) string {
	i := strings.LastIndexByte(value, '.')
	if i < 0 {
		return ""
	}
	payload, sig := value[:i], value[i+1:]
	mac, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(mac, n.sign(payload)) {
		return ""
	}
	expiry, text, ok := strings.Cut(payload, ".")
	if !ok {
		return ""
	}
	until, err := strconv.ParseInt(expiry, 10, 64)
	if err != nil || n.now().Unix() > until {
		return ""
	}
	msg, err := base64.RawURLEncoding.DecodeString(text)
	if err != nil {
		return ""
	}
	return string(msg)
}

func (n notices) sign(payload string) []byte {
	h := hmac.New(sha256.New, n.key)
	h.Write([]byte("natter notice\x00"))
	h.Write([]byte(payload))
	return h.Sum(nil)
}
