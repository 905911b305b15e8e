package web

import (
	"html/template"
	"strings"
	"testing"
	"time"
)

// The cache holds at most two generations: items in use survive a turn,
// the rest age out.
func TestFragmentCacheGenerations(t *testing.T) {
	c := newFragmentCache[int64](2)
	c.put(1, "one")
	c.put(2, "two")
	c.put(3, "three") // 1 and 2 become the previous generation
	if h, ok := c.get(1); !ok || h != "one" {
		t.Fatalf("item 1: %q %v, want it from the previous generation", h, ok)
	}
	// 1 moved back, filling the current generation (3, 1); the next put
	// retires it, and 2, never used, is gone.
	c.put(4, "four")
	if _, ok := c.get(2); ok {
		t.Error("item 2 outlived two generations unused")
	}
	for id, want := range map[int64]template.HTML{1: "one", 3: "three", 4: "four"} {
		if h, ok := c.get(id); !ok || h != want {
			t.Errorf("item %d: %q %v, want %q", id, h, ok, want)
		}
	}
	if n := len(c.cur) + len(c.prev); n > 4 {
		t.Errorf("%d items kept, want at most 2 × 2", n)
	}
}

// A partial's data must compare equal exactly when it shows the same: the
// kept partials' types pass, and types that hold an interface (which
// panics as a map key once it holds a slice) or a pointer (equal while
// what it points to changes) are refused when the server starts.
func TestFragmentDataTypes(t *testing.T) {
	set := template.Must(template.New("").Parse(`{{define "p"}}{{.}}{{end}}`))
	newPartial[top](set, "p", 1)
	newPartial[field](set, "p", 1)
	newPartial[pager](set, "p", 1)
	newPartial[postItem](set, "p", 1)
	newPartial[receivedItem](set, "p", 1)
	newPartial[time.Time](set, "p", 1)

	refused := func(name string, mk func()) {
		t.Helper()
		defer func() {
			if p := recover(); p == nil {
				t.Errorf("%s: accepted as a partial's data", name)
			} else if !strings.Contains(p.(string), "compared by identity") {
				t.Errorf("%s: %v", name, p)
			}
		}()
		mk()
	}
	type withAny struct {
		Name string
		Data any
	}
	type withPointer struct{ Me *int }
	type nested struct{ Inner [2]withAny }
	refused("any", func() { newPartial[any](set, "p", 1) })
	refused("a struct with an interface field", func() { newPartial[withAny](set, "p", 1) })
	refused("a struct with a pointer", func() { newPartial[withPointer](set, "p", 1) })
	refused("an array of structs with an interface", func() { newPartial[nested](set, "p", 1) })
}

// The kept partials may call pure functions only: the clock (stamp) and
// the page's other functions fail the render, so a partial that asks for
// the time fails its first test rather than keep a stale "3 minutes ago".
func TestFragmentFuncsReadNoClock(t *testing.T) {
	s := &Server{}
	kept := s.fragmentFuncs()
	pure := s.pureFuncs()
	for name := range s.funcs() {
		if _, ok := kept[name]; !ok {
			t.Errorf("%s is missing from the kept set: its templates would not parse", name)
		}
	}
	if _, ok := pure["stamp"]; ok {
		t.Error("stamp, which reads the clock, is among the pure functions")
	}
	tmpl := template.Must(template.New("").Funcs(kept).Parse(`{{define "clock"}}{{stamp .}}{{end}}{{define "list"}}{{posts .}}{{end}}{{define "pure"}}{{iso .}}{{end}}`))
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, name := range []string{"clock", "list"} {
		var b strings.Builder
		err := tmpl.ExecuteTemplate(&b, name, at)
		if err == nil || !strings.Contains(err.Error(), "a kept fragment may not call") {
			t.Errorf("%s: rendered %q, %v; want refused", name, b.String(), err)
		}
	}
	var b strings.Builder
	if err := tmpl.ExecuteTemplate(&b, "pure", at); err != nil || b.String() != "2026-01-02T03:04:05Z" {
		t.Errorf("pure: %q, %v", b.String(), err)
	}
}
