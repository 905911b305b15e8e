package store_test

import (
	"bytes"
	"encoding/gob"
	"reflect"
	"testing"
	"time"

	"natter/internal/store"
)

func TestSessionCodecRoundTrip(t *testing.T) {
	deadline := time.Date(2026, 12, 1, 12, 0, 0, 123456789, time.UTC)
	values := map[string]any{
		"user_id":      int64(42),
		"flash":        "Your message has been sent.",
		"__rememberMe": true,
		"empty":        "",
		"negative":     int64(-7),
		"when":         time.Unix(1700000000, 5).UTC(),
	}
	var c store.SessionCodec
	data, err := c.Encode(deadline, values)
	if err != nil {
		t.Fatal(err)
	}
	gotDeadline, got, err := c.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if !gotDeadline.Equal(deadline) {
		t.Errorf("deadline %v, want %v", gotDeadline, deadline)
	}
	if w, g := values["when"].(time.Time), got["when"].(time.Time); !w.Equal(g) {
		t.Errorf("time value %v, want %v", g, w)
	}
	delete(values, "when")
	delete(got, "when")
	if !reflect.DeepEqual(got, values) {
		t.Errorf("values %#v, want %#v", got, values)
	}
}

// Sessions written by scs's default gob codec, before natter had its own,
// are refused like any other unreadable data: the web layer reads them as
// no session (its forgiving codec), and their members log in again.
func TestSessionCodecRefusesGob(t *testing.T) {
	aux := struct {
		Deadline time.Time
		Values   map[string]any
	}{time.Now().Add(time.Hour), map[string]any{"user_id": int64(7), "flash": "hi"}}
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(&aux); err != nil {
		t.Fatal(err)
	}
	if _, values, err := (store.SessionCodec{}).Decode(b.Bytes()); err == nil {
		t.Errorf("gob decoded as %v, want an error", values)
	}
}

func TestSessionCodecRefuses(t *testing.T) {
	if _, err := (store.SessionCodec{}).Encode(time.Now(), map[string]any{"x": 3.5}); err == nil {
		t.Error("a float64 value was encoded; natter stores none, and it would not decode as one")
	}
	good, _ := store.SessionCodec{}.Encode(time.Now(), map[string]any{"user_id": int64(1), "flash": "hello"})
	for _, bad := range [][]byte{
		{0},
		{0, 99},
		good[:len(good)-1],
		append(append([]byte{}, good...), 0),
		{0, 1, 2, 0xff, 0xff, 0xff, 0xff, 0x0f},
	} {
		if _, _, err := (store.SessionCodec{}).Decode(bad); err == nil {
			t.Errorf("no error for %x", bad)
		}
	}
}

// Whatever bytes a session row holds, Decode returns an error or values
// that encode back to the same deadline and values: it never panics.
func FuzzSessionCodec(f *testing.F) {
	seed, _ := store.SessionCodec{}.Encode(time.Unix(1, 2), map[string]any{"user_id": int64(1), "flash": "x", "r": true})
	f.Add(seed)
	f.Add([]byte{0, 1, 0, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var c store.SessionCodec
		deadline, values, err := c.Decode(data)
		if err != nil {
			return
		}
		again, err := c.Encode(deadline, values)
		if err != nil {
			t.Fatalf("decoded values do not encode: %v", err)
		}
		d2, v2, err := c.Decode(again)
		if err != nil || !d2.Equal(deadline) || len(v2) != len(values) {
			t.Fatalf("round trip changed %v %v into %v %v (%v)", deadline, values, d2, v2, err)
		}
	})
}

func BenchmarkSessionCodecDecode(b *testing.B) {
	values := map[string]any{"user_id": int64(42), "__rememberMe": true}
	data, _ := store.SessionCodec{}.Encode(time.Now(), values)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := (store.SessionCodec{}).Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}
