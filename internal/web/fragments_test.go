package web

import (
	"html/template"
	"testing"
)

// The cache holds at most two generations: items in use survive a turn,
// the rest age out.
func TestFragmentCacheGenerations(t *testing.T) {
	c := newFragmentCache(2)
	key := func(id int64) fragmentKey { return fragmentKey{template: "post", data: id} }
	c.put(key(1), "one")
	c.put(key(2), "two")
	c.put(key(3), "three") // 1 and 2 become the previous generation
	if h, ok := c.get(key(1)); !ok || h != "one" {
		t.Fatalf("item 1: %q %v, want it from the previous generation", h, ok)
	}
	// 1 moved back, filling the current generation (3, 1); the next put
	// retires it, and 2, never used, is gone.
	c.put(key(4), "four")
	if _, ok := c.get(key(2)); ok {
		t.Error("item 2 outlived two generations unused")
	}
	for id, want := range map[int64]template.HTML{1: "one", 3: "three", 4: "four"} {
		if h, ok := c.get(key(id)); !ok || h != want {
			t.Errorf("item %d: %q %v, want %q", id, h, ok, want)
		}
	}
	if n := len(c.cur) + len(c.prev); n > 4 {
		t.Errorf("%d items kept, want at most 2 × 2", n)
	}
}
