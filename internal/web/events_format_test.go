package web

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"natter/internal/natter"
)

// appendEvent writes without reflection what encoding/json writes for the
// /notifications object, and falls back to it for any other name.
func TestAppendEvent(t *testing.T) {
	at := time.UnixMicro(1764579600123456).UTC()
	for _, n := range []natter.Notification{
		{Seq: 7, Name: "unread_message_count", Data: json.RawMessage(`3`), Time: at},
		{Seq: 12345678901, Name: "unread_activity_count", Data: json.RawMessage(`0`), Time: time.UnixMicro(1764579600000000)},
		{Seq: 1, Name: `odd "name"`, Data: json.RawMessage(`{"x":[1,2]}`), Time: at},
	} {
		want, _ := json.Marshal(toJSON(n))
		got := string(appendEvent(nil, n))
		id, name, data, ok := splitEvent(got)
		if !ok {
			t.Fatalf("not one SSE event: %q", got)
		}
		if id != strconv.FormatInt(n.Seq, 10) || name != n.Name || data != string(want) {
			t.Errorf("event %q\nwant id %d, event %q, data %s", got, n.Seq, n.Name, want)
		}
	}
}

// splitEvent reads one event of the form appendEvent writes.
func splitEvent(ev string) (id, name, data string, ok bool) {
	body, ok := strings.CutSuffix(ev, "\n\n")
	lines := strings.Split(body, "\n")
	if !ok || len(lines) != 3 {
		return "", "", "", false
	}
	id, ok1 := strings.CutPrefix(lines[0], "id: ")
	name, ok2 := strings.CutPrefix(lines[1], "event: ")
	data, ok3 := strings.CutPrefix(lines[2], "data: ")
	return id, name, data, ok1 && ok2 && ok3
}

// The reset event carries, under the newest id, the array
// /notifications?since=0 returns: the page replaces what it shows with it.
func TestAppendReset(t *testing.T) {
	at := time.UnixMicro(1764579600123456).UTC()
	notes := []natter.Notification{
		{Seq: 4, Name: "unread_activity_count", Data: json.RawMessage(`2`), Time: at},
		{Seq: 9, Name: "unread_message_count", Data: json.RawMessage(`0`), Time: at},
	}
	list := make([]notificationJSON, len(notes))
	for i, n := range notes {
		list[i] = toJSON(n)
	}
	want, _ := json.Marshal(list)
	id, name, data, ok := splitEvent(string(appendReset(nil, 9, notes)))
	if !ok || id != "9" || name != "reset" || data != string(want) {
		t.Errorf("reset: id %q, event %q, data %s\nwant id 9, event reset, data %s", id, name, data, want)
	}
	if _, _, data, _ := splitEvent(string(appendReset(nil, 0, nil))); data != "[]" {
		t.Errorf("reset with no notifications: data %s, want []", data)
	}
}
