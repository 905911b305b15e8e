package store_test

import (
	"bytes"
	"testing"
	"time"

	"natter/internal/store"
)

func TestSessions(t *testing.T) {
	forEachClocked(t, func(t *testing.T, s *store.Store, c *clock) {
		ctx := t.Context()
		ss := s.Sessions()
		find := func(token string) ([]byte, bool) {
			t.Helper()
			data, ok, err := ss.FindCtx(ctx, token)
			if err != nil {
				t.Fatalf("FindCtx(%q): %v", token, err)
			}
			return data, ok
		}

		t.Run("CommitThenFind", func(t *testing.T) {
			if err := ss.CommitCtx(ctx, "tok1", []byte("data-1"), c.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if data, ok := find("tok1"); !ok || !bytes.Equal(data, []byte("data-1")) {
				t.Errorf("FindCtx = %q, %v; want data-1", data, ok)
			}
		})

		t.Run("CommitReplaces", func(t *testing.T) {
			if err := ss.CommitCtx(ctx, "tok1", []byte{0, 1, 2, 255}, c.Now().Add(2*time.Hour)); err != nil {
				t.Fatal(err)
			}
			if data, ok := find("tok1"); !ok || !bytes.Equal(data, []byte{0, 1, 2, 255}) {
				t.Errorf("FindCtx after recommit = %v, %v; want the binary data", data, ok)
			}
		})

		t.Run("UnknownNotFound", func(t *testing.T) {
			if data, ok := find("nope"); ok || data != nil {
				t.Errorf("FindCtx(unknown) = %q, %v", data, ok)
			}
		})

		t.Run("ExpiryRespected", func(t *testing.T) {
			if err := ss.CommitCtx(ctx, "short", []byte("x"), c.Now().Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			c.Advance(59 * time.Second)
			if _, ok := find("short"); !ok {
				t.Error("session gone before its expiry")
			}
			c.Advance(time.Second)
			if _, ok := find("short"); ok {
				t.Error("session found at its expiry")
			}
		})

		t.Run("DeleteExpired", func(t *testing.T) {
			// "short" has expired; "tok1" has not.
			n, err := ss.DeleteExpired(ctx)
			if err != nil || n != 1 {
				t.Errorf("DeleteExpired = %d, %v; want 1", n, err)
			}
			if _, ok := find("tok1"); !ok {
				t.Error("DeleteExpired removed a live session")
			}
			if n, err := ss.DeleteExpired(ctx); err != nil || n != 0 {
				t.Errorf("second DeleteExpired = %d, %v; want 0", n, err)
			}
		})

		t.Run("Delete", func(t *testing.T) {
			if err := ss.DeleteCtx(ctx, "tok1"); err != nil {
				t.Fatal(err)
			}
			if _, ok := find("tok1"); ok {
				t.Error("session found after DeleteCtx")
			}
			if err := ss.DeleteCtx(ctx, "tok1"); err != nil {
				t.Errorf("deleting twice: %v", err)
			}
		})

		t.Run("ContextFreeForms", func(t *testing.T) {
			if err := ss.Commit("tok2", []byte("y"), c.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if data, ok, err := ss.Find("tok2"); err != nil || !ok || string(data) != "y" {
				t.Errorf("Find = %q, %v, %v", data, ok, err)
			}
			if err := ss.Delete("tok2"); err != nil {
				t.Fatal(err)
			}
			if _, ok, _ := ss.Find("tok2"); ok {
				t.Error("found after Delete")
			}
		})
	})
}
