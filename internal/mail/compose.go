package mail

import (
	"bytes"
	"cmp"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	netmail "net/mail"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode"
	"unicode/utf8"
)

//go:embed templates
var templateFS embed.FS

// Composer renders natter's emails: a plain-text part from text/template and
// an HTML part (inline styles, no remote images, nothing that tracks) from
// html/template, with every link made absolute on the public URL.
type Composer struct {
	cfg  Config
	text *texttemplate.Template
	html *htmltemplate.Template
}

// NewComposer parses the embedded templates for cfg's site.
func NewComposer(cfg Config) (*Composer, error) {
	if cfg.PublicURL == nil {
		return nil, errors.New("mail: composer needs the public URL (use ParseConfig)")
	}
	text, err := texttemplate.ParseFS(templateFS, "templates/*.txt")
	if err != nil {
		return nil, fmt.Errorf("mail: parsing text templates: %w", err)
	}
	html, err := htmltemplate.ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("mail: parsing HTML templates: %w", err)
	}
	return &Composer{cfg: cfg, text: text.Option("missingkey=error"), html: html.Option("missingkey=error")}, nil
}

// Email is one of the emails natter sends: VerifyAddress, RegistrationAttempt,
// PasswordReset, PasswordChanged, Notification or Digest.
type Email interface {
	// view checks the email's data and resolves its links.
	view(c *Composer) (view, error)
}

// Compose renders e for the member at to. Paths in e become absolute links;
// anything that could not be rendered is an error, never half an email.
func (c *Composer) Compose(to *netmail.Address, e Email) (Message, error) {
	if to == nil || to.Address == "" {
		return Message{}, errors.New("mail: compose: no recipient")
	}
	if e == nil {
		return Message{}, errors.New("mail: compose: no email")
	}
	v, err := e.view(c)
	if err != nil {
		return Message{}, fmt.Errorf("mail: compose %T: %w", e, err)
	}
	v.Site = cmp.Or(c.cfg.SiteName, c.cfg.PublicURL.Host)
	v.SiteLink = c.cfg.PublicURL.String()
	if v.SiteLink == "" || !strings.HasSuffix(v.SiteLink, "/") {
		v.SiteLink += "/"
	}
	v.Username = oneLine(v.Username)
	if v.Username == "" {
		return Message{}, fmt.Errorf("mail: compose %T: no username", e)
	}
	var text, html bytes.Buffer
	if err := c.text.ExecuteTemplate(&text, v.template+".txt", v); err != nil {
		return Message{}, fmt.Errorf("mail: rendering %s.txt: %w", v.template, err)
	}
	if err := c.html.ExecuteTemplate(&html, v.template+".html", v); err != nil {
		return Message{}, fmt.Errorf("mail: rendering %s.html: %w", v.template, err)
	}
	return Message{
		To:      to,
		Subject: v.Subject,
		Text:    strings.TrimRight(text.String(), "\n") + "\n",
		HTML:    html.String(),
		Thread:  v.thread,
		List:    v.list,
	}, nil
}

// view is what every template sees. One flat type keeps the templates simple;
// each Email fills the fields it uses.
type view struct {
	template string
	thread   string
	list     *List

	Subject  string
	Site     string // the site's name (Config.SiteName, or the public URL's host)
	SiteLink string
	Username string

	Link      string // the email's main action
	Action    string // the main action's button label
	ResetLink string
	ValidFor  string

	Summary     string
	Period      string
	Items       []itemView
	Reason      string // why the member gets this email: "you asked for …"
	Unsubscribe string
	Settings    string
}

type itemView struct {
	From    string
	Verb    string
	Preview string
	Link    string
}

// VerifyAddress asks a member to prove an email address is theirs.
type VerifyAddress struct {
	Username string
	// Path is the site-relative verification link, such as "/verify-email/TOKEN".
	Path string
	// ValidFor is how long the link works (24 hours), as the email tells it.
	ValidFor time.Duration
}

func (e VerifyAddress) view(c *Composer) (view, error) {
	v := view{template: "verify", Username: e.Username, Action: "Confirm my address",
		Subject: "Confirm your email address for " + c.cfg.PublicURL.Host}
	if err := v.expiringLink(c, e.Path, e.ValidFor); err != nil {
		return view{}, err
	}
	return v, nil
}

// RegistrationAttempt tells the owner of an address that someone tried to
// register with it, so that the registration form itself need not say
// whether the address has an account.
type RegistrationAttempt struct {
	Username string
	// LoginPath and ResetPath are where the owner logs in or resets the password.
	LoginPath string
	ResetPath string
}

