package web

import (
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"natter/internal/natter"
)

// What members write reads as they wrote it: line breaks (at most one
// empty line), addresses as links, and mentions of members who exist.
func TestRichText(t *testing.T) {
	bob := natter.MemberRef{ID: 2, Username: "Robert"} // once called bob
	mentioned := natter.MentionsOf([]string{"bob", "robert"}, map[string]natter.MemberRef{"bob": bob, "robert": bob})
	for _, tt := range []struct{ name, body, want string }{
		{"Plain", "hello", "hello"},
		{"Escaped", `<b>&"'</b>`, "&lt;b&gt;&amp;&#34;&#39;&lt;/b&gt;"},
		{"LineBreaks", "a\nb\n\nc", "a<br>\nb<br>\n<br>\nc"},
		{"EmptyLinesCollapse", "a\n\n\n\n  \n\t\nb", "a<br>\n<br>\nb"},
		{"Link", "see https://go.dev/doc.", `see <a href="https://go.dev/doc" rel="nofollow noopener ugc" title="https://go.dev/doc">go.dev/doc</a>.`},
		{"LongLink", "https://example.com/a/very/long/path/that/goes/on?q=1&r=2",
			`<a href="https://example.com/a/very/long/path/that/goes/on?q=1&amp;r=2" rel="nofollow noopener ugc" title="https://example.com/a/very/long/path/that/goes/on?q=1&amp;r=2">example.com/a/very/long/path/…</a>`},
		{"Mention", "hi @bob!", `hi <a class="mention user-popup" href="/user/Robert" data-popup="/user/Robert/popup">@bob</a>!`},
		{"Nobody", "hi @nobody", "hi @nobody"},
		{"Email", "alice@bob.example", "alice@bob.example"},
		{"MentionInAddress", "https://social.example/@bob", `<a href="https://social.example/@bob" rel="nofollow noopener ugc" title="https://social.example/@bob">social.example/@bob</a>`},
		{"NotALink", "javascript:alert(1) data:text/html,x", "javascript:alert(1) data:text/html,x"},
		{"LinkThenBreak", "https://go.dev\n\n\nnext", `<a href="https://go.dev" rel="nofollow noopener ugc" title="https://go.dev">go.dev</a><br>` + "\n<br>\nnext"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(richText(tt.body, mentioned)); got != tt.want {
				t.Errorf("richText(%q)\n got %s\nwant %s", tt.body, got, tt.want)
			}
			checkRichText(t, tt.body, string(richText(tt.body, mentioned)))
		})
	}
}

// The web tests' HTML-injection payloads (TestHTMLInjection), alone and
// inside and around addresses, come out as text.
func TestRichTextInjection(t *testing.T) {
	payloads := []string{
		`<script>alert(1)</script>`,
		`"><img src=x onerror=alert(1)>`,
		`'><svg onload=alert(1)>`,
		`javascript:alert(1)`,
		`https://x.example/"><script>alert(1)</script>`,
		`https://x.example/'onmouseover='alert(1)`,
		`https://x.example/javascript:alert(1)`,
		`http://"onmouseover="alert(1)`,
		`https://x.example/<img src=x onerror=alert(1)>`,
		`@bob"><script>alert(1)</script>`,
		"https://x.example/\u202Egnp.exe",
	}
	mentioned := natter.MentionsOf([]string{"bob"}, map[string]natter.MemberRef{"bob": {ID: 2, Username: "bob"}})
	for _, p := range payloads {
		for _, body := range []string{p, "see " + p + " now", p + "\n" + p} {
			out := string(richText(body, mentioned))
			checkRichText(t, body, out)
			if strings.Contains(out, "<script") || strings.Contains(out, "<img") || strings.Contains(out, "<svg") {
				t.Errorf("richText(%q) lets markup through: %s", body, out)
			}
		}
	}
}

// Whatever is typed, the result is well-formed, links only to http(s)
// addresses and members' profiles, and says what was typed.
func FuzzRichText(f *testing.F) {
	for _, s := range []string{"hello @bob https://go.dev/(x)", "a\n\n\nb", `<a href="javascript:x">`, "https://bücher.example/ß。", "@@bob", "http://[::1]/", "https://x.example/%zz"} {
		f.Add(s)
	}
	mentioned := natter.MentionsOf([]string{"bob"}, map[string]natter.MemberRef{"bob": {ID: 2, Username: "bob"}})
	f.Fuzz(func(t *testing.T, body string) {
		checkRichText(t, body, string(richText(body, mentioned)))
	})
}

