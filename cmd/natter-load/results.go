package main

import (
	"bufio"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Results is everything one run measured; the report is written from it.
type Results struct {
	Machine  Machine     `json:"machine"`
	Command  string      `json:"command"`
	Started  time.Time   `json:"started"`
	Duration string      `json:"duration"`
	Quick    bool        `json:"quick"`
	Live     []LiveRun   `json:"live,omitempty"`
	Poll     *PollRun    `json:"poll,omitempty"`
	Pages    *Pages      `json:"pages,omitempty"`
	Writes   []WriteRun  `json:"writes,omitempty"`
	Streams  *StreamCost `json:"streams,omitempty"`
	Soak     *Soak       `json:"soak,omitempty"`
	Errors   []string    `json:"errors,omitempty"`
}

// StreamCost is the "streams" scenario: natter's idle streams against a
// trivial SSE server's, over HTTP/1.1 (one connection each) and h2c.
type StreamCost struct {
	Streams          int             `json:"streams"`
	StreamsPerConn   int             `json:"streams_per_conn"` // h2c
	HeartbeatSeconds float64         `json:"heartbeat_seconds"`
	IdleSeconds      float64         `json:"idle_seconds"`
	Runs             []StreamCostRun `json:"runs"`
}

// StreamCostRun is one server over one protocol. Memory is the server's
// RSS, and its goroutine stacks in use, less what it had before the
// streams, per stream: once every stream has sent a heartbeat (open), and
// after the idle phase and, for natter, a message to every member (after).
type StreamCostRun struct {
	Server              string  `json:"server"`
	Proto               string  `json:"proto"`
	Streams             int     `json:"streams"`
	Opened              int     `json:"opened"`
	RSSBefore           int64   `json:"rss_before"`
	RSSOpen             int64   `json:"rss_open"`
	RSSAfter            int64   `json:"rss_after"`
	StackOpen           int64   `json:"stack_open"`
	StackAfter          int64   `json:"stack_after"`
	BytesPerStreamOpen  float64 `json:"bytes_per_stream_open"`
	BytesPerStreamAfter float64 `json:"bytes_per_stream_after"`
	StackPerStreamOpen  float64 `json:"stack_per_stream_open"`
	StackPerStreamAfter float64 `json:"stack_per_stream_after"`
	// Settled: after traffic, two heartbeats and a garbage collection, so
	// that what is left is what the streams hold, not the traffic's garbage.
	BytesPerStreamSettled float64 `json:"bytes_per_stream_settled"`
	StackPerStreamSettled float64 `json:"stack_per_stream_settled"`
	HeapPerStreamSettled  float64 `json:"heap_per_stream_settled"` // live heap, Go's count
	IdleSeconds           float64 `json:"idle_seconds"`
	Heartbeats            int64   `json:"heartbeats"`
	CPUPerHeartbeatUS     float64 `json:"cpu_per_heartbeat_us"`
	ServerCPU             float64 `json:"server_cpu"` // % of one core, idle phase
	ClientCPU             float64 `json:"client_cpu"`
	OtherCPU              float64 `json:"other_cpu"`
	Reconnects            int64   `json:"reconnects"`
	Messages              int     `json:"messages,omitempty"`
	Delivered             int     `json:"delivered,omitempty"`
}

// Soak is the "soak" scenario: streams, sends and page reads together for
// a long while, minute by minute.
type Soak struct {
	Streams         int          `json:"streams"`
	Proto           string       `json:"proto"`
	Rate            int          `json:"rate"`
	Senders         int          `json:"senders"`
	PageRate        int          `json:"page_rate"`
	Seconds         float64      `json:"seconds"`
	Sent            int          `json:"sent"`
	SendErrors      int          `json:"send_errors"`
	Delivered       int          `json:"delivered"`
	PageReads       int          `json:"page_reads"`
	PageErrors      int          `json:"page_errors"`
	Reconnects      int64        `json:"reconnects"`
	RSSStart        int64        `json:"rss_start"`
	RSSEnd          int64        `json:"rss_end"`
	GoroutinesStart int          `json:"goroutines_start"`
	GoroutinesEnd   int          `json:"goroutines_end"`
	FirstErrors     []string     `json:"first_errors,omitempty"`
	Minutes         []SoakMinute `json:"minutes"`
}

// SoakMinute is one minute of the soak; RSS and goroutines are read at its
// end.
type SoakMinute struct {
	Minute     int     `json:"minute"`
	Sends      int     `json:"sends"`
	SendErrors int     `json:"send_errors"`
	Send       Summary `json:"send"`
	Pages      int     `json:"pages"`
	PageErrors int     `json:"page_errors"`
	Page       Summary `json:"page"`
	Delivered  int     `json:"delivered"`
	Delivery   Summary `json:"delivery"` // commit to arrival
	RSS        int64   `json:"rss"`
	Goroutines int     `json:"goroutines"`
	ServerCPU  float64 `json:"server_cpu"` // % of one core over the minute
	OtherCPU   float64 `json:"other_cpu"`  // the rest of the machine, less natter-load
}

// Machine describes where the figures were taken.
type Machine struct {
	CPUs    int    `json:"cpus"`
	Model   string `json:"model"`
	RAM     string `json:"ram"`
	Go      string `json:"go"`
	Commit  string `json:"commit"`
	Dirty   bool   `json:"dirty"`
	Kernel  string `json:"kernel"`
	FDLimit string `json:"fd_limit"`
}

// LiveRun is scenario 1 (and 2's memory and idle CPU) for one protocol and
// stream count.
type LiveRun struct {
	Proto             string      `json:"proto"`
	Streams           int         `json:"streams"`
	StreamsPerConn    int         `json:"streams_per_conn,omitempty"` // h2c: streams per client connection
	StreamEnd         string      `json:"stream_end,omitempty"`       // why the server ended streams, if it did
	Opened            int         `json:"opened"`
	OpenFailed        int         `json:"open_failed"`
	OpenSeconds       float64     `json:"open_seconds"`
	ServerFDs         int         `json:"server_fds"`
	ServerThreads     int         `json:"server_threads"`
	RSSBefore         int64       `json:"rss_before"`
	RSSAfter          int64       `json:"rss_after"`
	BytesPerStream    float64     `json:"bytes_per_stream"`
	RSSEnd            int64       `json:"rss_end,omitempty"` // after the idle and flow phases
	BytesPerStreamEnd float64     `json:"bytes_per_stream_end,omitempty"`
	Ramp              []RampPoint `json:"ramp,omitempty"`

	IdleSeconds    float64 `json:"idle_seconds,omitempty"`
	IdleServerCPU  float64 `json:"idle_server_cpu,omitempty"` // % of one core
	IdleClientCPU  float64 `json:"idle_client_cpu,omitempty"`
	IdleHeartbeats int64   `json:"idle_heartbeats,omitempty"`
	IdleOtherCPU   float64 `json:"idle_other_cpu,omitempty"`
	IdleReconnects int64   `json:"idle_reconnects,omitempty"`

	Rate           int     `json:"rate"` // 0: no delivery measured
	FlowReconnects int64   `json:"flow_reconnects"`
	FlowSeconds    float64 `json:"flow_seconds"`
	Sent           int     `json:"sent"`
	SendErrors     int     `json:"send_errors"`
	Delivered      int     `json:"delivered"`
	Events         int     `json:"events"`
	Commit         Summary `json:"commit_to_arrival"`
	EndToEnd       Summary `json:"post_to_arrival"`
	Send           Summary `json:"post_latency"`
	FlowServerCPU  float64 `json:"flow_server_cpu"`
	FlowClientCPU  float64 `json:"flow_client_cpu"`
	FlowOtherCPU   float64 `json:"flow_other_cpu"`

	LatencyMS []float64 `json:"latency_ms,omitempty"` // sorted commit-to-arrival samples, for the plot
}

// RampPoint is the server's memory with so many streams open.
type RampPoint struct {
	Streams int   `json:"streams"`
	RSS     int64 `json:"rss"`
}

// PollRun is scenario 2's comparison: the same members polling
// /notifications?since= instead of streaming.
type PollRun struct {
	Members      int     `json:"members"`
	EverySeconds float64 `json:"every_seconds"`
	Seconds      float64 `json:"seconds"`
	Requests     int     `json:"requests"`
	Errors       int     `json:"errors"`
	RPS          float64 `json:"rps"`
	ServerCPU    float64 `json:"server_cpu"`
	ClientCPU    float64 `json:"client_cpu"`
	OtherCPU     float64 `json:"other_cpu"`
	Latency      Summary `json:"latency"`
}

// Pages is scenarios 3 and 4.
type Pages struct {
	Workers int     `json:"workers"`
	Seconds float64 `json:"seconds"`
	Members int     `json:"members"`
	// The trivial handler, measured right before the pages and right
	// after: on a shared machine the two differ by up to a fifth, so the
	// ceiling is their mean (Ceiling).
	TrivialBefore PageRun  `json:"trivial_before"`
	Trivial       PageRun  `json:"trivial"`
	Small         DataSet  `json:"small"`
	Large         *DataSet `json:"large,omitempty"`
}

// Ceiling is the trivial handler's requests per second: the mean of the
// measurements before and after the pages (just the one of a run that
// made only one).
func (p *Pages) Ceiling() float64 {
	if p.TrivialBefore.RPS == 0 {
		return p.Trivial.RPS
	}
	return (p.TrivialBefore.RPS + p.Trivial.RPS) / 2
}

// DataSet is the page figures on one database.
type DataSet struct {
	Posts       int64     `json:"posts"`
	Messages    int64     `json:"messages"`
	LoadSeconds float64   `json:"load_seconds"`
	DBBytes     int64     `json:"db_bytes"`
	Pages       []PageRun `json:"pages"`
}

// PageRun is one page under a closed-loop load.
type PageRun struct {
	Name      string  `json:"name"`
	Path      string  `json:"path"`
	Requests  int     `json:"requests"`
	Errors    int     `json:"errors"`
	RPS       float64 `json:"rps"`
	Latency   Summary `json:"latency"`
	ServerCPU float64 `json:"server_cpu"`
	ClientCPU float64 `json:"client_cpu"`
	OtherCPU  float64 `json:"other_cpu"`
	Bytes     int64   `json:"bytes"` // of one response
}

// WriteRun is scenario 5 on one engine.
type WriteRun struct {
	Engine    string  `json:"engine"`
	Instances int     `json:"instances"`
	Workers   int     `json:"workers"`
	Seconds   float64 `json:"seconds"`
	Messages  int     `json:"messages"`
	Errors    int     `json:"errors"`
	PerSecond float64 `json:"per_second"`
	Latency   Summary `json:"latency"`
	CPU       float64 `json:"cpu"` // of natter-load's process (% of one core)
	OtherCPU  float64 `json:"other_cpu"`
	Note      string  `json:"note"`
}

func machineInfo(root string) Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.Model = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && k == "MemTotal" {
				kb, _ := strconv.ParseFloat(strings.Fields(v)[0], 64)
				m.RAM = strconv.FormatFloat(kb/1024/1024, 'f', 1, 64) + " GiB"
			}
		}
		f.Close()
	}
	git := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = root
		out, _ := cmd.Output()
		return strings.TrimSpace(string(out))
	}
	m.Commit = git("rev-parse", "--short", "HEAD")
	m.Dirty = git("status", "--porcelain", "--untracked-files=no") != ""
	var u syscall.Utsname
	if syscall.Uname(&u) == nil {
		b := make([]byte, 0, len(u.Release))
		for _, c := range u.Release {
			if c == 0 {
				break
			}
			b = append(b, byte(c))
		}
		m.Kernel = string(b)
	}
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil {
		m.FDLimit = strconv.FormatUint(rl.Cur, 10) + " soft / " + strconv.FormatUint(rl.Max, 10) + " hard"
	}
	return m
}
