package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Summary is a latency distribution, in milliseconds.
type Summary struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean_ms"`
	P50  float64 `json:"p50_ms"`
	P90  float64 `json:"p90_ms"`
	P99  float64 `json:"p99_ms"`
	P999 float64 `json:"p999_ms"`
	Max  float64 `json:"max_ms"`
}

// percentile returns the nearest-rank p-th percentile (0 < p <= 100) of
// sorted, which must be sorted ascending; 0 for no samples.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted)) + 0.999999999)
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// summarize sorts ms in place and describes it.
func summarize(ms []float64) Summary {
	if len(ms) == 0 {
		return Summary{}
	}
	slices.Sort(ms)
	var sum float64
	for _, v := range ms {
		sum += v
	}
	return Summary{
		N:    len(ms),
		Mean: sum / float64(len(ms)),
		P50:  percentile(ms, 50),
		P90:  percentile(ms, 90),
		P99:  percentile(ms, 99),
		P999: percentile(ms, 99.9),
		Max:  ms[len(ms)-1],
	}
}

func durMS(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// sseEvent is what the load client needs from one event's data: the seed's
// {"name", "data", "timestamp"} object.
type sseEvent struct {
	Name      string  `json:"name"`
	Timestamp float64 `json:"timestamp"`
}

// parseSSEData reads the JSON of an SSE "data: " line (without the prefix).
func parseSSEData(b []byte) (sseEvent, error) {
	var e sseEvent
	if err := json.Unmarshal(bytes.TrimSpace(b), &e); err != nil {
		return e, err
	}
	if e.Name == "" || e.Timestamp <= 0 {
		return e, errors.New("event without name or timestamp")
	}
	return e, nil
}

// sinceStamp is the latency from a server timestamp (float Unix seconds, as
// natter writes them, microsecond precision) to t.
func sinceStamp(ts float64, t time.Time) time.Duration {
	sec := int64(ts)
	us := int64((ts-float64(sec))*1e6 + 0.5)
	return t.Sub(time.Unix(sec, us*1000))
}

// parseCounts reads "1000,10000" or "1k,10k,100k".
func parseCounts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(strings.ToLower(f))
		if f == "" {
			continue
		}
		mult := 1
		switch {
		case strings.HasSuffix(f, "k"):
			mult, f = 1000, strings.TrimSuffix(f, "k")
		case strings.HasSuffix(f, "m"):
			mult, f = 1_000_000, strings.TrimSuffix(f, "m")
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("bad count %q", f)
		}
		out = append(out, n*mult)
	}
	return out, nil
}

// procSample is what /proc says about a process.
type procSample struct {
	RSS     int64         // resident set, bytes (VmRSS)
	CPU     time.Duration // user + system time
	Threads int
	FDs     int
}

// clockTick is USER_HZ, the unit of /proc/<pid>/stat times; 100 on Linux.
const clockTick = 100

func readProc(pid int) (procSample, error) {
	var p procSample
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return p, err
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fs := strings.Fields(v)
		if len(fs) == 0 {
			continue
		}
		switch k {
		case "VmRSS":
			kb, _ := strconv.ParseInt(fs[0], 10, 64)
			p.RSS = kb * 1024
		case "Threads":
			p.Threads, _ = strconv.Atoi(fs[0])
		}
	}
	f.Close()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return p, err
	}
	p.CPU, err = parseStatCPU(string(stat))
	if err != nil {
		return p, err
	}
	if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
		p.FDs = len(ents)
	}
	return p, nil
}

// parseStatCPU returns utime+stime from the text of /proc/<pid>/stat.
func parseStatCPU(stat string) (time.Duration, error) {
	// The command name (field 2) is in parentheses and may hold spaces.
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("bad /proc stat")
	}
	fs := strings.Fields(stat[i+1:])
	// fs[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(fs) < 13 {
		return 0, errors.New("short /proc stat")
	}
	ut, err1 := strconv.ParseInt(fs[11], 10, 64)
	st, err2 := strconv.ParseInt(fs[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("bad /proc stat times")
	}
	return time.Duration(ut+st) * time.Second / clockTick, nil
}

// cpuPercent is CPU time used over wall time, as % of one core.
func cpuPercent(cpu, wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	return 100 * float64(cpu) / float64(wall)
}

// systemBusy is the CPU time all processes on the machine have used: the
// busy fields of /proc/stat's "cpu" line (user, nice, system, irq,
// softirq, steal).
func systemBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	fs := strings.Fields(line)
	if len(fs) < 9 || fs[0] != "cpu" {
		return 0
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		v, _ := strconv.ParseInt(fs[i], 10, 64)
		ticks += v
	}
	return time.Duration(ticks) * time.Second / clockTick
}

// meter measures, over a phase, the CPU of the server, of natter-load
// itself, and of everything else on the machine (other people's builds
// and tests share these cores too).
type meter struct {
	pid               int
	t0                time.Time
	srv0, self0, sys0 time.Duration
}

func startMeter(pid int) *meter {
	m := &meter{pid: pid, t0: time.Now(), self0: selfCPU(), sys0: systemBusy()}
	if pid > 0 {
		p, _ := readProc(pid)
		m.srv0 = p.CPU
	}
	return m
}

// stop returns the wall time and the three CPU shares, in % of one core.
func (m *meter) stop() (wall time.Duration, server, self, other float64) {
	wall = time.Since(m.t0)
	var srv time.Duration
	if m.pid > 0 {
		p, _ := readProc(m.pid)
		srv = p.CPU - m.srv0
	}
	me := selfCPU() - m.self0
	sys := systemBusy() - m.sys0
	return wall, cpuPercent(srv, wall), cpuPercent(me, wall), max(0, cpuPercent(sys-srv-me, wall))
}

// waitQuiet waits, up to limit, until the rest of the machine has used
// less than threshold % of one core for a whole second, so that a phase
// does not start in the middle of someone else's test run. It returns the
// last second's figure.
func waitQuiet(limit time.Duration, threshold float64) float64 {
	deadline := time.Now().Add(limit)
	for {
		m := startMeter(0)
		time.Sleep(time.Second)
		_, _, _, other := m.stop()
		if other < threshold || time.Now().After(deadline) {
			if other >= threshold {
				logf("the machine is busy (others use %.0f%% of a core); measuring anyway", other)
			}
			return other
		}
	}
}
