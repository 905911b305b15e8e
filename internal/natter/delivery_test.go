package natter_test

import (
	"testing"
	"time"

	"natter/internal/natter"
)

func TestQuietUntil(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, paris)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	overnight := natter.Prefs{QuietFrom: 22 * 60, QuietTo: 7 * 60, TimeZone: "Europe/Paris"}
	daytime := natter.Prefs{QuietFrom: 13 * 60, QuietTo: 14 * 60, TimeZone: "Europe/Paris"}
	for _, tt := range []struct {
		name  string
		p     natter.Prefs
		now   time.Time
		until time.Time // zero: not quiet
	}{
		{"OvernightBeforeMidnight", overnight, at("2026-03-02 23:10"), at("2026-03-03 07:00")},
		{"OvernightAfterMidnight", overnight, at("2026-03-03 02:00"), at("2026-03-03 07:00")},
		{"OvernightEnded", overnight, at("2026-03-03 07:00"), time.Time{}},
		{"OvernightNotYet", overnight, at("2026-03-02 21:59"), time.Time{}},
		{"Daytime", daytime, at("2026-03-02 13:30"), at("2026-03-02 14:00")},
		{"DaytimeOutside", daytime, at("2026-03-02 12:30"), time.Time{}},
		{"None", natter.Prefs{}, at("2026-03-02 13:30"), time.Time{}},
		// The night the clocks go forward is an hour shorter.
		{"AcrossDST", overnight, at("2026-03-28 23:00"), at("2026-03-29 07:00")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			until, quiet := tt.p.QuietUntil(tt.now.UTC())
			if quiet != !tt.until.IsZero() || (quiet && !until.Equal(tt.until)) {
				t.Errorf("QuietUntil(%v) = %v, %v; want %v", tt.now, until, quiet, tt.until)
			}
		})
	}
}

func TestPrefsDefaults(t *testing.T) {
	p := natter.DefaultPrefs()
	for _, k := range natter.NotifyingKinds {
		got := p.Kind(k)
		if k == natter.KindLike {
			// Likes ask nothing of the member: the centre alone, by default.
			if got.Push || got.Email != natter.EmailNever {
				t.Errorf("default for likes is %+v, want neither pushed nor emailed", got)
			}
			continue
		}
		if !got.Push || got.Email != natter.EmailAway {
			t.Errorf("default for %s is %+v, want pushed and emailed when away", k, got)
		}
	}
	if !p.Previews {
		t.Error("previews are off by default")
	}
	if (natter.Prefs{TimeZone: "Nowhere/Land"}).Location() != time.UTC {
		t.Error("an unknown zone is not UTC")
	}
}
