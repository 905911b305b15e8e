package web

import (
	"context"
	"net/http"
	"strings"
	"time"
)

// healthz is the liveness probe: the process answers.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// readyTimeout bounds a readiness check: a database that does not answer
// within it is not ready.
const readyTimeout = 2 * time.Second

// readiness is /readyz's answer.
type readiness struct {
	Ready bool `json:"ready"`
	// Reasons say what is wrong, one line each, for the operator.
	Reasons []string `json:"reasons,omitempty"`
}

// readyz is the readiness probe: the database takes writes (and on
// PostgreSQL the notification listener hears from it), so a load balancer
// may send traffic. Otherwise it is a 503 whose JSON says why.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := s.cfg.Ready(ctx); err != nil {
			s.log.WarnContext(ctx, "not ready", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, readiness{Reasons: strings.Split(err.Error(), "\n")})
			return
		}
	}
	writeJSON(w, http.StatusOK, readiness{Ready: true})
}
