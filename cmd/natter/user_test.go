package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"natter/internal/store"
	"natter/internal/store/storetest"
)

// On SQLite the running natter is the database's only user (its caches
// hold only then): natter user is refused while it runs, with the reason.
func TestUserCommandsWhileSQLiteServes(t *testing.T) {
	db := filepath.Join(t.TempDir(), "natter.db")
	instance(t, nil, "-database-url", db)
	getenv := func(k string) string { return map[string]string{"DATABASE_URL": db}[k] }
	var out, errs bytes.Buffer
	err := runUser(context.Background(), []string{"list"}, getenv, strings.NewReader(""), &out, &errs)
	if !errors.Is(err, store.ErrLocked) {
		t.Errorf("natter user list beside a running natter: %v, want store.ErrLocked", err)
	}
}

// natter user list, set-password and logout, against the database of a
// running instance on PostgreSQL (where several processes are expected):
// what they do shows through HTTP.
func TestUserCommands(t *testing.T) {
	db := storetest.DSN(t, store.Postgres)
	base := instance(t, nil, "-database-url", db)
	alice := newClient(t, base)
	alice.register("alice")
	newClient(t, base).register("bob")
	getenv := func(k string) string { return map[string]string{"DATABASE_URL": db}[k] }
	user := func(stdin string, args ...string) (string, error) {
		var out, errs bytes.Buffer
		err := runUser(context.Background(), args, getenv, strings.NewReader(stdin), &out, &errs)
		return out.String(), err
	}

	out, err := user("", "list")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "alice") || !strings.Contains(out, "bob@example.com") || !strings.Contains(out, "SESSIONS") {
		t.Errorf("natter user list:\n%s", out)
	}

	out, err = user("", "logout", "alice")
	if err != nil || !strings.Contains(out, "alice logged out of 1 session.") {
		t.Errorf("natter user logout alice: %q, %v", out, err)
	}
	if resp, _ := alice.get("/index"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("alice's session after natter user logout: %s, want a redirect to log in", resp.Status)
	}

	if _, err := user("password\n", "set-password", "alice"); err == nil || !strings.Contains(err.Error(), "10,000 most common") {
		t.Errorf("a common password: %v, want it refused with the reason", err)
	}
	if _, err := user("a new passphrase\n", "set-password", "nobody"); err == nil {
		t.Error("set-password for a member who does not exist succeeded")
	}
	if _, err := user("a new passphrase\n", "set-password", "alice"); err != nil {
		t.Fatal(err)
	}
	if resp := alice.post("/login", url.Values{"username": {"alice"}, "password": {"a new passphrase"}}); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Errorf("login with the password set by natter user: %s", resp.Status)
	}
	if _, err := user("", "frobnicate"); err == nil {
		t.Error("an unknown action succeeded")
	}
}
