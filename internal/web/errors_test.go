package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"natter/internal/natter"
)

// Errors reach the member through one door whatever wraps them on the way,
// and every 429, JSON or page, says when to try again.
func TestErrorsThroughOneDoor(t *testing.T) {
	var logged bytes.Buffer
	s := &Server{log: slog.New(slog.NewTextHandler(&logged, nil))}
	wrap := func(err error) error { return fmt.Errorf("web: handler: %w", fmt.Errorf("app: use case: %w", err)) }
	signedIn := func(r *http.Request) *http.Request {
		return r.WithContext(context.WithValue(r.Context(), userKey, natter.Account{ID: 1, Username: "alice"}))
	}

	t.Run("WrappedKeepsStatusAndFields", func(t *testing.T) {
		invalid := &natter.Error{Kind: natter.Invalid, Message: "Please correct the errors below.",
			Fields: map[string]string{"body": "Write something first."}}
		rec := httptest.NewRecorder()
		e, status, ok := refusal(rec, wrap(invalid))
		if !ok || status != http.StatusUnprocessableEntity || e.Fields["body"] != "Write something first." {
			t.Fatalf("refusal(wrapped Invalid) = %v, %d, %v; want the fields and 422", e, status, ok)
		}
		fields, msg := formMessages(e)
		if fields["body"] != "Write something first." || msg != "" {
			t.Errorf("formMessages = %v, %q; want the field's message beside it", fields, msg)
		}
		for kind, want := range map[natter.Kind]int{
			natter.Malformed:    http.StatusBadRequest,
			natter.NotFound:     http.StatusNotFound,
			natter.Forbidden:    http.StatusForbidden,
			natter.Unauthorized: http.StatusUnauthorized,
			natter.RateLimited:  http.StatusTooManyRequests,
			natter.Gone:         http.StatusGone,
		} {
			err := wrap(natter.Errorf(kind, "About %v.", kind))
			status, msg := s.errorResponse(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil), err)
			if status != want || msg != fmt.Sprintf("About %v.", kind) {
				t.Errorf("wrapped %v: %d %q, want %d and its message", kind, status, msg, want)
			}
		}
	})

	t.Run("InternalShowsNoDetail", func(t *testing.T) {
		logged.Reset()
		for _, err := range []error{
			wrap(fmt.Errorf("disk on fire")),
			wrap(&natter.Error{Kind: natter.Internal, Message: "disk on fire"}),
		} {
			if _, _, ok := refusal(httptest.NewRecorder(), err); ok {
				t.Errorf("refusal(%v) offered to re-show a form", err)
			}
			status, msg := s.errorResponse(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil), err)
			if status != http.StatusInternalServerError || strings.Contains(msg, "fire") {
				t.Errorf("%v: %d %q; want 500 without the detail", err, status, msg)
			}
		}
		if n := strings.Count(logged.String(), "disk on fire"); n != 2 {
			t.Errorf("logged %d times, want each internal error once:\n%s", n, logged.String())
		}
	})

	t.Run("JSONRateLimitedHasRetryAfter", func(t *testing.T) {
		limited := wrap(&natter.Error{Kind: natter.RateLimited, Message: "Too many messages.", RetryAfter: 90 * time.Second})
		h := s.memberAPI(func(w http.ResponseWriter, r *http.Request) error { return limited })
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, signedIn(httptest.NewRequest("POST", "/api/anything", nil)))
		if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "91" {
			t.Errorf("status %d, Retry-After %q; want 429 and 91", rec.Code, rec.Header().Get("Retry-After"))
		}
		var body map[string]string
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["error"] != "Too many messages." {
			t.Errorf("body %q (%v), want the JSON error", rec.Body.String(), err)
		}
	})

	t.Run("RetryAfterNeverZero", func(t *testing.T) {
		rec := httptest.NewRecorder()
		refusal(rec, &natter.Error{Kind: natter.RateLimited, Message: "Too many."})
		if got := rec.Header().Get("Retry-After"); got != "1" {
			t.Errorf("Retry-After %q, want 1 when the app gave no wait", got)
		}
	})
}