func (e RegistrationAttempt) view(c *Composer) (view, error) {
	v := view{template: "registration_attempt", Username: e.Username, Action: "Log in",
		Subject: "Someone tried to register on " + c.cfg.PublicURL.Host + " with your address"}
	var err error
	if v.Link, err = c.cfg.Link(e.LoginPath); err != nil {
		return view{}, err
	}
	if v.ResetLink, err = c.cfg.Link(e.ResetPath); err != nil {
		return view{}, err
	}
	return v, nil
}

// PasswordReset carries a link to choose a new password.
type PasswordReset struct {
	Username string
	// Path is the site-relative reset link, such as "/reset-password/TOKEN".
	Path string
	// ValidFor is how long the link works (one hour), as the email tells it.
	ValidFor time.Duration
}

func (e PasswordReset) view(c *Composer) (view, error) {
	v := view{template: "reset", Username: e.Username, Action: "Choose a new password",
		Subject: "Reset your password on " + c.cfg.PublicURL.Host}
	if err := v.expiringLink(c, e.Path, e.ValidFor); err != nil {
		return view{}, err
	}
	return v, nil
}

// PasswordChanged tells a member their password was changed, with a way back
// in if it was not them.
type PasswordChanged struct {
	Username string
	// ResetPath is where to ask for a reset link.
	ResetPath string
}

func (e PasswordChanged) view(c *Composer) (view, error) {
	v := view{template: "password_changed", Username: e.Username,
		Subject: "Your password on " + c.cfg.PublicURL.Host + " was changed"}
	var err error
	if v.ResetLink, err = c.cfg.Link(e.ResetPath); err != nil {
		return view{}, err
	}
	return v, nil
}

// Kind is a kind of notification a member can get by email, and unsubscribe
// from.
type Kind string

// The kinds natter emails about.
const (
	KindMessage Kind = "message"
	KindMention Kind = "mention"
	KindReply   Kind = "reply"
	KindLike    Kind = "like"
)

// kindWords is how each kind reads in an email.
var kindWords = map[Kind]struct{ one, many, verb string }{
	KindMessage: {"message", "messages", "sent you a message"},
	KindMention: {"mention", "mentions", "mentioned you"},
	KindReply:   {"reply", "replies", "replied to you"},
	KindLike:    {"like", "likes", "liked your post"},
}

// Item is one thing a notification or digest tells of.
type Item struct {
	Kind Kind
	// From is the member who sent the message or wrote the mention.
	From string
	// Preview is the text, shortened in the email to previewRunes.
	Preview string
	// Path is the site-relative link to the item, such as "/messages".
	Path string
	// Others are more members who did the same, newest first: the other
	// likers of a post liked ("bob and carol liked your post").
	Others []string
}

// previewRunes is how much of an item's text an email quotes: a whole natter
// post or message (140 characters), no more.
const previewRunes = 140

// Notification tells a member who is away of several items at once
// ("3 new messages from bob and alice").
type Notification struct {
	Username string
	Items    []Item
	// Path is where to read everything, such as "/messages".
	Path string
	// UnsubscribePath is the one-click unsubscribe link for the kind of email
	// this is (RFC 8058: a POST to it, with no login, unsubscribes at once).
	UnsubscribePath string
	// SettingsPath, optional, is the member's email settings page.
	SettingsPath string
	// Thread, optional, threads every email about one conversation; see
	// Message.Thread.
	Thread string
}

func (e Notification) view(c *Composer) (view, error) {
	v, err := c.itemsView(e.Username, e.Items, e.Path, e.UnsubscribePath, e.SettingsPath)
	if err != nil {
		return view{}, err
	}
	v.template = "notification"
	v.thread = e.Thread
	v.Subject = v.Summary
	return v, nil
}

// Digest sums up what waits for a member who has been away for a while.
type Digest struct {
	Username string
	// Period is "daily" or "weekly".
	Period          string
	Items           []Item
	Path            string
	UnsubscribePath string
	SettingsPath    string
}

func (e Digest) view(c *Composer) (view, error) {
	if e.Period != "daily" && e.Period != "weekly" {
		return view{}, fmt.Errorf("digest period %q is not daily or weekly", e.Period)
	}
	v, err := c.itemsView(e.Username, e.Items, e.Path, e.UnsubscribePath, e.SettingsPath)
	if err != nil {
		return view{}, err
	}
	v.template = "digest"
	v.Period = e.Period
	v.Subject = "Your " + e.Period + " digest from " + c.cfg.PublicURL.Host + ": " + v.Summary
	v.list.ID = "digest"
	v.list.Name = c.cfg.PublicURL.Host + " digest"
	v.Reason = "you asked for a " + e.Period + " digest of what waits for you"
	return v, nil
}