var (
	// The only markup richText writes.
	tagRE     = regexp.MustCompile(`<[^>]*>`)
	linkTagRE = regexp.MustCompile(`^<a href="([^"<>]*)" rel="nofollow noopener ugc" title="([^"<>]*)">$`)
	userTagRE = regexp.MustCompile(`^<a class="mention user-popup" href="/user/(\w+)" data-popup="/user/(\w+)/popup">$`)
	entityRE  = regexp.MustCompile(`&(amp|lt|gt|#34|#39);`)
)

// checkRichText checks out, richText's rendering of body: only <br>, </a>
// and its two kinds of <a> (never nested, always closed); no raw <, > or &
// in text or attributes; hrefs http(s) or a profile; and, read back (each
// address as written, each break as a line break), the text of body, but
// for the spaces of the empty lines it collapsed.
func checkRichText(t *testing.T, body, out string) {
	t.Helper()
	var read strings.Builder
	// inLink: inside <a>; shortened: inside an address's link, whose
	// text is a shortened form of its title.
	inLink, shortened, breaks := false, false, 0
	last := 0
	for _, loc := range tagRE.FindAllStringIndex(out, -1) {
		text, tag := out[last:loc[0]], out[loc[0]:loc[1]]
		last = loc[1]
		checkEscaped(t, out, text)
		if !shortened {
			readText(text, &read)
		}
		if strings.TrimSpace(text) != "" {
			breaks = 0
		}
		switch {
		case tag == "<br>":
			if breaks++; breaks > 2 {
				t.Errorf("%q: more than two breaks in a row: %s", body, out)
			}
			if inLink {
				t.Errorf("%q: a break inside a link: %s", body, out)
			}
			read.WriteString("\n")
		case tag == "</a>":
			if !inLink {
				t.Errorf("%q: </a> without <a>: %s", body, out)
			}
			inLink, shortened = false, false
		case strings.HasPrefix(tag, "<a "):
			if inLink {
				t.Errorf("%q: nested links: %s", body, out)
			}
			inLink, breaks = true, 0
			if m := userTagRE.FindStringSubmatch(tag); m != nil {
				if m[1] != m[2] {
					t.Errorf("%q: a mention's link and popup differ: %s", body, tag)
				}
				break
			}
			m := linkTagRE.FindStringSubmatch(tag)
			if m == nil {
				t.Errorf("%q: unexpected link %s", body, tag)
				break
			}
			href := html.UnescapeString(m[1])
			u, err := url.Parse(href)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
				t.Errorf("%q: href %q is not an http(s) address", body, href)
			}
			read.WriteString(html.UnescapeString(m[2]))
			shortened = true
		default:
			t.Errorf("%q: unexpected markup %s in %s", body, tag, out)
		}
	}
	checkEscaped(t, out, out[last:])
	readText(out[last:], &read)
	if inLink {
		t.Errorf("%q: unclosed link: %s", body, out)
	}
	if got, want := noSpace(read.String()), noSpace(body); got != want && strings.ToValidUTF8(want, "\uFFFD") != got {
		t.Errorf("%q reads back as %q", body, read.String())
	}
}

func checkEscaped(t *testing.T, out, text string) {
	t.Helper()
	if strings.ContainsAny(entityRE.ReplaceAllString(text, ""), "<>&") {
		t.Errorf("unescaped markup in %q: %s", text, out)
	}
}

func readText(text string, read *strings.Builder) {
	read.WriteString(html.UnescapeString(text))
}

func noSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// BenchmarkRichText renders a full post with a link, a mention and line
// breaks: the cost of a post not yet kept (fragments.go).
func BenchmarkRichText(b *testing.B) {
	body := "Finished the blue birdhouse today.\n\nPlans at https://en.wikipedia.org/wiki/Nest_box, thanks @bob! And @nobody."
	mentioned := natter.MentionsOf([]string{"bob"}, map[string]natter.MemberRef{"bob": {ID: 2, Username: "bob"}})
	b.ReportAllocs()
	for b.Loop() {
		richText(body, mentioned)
	}
}
