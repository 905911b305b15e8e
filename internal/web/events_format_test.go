package web

import (
	"encoding/json"
	"net/http"
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

// A panic on an offStack goroutine is raised again in the caller, where
// the handler's recovery is, with the goroutine's stack; net/http's abort
// passes through as it is.
func TestOffStackCarriesPanics(t *testing.T) {
	caught := func(f func()) (p any) {
		defer func() { p = recover() }()
		offStack(f)
		return nil
	}
	p := caught(func() { panic("boom") })
	op, ok := p.(offStackPanic)
	if !ok || op.value != "boom" || !strings.Contains(op.String(), "TestOffStackCarriesPanics") {
		t.Errorf("recovered %#v, want the panic with its goroutine's stack", p)
	}
	if p := caught(func() { panic(http.ErrAbortHandler) }); p != http.ErrAbortHandler {
		t.Errorf("recovered %v, want http.ErrAbortHandler itself", p)
	}
	if p := caught(func() {}); p != nil {
		t.Errorf("recovered %v from a function that did not panic", p)
	}
}
