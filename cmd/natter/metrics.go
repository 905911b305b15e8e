package main

import (
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"natter/internal/store"
)

// newRegistry returns the registry natter's metrics are gathered in: the Go
// runtime's and the process's, the database pools', and whatever the web
// server registers on it.
func newRegistry(db *store.Store) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	for _, pool := range db.Pools() {
		stat := func(name, help string, v func(store.PoolStats) float64) prometheus.Collector {
			return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name:        "natter_db_" + name,
				Help:        help,
				ConstLabels: prometheus.Labels{"pool": pool},
			}, func() float64 { return v(db.PoolStats(pool)) })
		}
		reg.MustRegister(
			stat("connections_open", "Connections open in the pool.", func(s store.PoolStats) float64 { return float64(s.OpenConnections) }),
			stat("connections_in_use", "Connections in use.", func(s store.PoolStats) float64 { return float64(s.InUse) }),
			stat("waits_total", "Times a query waited for a free connection.", func(s store.PoolStats) float64 { return float64(s.WaitCount) }),
			stat("wait_seconds_total", "Time queries spent waiting for a free connection.", func(s store.PoolStats) float64 { return s.WaitDuration.Seconds() }),
		)
	}
	return reg
}

// serveDebug serves, on ln, reg at /metrics and the Go runtime's profiles
// at /debug/pprof/, until the server is closed. It is a listener of its own
// so that operators keep it off the public address: profiles show the
// program's insides.
func serveDebug(ln net.Listener, reg *prometheus.Registry, logger *slog.Logger) *http.Server {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}))
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		// No WriteTimeout: a CPU profile or trace takes as long as asked.
		IdleTimeout: 2 * time.Minute,
		ErrorLog:    slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	go srv.Serve(ln)
	return srv
}
