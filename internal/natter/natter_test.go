package natter_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"natter/internal/natter"
)

func TestErrorKind(t *testing.T) {
	if natter.ErrorKind(errors.New("disk on fire")) != natter.Internal {
		t.Error("a plain error is not Internal")
	}
	if natter.ErrorKind(nil) != natter.Internal || natter.ErrorOf(nil) != nil {
		t.Error("nil has a kind")
	}
	if natter.ErrorKind(fmt.Errorf("wrapped: %w", natter.ErrNotFound)) != natter.NotFound {
		t.Error("a wrapped error lost its kind")
	}
	if natter.ErrorOf(&natter.Error{Kind: natter.Internal, Message: "secret detail"}) != nil {
		t.Error("an Internal error is offered to the member")
	}
	e := &natter.Error{Kind: natter.Invalid, Message: "Please correct the errors below.", Fields: map[string]string{"b": "B.", "a": "A."}}
	if got := e.Error(); got != "a: A.; b: B." {
		t.Errorf("Error() = %q, want the fields in order", got)
	}
	if got := natter.ErrorOf(fmt.Errorf("store: %w", fmt.Errorf("tx: %w", e))); got != e {
		t.Errorf("ErrorOf(twice wrapped) = %v, want the error itself with its fields", got)
	}
}

// Printing or logging credentials in any of the usual ways shows no hash.
func TestCredentialsRedacted(t *testing.T) {
	const hash = "$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaA"
	c := natter.Credentials{MemberID: 7, PasswordHash: hash}
	var logged bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&logged, nil), slog.NewJSONHandler(&logged, nil)} {
		slog.New(h).Info("login", "cred", c, slog.Any("ptr", &c))
	}
	js, err := json.Marshal(struct{ C natter.Credentials }{c})
	if err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{
		"%v":              fmt.Sprintf("%v", c),
		"%+v":             fmt.Sprintf("%+v", c),
		"%#v":             fmt.Sprintf("%#v", c),
		"%s":              fmt.Sprintf("%s", c),
		"%v of a pointer": fmt.Sprintf("%v", &c),
		"%v in a struct":  fmt.Sprintf("%+v", struct{ C natter.Credentials }{c}),
		"slog":            logged.String(),
		"json":            string(js),
	} {
		if strings.Contains(out, "argon2") || strings.Contains(out, "aGFzaA") {
			t.Errorf("%s shows the hash: %s", name, out)
		}
		if !strings.Contains(out, "7") {
			t.Errorf("%s lost the member id: %s", name, out)
		}
	}
}

// The types that go into pages, caches and logs cannot hold a credential:
// no field of theirs, however deep, is a hash or a Credentials. (A new
// field that would be fails here, not in a leak.)
func TestShownTypesHoldNoCredentials(t *testing.T) {
	credentials := reflect.TypeFor[natter.Credentials]()
	var check func(path string, typ reflect.Type, seen map[reflect.Type]bool)
	check = func(path string, typ reflect.Type, seen map[reflect.Type]bool) {
		if seen[typ] {
			return
		}
		seen[typ] = true
		switch typ.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
			check(path, typ.Elem(), seen)
		case reflect.Struct:
			if typ == credentials {
				t.Errorf("%s holds natter.Credentials", path)
			}
			for f := range typ.Fields() {
				name := strings.ToLower(f.Name)
				if strings.Contains(name, "password") || strings.Contains(name, "hash") || strings.Contains(name, "secret") {
					t.Errorf("%s.%s looks like a credential", path, f.Name)
				}
				check(path+"."+f.Name, f.Type, seen)
			}
		}
	}
	for _, v := range []any{natter.Member{}, natter.Account{}, natter.MemberRef{}, natter.Post{},
		natter.Message{}, natter.Conversation{}, natter.Activity{}, natter.ActivityGroup{}, natter.Notification{}} {
		typ := reflect.TypeOf(v)
		check(typ.String(), typ, map[reflect.Type]bool{})
	}
}