// itemsView builds what notifications and digests share: the items, their
// summary, and the list the email belongs to.
func (c *Composer) itemsView(username string, items []Item, path, unsubscribe, settings string) (view, error) {
	if len(items) == 0 {
		return view{}, errors.New("no items")
	}
	v := view{Username: username, Action: "Read on " + c.cfg.PublicURL.Host}
	var err error
	if v.Link, err = c.cfg.Link(path); err != nil {
		return view{}, err
	}
	if v.Unsubscribe, err = c.cfg.Link(unsubscribe); err != nil {
		return view{}, fmt.Errorf("unsubscribe: %w", err)
	}
	if settings != "" {
		if v.Settings, err = c.cfg.Link(settings); err != nil {
			return view{}, fmt.Errorf("settings: %w", err)
		}
	}
	var kinds []Kind
	counts := map[Kind]int{}
	var names []string
	seen := map[string]bool{}
	for _, it := range items {
		words, ok := kindWords[it.Kind]
		if !ok {
			return view{}, fmt.Errorf("item kind %q is unknown", it.Kind)
		}
		from := oneLine(it.From)
		if from == "" {
			return view{}, errors.New("item without a sender")
		}
		link, err := c.cfg.Link(it.Path)
		if err != nil {
			return view{}, err
		}
		who := []string{from}
		for _, o := range it.Others {
			if o := oneLine(o); o != "" {
				who = append(who, o)
			}
		}
		v.Items = append(v.Items, itemView{From: joinNames(who), Verb: words.verb, Preview: preview(it.Preview), Link: link})
		if counts[it.Kind] == 0 {
			kinds = append(kinds, it.Kind)
		}
		counts[it.Kind] += len(who)
		for _, name := range who {
			if !seen[name] {
				seen[name] = true
				names = append(names, name)
			}
		}
	}
	var parts []string
	for i, k := range kinds {
		noun := kindWords[k].one
		if counts[k] != 1 {
			noun = kindWords[k].many
		}
		part := strconv.Itoa(counts[k]) + " " + noun
		if i == 0 {
			part = strconv.Itoa(counts[k]) + " new " + noun
		}
		parts = append(parts, part)
	}
	v.Summary = joinAnd(parts) + " from " + joinNames(names)

	// One list per kind, so that one click stops that kind only; an email
	// mixing kinds belongs to the list of all notifications.
	v.list = &List{ID: "notifications", Name: c.cfg.PublicURL.Host + " notifications", Unsubscribe: v.Unsubscribe}
	v.Reason = "you asked for email about new notifications while you are away"
	if len(kinds) == 1 {
		plural := kindWords[kinds[0]].many
		v.list.ID = plural
		v.list.Name = c.cfg.PublicURL.Host + " " + plural
		v.Reason = "you asked for email about new " + plural + " while you are away"
	}
	return v, nil
}

// joinNames names up to three people, and counts the rest.
func joinNames(names []string) string {
	if len(names) > 3 {
		return strings.Join(names[:2], ", ") + " and " + strconv.Itoa(len(names)-2) + " others"
	}
	return joinAnd(names)
}

func joinAnd(words []string) string {
	if len(words) <= 1 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

// oneLine makes a member-supplied string safe for a subject line and a
// one-line mention: control characters (line breaks above all) become spaces.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// preview shortens a member's text for quoting in an email.
func preview(s string) string {
	s = oneLine(s)
	if utf8.RuneCountInString(s) <= previewRunes {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:previewRunes-1])) + "…"
}

// humanDuration says how long a link works, in the words an email uses.
func humanDuration(d time.Duration) (string, error) {
	switch {
	case d <= 0:
		return "", errors.New("link lifetime is not set")
	case d%(24*time.Hour) == 0 && d >= 48*time.Hour:
		return strconv.Itoa(int(d/(24*time.Hour))) + " days", nil
	case d%time.Hour == 0:
		if d == time.Hour {
			return "1 hour", nil
		}
		return strconv.Itoa(int(d/time.Hour)) + " hours", nil
	case d%time.Minute == 0:
		return strconv.Itoa(int(d/time.Minute)) + " minutes", nil
	}
	return "", fmt.Errorf("link lifetime %v is not a whole number of minutes", d)
}

// expiringLink sets the view's link to path and says how long it works:
// the verification and reset emails carry one each.
func (v *view) expiringLink(c *Composer, path string, valid time.Duration) error {
	var err error
	if v.Link, err = c.cfg.Link(path); err != nil {
		return err
	}
	v.ValidFor, err = humanDuration(valid)
	return err
}
