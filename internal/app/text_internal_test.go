package app

import (
	"slices"
	"testing"
)

// Web addresses in text: what is one, where it ends, what it links to.
func TestFindURL(t *testing.T) {
	for _, tt := range []struct {
		text string
		want []string // the addresses' text, then the link, in pairs
	}{
		{"see https://go.dev.", []string{"https://go.dev", "https://go.dev"}},
		{"(https://go.dev/doc)", []string{"https://go.dev/doc", "https://go.dev/doc"}},
		{"https://en.wikipedia.org/wiki/Go_(programming_language), ok", []string{"https://en.wikipedia.org/wiki/Go_(programming_language)", "https://en.wikipedia.org/wiki/Go_(programming_language)"}},
		{"HTTPS://Example.com/A?b=1&c=2#x!", []string{"HTTPS://Example.com/A?b=1&c=2#x", "https://Example.com/A?b=1&c=2#x"}},
		{"two: http://a.example/ and https://b.example:8443/p", []string{"http://a.example/", "http://a.example/", "https://b.example:8443/p", "https://b.example:8443/p"}},
		{"https://bücher.example/straße。", []string{"https://bücher.example/straße", "https://bücher.example/stra%C3%9Fe"}},
		{"«https://go.dev»", []string{"https://go.dev", "https://go.dev"}},
		{"http://[::1]:8080/x", []string{"http://[::1]:8080/x", "http://[::1]:8080/x"}},
		{`https://x.example/"><script>`, []string{"https://x.example/", "https://x.example/"}},
		// Not addresses.
		{"javascript:alert(1)", nil},
		{"javascript://https://x.example", nil},
		{"xhttps://x.example", nil},
		{"data:text/html,https", nil},
		{"https://", nil},
		{"https://.", nil},
		{"https://-x-.example", nil},
		{"https://bank.example@evil.example/", nil},
		{"https://x.example:99999999/", nil},
		{"ftp://x.example", nil},
		{"https:/x.example", nil},
	} {
		var got []string
		for pos := 0; ; {
			start, end, link := findURL(tt.text, pos)
			if start < 0 {
				break
			}
			got = append(got, tt.text[start:end], link)
			pos = end
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("findURL(%q): %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestShortURL(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"https://go.dev", "go.dev"},
		{"https://www.example.com/", "example.com"},
		{"http://example.com/a/very/long/path/that/goes/on", "example.com/a/very/long/path/…"},
		{"https://пример.испытание/путь", "пример.испытание/путь"},
	} {
		if got := ShortURL(tt.in); got != tt.want {
			t.Errorf("ShortURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// An @name inside an address is part of it: it mentions nobody.
func TestMentionsSkipAddresses(t *testing.T) {
	got := Mentions("@alice see https://social.example/@bob and @carol")
	if want := []string{"alice", "carol"}; !slices.Equal(got, want) {
		t.Errorf("Mentions: %q, want %q", got, want)
	}
}
