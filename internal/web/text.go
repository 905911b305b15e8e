package web

import (
	"html"
	"html/template"
	"strings"

	"natter/internal/app"
	"natter/internal/natter"
)

// richText renders what a member wrote (a post, a message, an about-me
// text) as it reads: line breaks kept, with at most one empty line in a
// row; web addresses as links, shown shortened; and each @name that names
// a member, now or before a rename, in mentioned as a link to them. Any
// other @name stays text, so @nobody never looks like someone.
//
// It writes the HTML itself, escaping every piece of text: it runs for
// every post of every page (its result is part of the kept post's data,
// fragments.go), and html/template's escapers, run through reflection,
// would cost more than the rest of the post. The only markup it writes is
// <br> and <a> with an href that is either http(s) (app.Segments checks
// the scheme) or /user/{username}, whose names are letters, digits and
// underscores. TestRichText and FuzzRichText hold it to that.
func richText(body string, mentioned natter.Mentions) template.HTML {
	var b strings.Builder
	b.Grow(len(body) + len(body)/4)
	for _, seg := range app.Segments(body) {
		switch {
		case seg.URL != "":
			short := app.ShortURL(seg.Text)
			b.WriteString(`<a href="`)
			b.WriteString(html.EscapeString(seg.URL))
			// Shown shortened; the title has it as written.
			b.WriteString(`" rel="nofollow noopener ugc" title="`)
			b.WriteString(html.EscapeString(seg.Text))
			b.WriteString(`">`)
			b.WriteString(html.EscapeString(short))
			b.WriteString(`</a>`)
		case seg.Mention != "":
			m, ok := mentioned.Lookup(seg.Mention)
			if !ok {
				b.WriteString(html.EscapeString(seg.Text))
				continue
			}
			// The name as written, linking to the member as called now.
			b.WriteString(`<a class="mention user-popup" href="/user/`)
			b.WriteString(html.EscapeString(m.Username))
			b.WriteString(`" data-popup="/user/`)
			b.WriteString(html.EscapeString(m.Username))
			b.WriteString(`/popup">`)
			b.WriteString(html.EscapeString(seg.Text))
			b.WriteString(`</a>`)
		default:
			writeLines(&b, seg.Text)
		}
	}
	return template.HTML(b.String()) // every piece of text above is escaped
}

// text is richText for templates: {{text .Body .Mentioned}} for a post,
// {{text .}} for text without mentions (messages, about-me texts).
func text(body string, mentioned ...natter.Mentions) template.HTML {
	if len(mentioned) == 0 {
		return richText(body, natter.Mentions{})
	}
	return richText(body, mentioned[0])
}

// writeLines writes text escaped, its line breaks as <br>: at most two in a
// row, so that a run of empty lines (or lines of spaces) reads as one
// empty line. Text here never starts or ends a post with a break: stored
// text is trimmed (app.normalizeText).
func writeLines(b *strings.Builder, text string) {
	for {
		line, rest, more := strings.Cut(text, "\n")
		b.WriteString(html.EscapeString(line))
		if !more {
			return
		}
		// How many breaks follow, counting the lines of spaces between them.
		breaks := 1
		for {
			next, after, ok := strings.Cut(rest, "\n")
			if !ok || strings.TrimSpace(next) != "" {
				break
			}
			breaks++
			rest = after
		}
		b.WriteString("<br>\n")
		if breaks > 1 {
			b.WriteString("<br>\n")
		}
		text = rest
	}
}
