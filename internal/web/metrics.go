package web

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the figures natter exports for Prometheus (see
// docs/operations.md). They are registered on the registry passed in
// Config, so that several servers in one process (tests) do not collide.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	events   prometheus.Counter
	catchUps prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, streams func() int) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "natter_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "natter_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests other than event streams, by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		events: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "natter_stream_events_total",
			Help: "Notifications sent on event streams.",
		}),
		catchUps: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "natter_stream_catchups_total",
			Help: "Times an event stream read missed notifications from the database (after lagging, a gap, or an announcement from another instance).",
		}),
	}
	reg.MustRegister(m.requests, m.duration, m.events, m.catchUps,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "natter_event_streams",
			Help: "Event streams open on this instance.",
		}, func() float64 { return float64(streams()) }))
	return m
}

// observe records one answered request.
func (m *metrics) observe(route, method string, code int, seconds float64) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	if route != eventsRoute {
		m.duration.WithLabelValues(route).Observe(seconds)
	}
}

const eventsRoute = "GET /events"

// metricMethod is the method label of a request: a client may send any
// token as its method, and each would be a new series.
func metricMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost:
		return m
	}
	return "other"
}

// noteRoute records r's route pattern for the metrics: the mux sets the
// pattern on a copy of the request deep in the chain, and the metrics are
// taken at the top (frontDoor's exchange).
func noteRoute(r *http.Request) {
	if x, ok := r.Context().Value(exchangeKey).(*exchange); ok {
		x.route = r.Pattern
	}
}
