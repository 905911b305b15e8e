package web

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"natter/internal/natter"
)

// A conversation's layout: a separator where each (UTC) day begins, named
// "Today", "Yesterday" or by its date; a run of one side's messages ends
// where the other side writes or a day ends.
func TestThreadLayout(t *testing.T) {
	now := time.Date(2026, 12, 2, 9, 30, 0, 0, time.UTC)
	me, peer := natter.MemberRef{ID: 1, Username: "bob"}, natter.MemberRef{ID: 2, Username: "alice"}
	msg := func(from natter.MemberRef, at time.Time) natter.Message {
		return natter.Message{Sender: from, CreatedAt: at}
	}
	items := thread([]natter.Message{
		msg(peer, time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)),
		msg(peer, time.Date(2026, 11, 28, 23, 59, 0, 0, time.UTC)),
		msg(peer, time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)),
		msg(me, time.Date(2026, 12, 1, 8, 1, 0, 0, time.UTC)),
		msg(me, time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)),
		msg(me, time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)),
	}, me.ID, now)
	var got []string
	for _, it := range items {
		got = append(got, fmt.Sprintf("%s|%s|%v|%v", it.Day, it.Clock, it.Mine, it.Tail))
	}
	want := []string{
		"Sunday, 1 June 2025|12:00|false|true",
		"Saturday, 28 November|23:59|false|true",
		"Yesterday|08:00|false|true",
		"|08:01|true|true",
		"Today|00:00|true|false",
		"|09:00|true|true",
	}
	if !slices.Equal(got, want) {
		t.Errorf("thread\n%q\nwant\n%q", got, want)
	}
	if items[0].DayISO != "2025-06-01" {
		t.Errorf("DayISO %q", items[0].DayISO)
	}
	if len(thread(nil, me.ID, now)) != 0 {
		t.Error("an empty conversation has items")
	}
}
