package web

import (
	"encoding/json"
	"io"
	"net/http"

	"natter/internal/app"
	"natter/internal/natter"
)

// The Web Push endpoints, kept exactly so that other clients can use them:
//
//	GET    /push/key            → {"publicKey": "<base64url>"}
//	POST   /push/subscriptions  PushSubscription.toJSON() → 201
//	DELETE /push/subscriptions  {"endpoint": "..."} → 204
//
// Both state changes pass the cross-origin check every state change does.

// pushKey serves the application server key browsers subscribe with. It
// is public, and the same on every instance.
func (s *Server) pushKey(w http.ResponseWriter, r *http.Request) {
	if s.app.PushKey() == "" {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": app.ErrPushOff.Message})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"publicKey": s.app.PushKey()})
}

// subscribePush stores the logged-in member's browser subscription. The
// same endpoint again updates it.
func (s *Server) subscribePush(w http.ResponseWriter, r *http.Request) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return &natter.Error{Kind: natter.Malformed, Message: "The subscription could not be read."}
	}
	sub, err := s.app.SubscribePush(r.Context(), current(r), body, r.UserAgent())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"endpoint": sub.Endpoint})
	return nil
}

// unsubscribePush removes the member's subscription with the endpoint.
func (s *Server) unsubscribePush(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Endpoint string `json:"endpoint"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		return &natter.Error{Kind: natter.Malformed, Message: `Send {"endpoint": "..."}.`}
	}
	if err := s.app.UnsubscribePush(r.Context(), current(r), req.Endpoint); err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
	return nil
}
