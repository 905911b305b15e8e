package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"natter/internal/docsection"
)

// Sections of docs/benchmarks.md natter-load writes, each only when its
// scenarios ran, so that a run of one leaves the others' figures alone; the
// browser tests (e2e) write their own.
const (
	docSection        = "natter-load"         // scenarios 1 to 5
	docSectionStreams = "natter-load-streams" // one stream's cost
	docSectionSoak    = "natter-load-soak"
)

// docHeader starts a docs/benchmarks.md that does not exist yet.
const docHeader = "# natter benchmarks\n\n" +
	"Measured with `cmd/natter-load` and the browser tests. The sections between the\n" +
	"generated markers are rewritten by each run; text outside them is kept.\n"

// Targets of issue 6.
const (
	targetP99At1k        = 10.0   // ms
	targetP99At100k      = 50.0   // ms
	targetBytesPerStream = 24_000 // "24 KB", read strictly
	targetIdleCPU        = 2.0    // % of one core, 10,000 idle streams
	targetIndexShare     = 0.35   // of the trivial handler's requests/s
	targetGrowth         = 1.5    // p50 at 10M rows ÷ p50 at 10k
	targetWrites         = 2000   // messages/s on SQLite
)

// writeReport writes the plots and replaces natter-load's sections of
// out/benchmarks.md for the scenarios that ran, keeping the rest of it.
func writeReport(out string, res *Results) error {
	path := filepath.Join(out, "benchmarks.md")
	if len(res.Live) > 0 || res.Pages != nil || len(res.Writes) > 0 || (res.Streams == nil && res.Soak == nil) {
		plotDir := filepath.Join(out, "plots")
		if err := os.MkdirAll(plotDir, 0o755); err != nil {
			return err
		}
		plots, err := writePlots(plotDir, res)
		if err != nil {
			return fmt.Errorf("plots: %w", err)
		}
		if err := docsection.ReplaceFile(path, docHeader, docSection, renderSection(res, plots)); err != nil {
			return err
		}
	}
	if res.Streams != nil {
		if err := docsection.ReplaceFile(path, docHeader, docSectionStreams, renderStreams(res)); err != nil {
			return err
		}
	}
	if res.Soak != nil {
		if err := docsection.ReplaceFile(path, docHeader, docSectionSoak, renderSoak(res)); err != nil {
			return err
		}
	}
	return nil
}

func renderSection(res *Results, plots map[string]string) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("\n## Figures\n\n")
	renderRun(&b, res)
	renderTargets(&b, res)

	if len(res.Live) > 0 {
		var flows []LiveRun
		for _, r := range res.Live {
			if r.Rate > 0 {
				flows = append(flows, r)
			}
		}
		p("### 1. Live delivery\n\n")
		if len(flows) > 0 {
			p("C members each hold one `/events` stream — over HTTP/2 without TLS (h2c, %s streams per client connection, natter's limit), or over HTTP/1.1 with one connection each — from source addresses 127.0.0.2 and up. The client behaves like `EventSource`: when the server ends a stream it reconnects after the `retry:` delay with `Last-Event-ID`. Then %d messages per second flow for %.0f s through `POST /send-message/{recipient}` (keep-alive HTTP/1.1), from %s who do not stream, to streaming members in a random permutation (so one member's messages are C ÷ rate seconds apart). **Commit → arrival** is the client's arrival time minus the `timestamp` in the event's data, which is the send transaction's clock reading (taken at its BEGIN, so the figure includes the transaction itself); **POST → arrival** runs from the moment the sender started its request. Latency is of the `unread_message_count` event; each message also sends `unread_activity_count`.\n\n",
				perConn(flows), flows[0].Rate, flows[0].FlowSeconds, "senders")
			p("| protocol | streams | opened in | sent | delivered | commit→arrival p50 | p99 | max | POST→arrival p50 | p99 | reconnections | server CPU | client CPU | others' CPU |\n")
			p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
			for _, r := range flows {
				p("| %s | %s | %.1f s | %s | %s | %s | **%s** | %s | %s | %s | %d | %.0f %% | %.0f %% | %.0f %% |\n",
					r.Proto, thousands(r.Streams), r.OpenSeconds, thousands(r.Sent), thousands(r.Delivered),
					ms(r.Commit.P50), ms(r.Commit.P99), ms(r.Commit.Max), ms(r.EndToEnd.P50), ms(r.EndToEnd.P99),
					r.FlowReconnects, r.FlowServerCPU, r.FlowClientCPU, r.FlowOtherCPU)
			}
			p("\nCPU columns are %% of one core during the flow; *others' CPU* is what the rest of the machine (other people's builds and tests) used meanwhile, out of %d cores. `POST /send-message` itself took:\n\n", res.Machine.CPUs)
			p("| protocol | streams | POST p50 | p99 | events received (both names) |\n|---|---:|---:|---:|---:|\n")
			for _, r := range flows {
				p("| %s | %s | %s | %s | %s |\n", r.Proto, thousands(r.Streams), ms(r.Send.P50), ms(r.Send.P99), thousands(r.Events))
			}
			if f := plots["latency"]; f != "" {
				p("\n![delivery latency per stream count](plots/%s)\n", f)
			}
		}
		p("\n### 2. Capacity and cost\n\n")
		p("Server memory is the natter process's VmRSS after warm-up (*before*), 3 s after the last stream opened (*open*), and at the end of the run after the idle and flow phases (*later*). Per stream = (RSS − before) ÷ streams.\n\n")
		p("| protocol | streams | before | open | per stream | later | per stream | server open files | threads |\n")
		p("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, r := range res.Live {
			later, per := "–", "–"
			if r.RSSEnd > 0 {
				later, per = fmt.Sprintf("%.0f MiB", mib(r.RSSEnd)), fmt.Sprintf("%.1f KiB", r.BytesPerStreamEnd/1024)
			}
			p("| %s | %s | %.0f MiB | %.0f MiB | **%.1f KiB** | %s | %s | %s | %d |\n", r.Proto, thousands(r.Streams),
				mib(r.RSSBefore), mib(r.RSSAfter), r.BytesPerStream/1024, later, per, thousands(r.ServerFDs), r.ServerThreads)
		}
		if f := plots["rss"]; f != "" {
			p("\n![server RSS against open streams](plots/%s)\n", f)
		}
		p("\nIdle streams (natter's default heartbeat, a comment every 25 s, and nothing else), against the same members polling `/notifications?since=` instead, as the seed's page does (one keep-alive HTTP/1.1 client with up to 256 connections carries the polls, which is cheaper for the server than one connection per browser):\n\n")
		p("| what | members | measured | server CPU (%% of one core) | rate | reconnections | client CPU | others' CPU | notes |\n|---|---:|---:|---:|---:|---:|---:|---:|---|\n")
		for _, r := range res.Live {
			if r.IdleSeconds == 0 {
				continue
			}
			p("| idle %s streams | %s | %.0f s | **%.2f %%** | %.0f heartbeats/s | %d | %.1f %% | %.0f %% | %s |\n", r.Proto, thousands(r.Streams),
				r.IdleSeconds, r.IdleServerCPU, float64(r.IdleHeartbeats)/r.IdleSeconds, r.IdleReconnects, r.IdleClientCPU, r.IdleOtherCPU, streamEndNote(r))
		}
		if pr := res.Poll; pr != nil {
			p("| polling every %.0f s | %s | %.0f s | **%.2f %%** | %.0f requests/s | – | %.1f %% | %.0f %% | p50 %s, p99 %s, %d errors; a change waits %.0f s on average before the page hears of it |\n",
				pr.EverySeconds, thousands(pr.Members), pr.Seconds, pr.ServerCPU, pr.RPS, pr.ClientCPU, pr.OtherCPU,
				ms(pr.Latency.P50), ms(pr.Latency.P99), pr.Errors, pr.EverySeconds/2)
		}
		p("\n")
	}

	if pg := res.Pages; pg != nil && len(pg.Small.Pages) > 0 {
		p("### 3. Pages\n\n")
		p("%d closed-loop clients over keep-alive HTTP/1.1, each logged in as its own member, %.0f s per page after a warm-up; database of %s members, %s posts, %s messages. The trivial handler (`w.Write([]byte(\"ok\"))`, natter-load `-trivial`, a child process too) is measured the same way right before and right after; *of trivial* is against the mean of the two (%s req/s).\n\n",
			pg.Workers, pg.Seconds, thousands(pg.Members), thousands(int(pg.Small.Posts)), thousands(int(pg.Small.Messages)), thousands(int(pg.Ceiling())))
		p("| page | requests/s | p50 | p99 | max | of trivial | server CPU | client CPU | others' CPU | server CPU per request | response bytes | errors |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		runs := append([]PageRun{}, pg.Small.Pages...)
		if pg.TrivialBefore.RPS > 0 {
			pg.TrivialBefore.Name = "trivial handler, before"
			pg.Trivial.Name = "trivial handler, after"
			runs = append(runs, pg.TrivialBefore)
		}
		for _, pr := range append(runs, pg.Trivial) {
			name := "`" + pr.Name + "`"
			if pr.Path == "/" {
				name = pr.Name
			}
			p("| %s | **%s** | %s | %s | %s | %.0f %% | %.0f %% | %.0f %% | %.0f %% | %s | %s | %d |\n", name, thousands(int(pr.RPS)), ms(pr.Latency.P50), ms(pr.Latency.P99),
				ms(pr.Latency.Max), 100*pr.RPS/pg.Ceiling(), pr.ServerCPU, pr.ClientCPU, pr.OtherCPU, perRequest(pr), thousands(int(pr.Bytes)), pr.Errors)
		}
		if f := plots["pages"]; f != "" {
			p("\n![pages, requests per second](plots/%s)\n", f)
		}
		p("\n")
		if lg := pg.Large; lg != nil && len(lg.Pages) > 0 {
			p("### 4. Data growth\n\n")
			p("The same pages after bulk-loading the database (`store.BulkLoader`'s `GeneratePosts` and `GenerateMessages`: rows generated inside the database, 200,000 per transaction) from %s to %s posts and from %s to %s messages (each member writes to 8 peers). Loading took **%.0f s**; the database file grew from %.1f MiB to %.2f GiB. natter was restarted on the grown file (the OS page cache stays warm).\n\n",
				thousands(int(pg.Small.Posts)), thousands(int(lg.Posts)), thousands(int(pg.Small.Messages)), thousands(int(lg.Messages)),
				lg.LoadSeconds, mib(pg.Small.DBBytes), float64(lg.DBBytes)/(1<<30))
			p("| page | p50 small | p50 large | ratio | p99 small | p99 large | req/s small | req/s large | ratio |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
			for i, s := range pg.Small.Pages {
				if i >= len(lg.Pages) {
					break
				}
				l := lg.Pages[i]
				p("| `%s` | %s | %s | **%.2f×** | %s | %s | %s | %s | %.2f× |\n", s.Name, ms(s.Latency.P50), ms(l.Latency.P50), ratio(l.Latency.P50, s.Latency.P50),
					ms(s.Latency.P99), ms(l.Latency.P99), thousands(int(s.RPS)), thousands(int(l.RPS)), ratio(l.RPS, s.RPS))
			}
			p("\n")
		}
	}

	if len(res.Writes) > 0 {
		p("### 5. Writes\n\n")
		p("`app.SendMessage` called in a loop by concurrent goroutines inside natter-load (no HTTP): each call validates, runs one transaction (message, both conversations, the unread count, the notification-centre entry and two notifications) and publishes after commit. Senders and recipients are random among the members.\n\n")
		p("| engine | instances | workers | messages/s | p50 | p99 | max | errors | CPU of natter-load | others' CPU | note |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
		for _, w := range res.Writes {
			p("| %s | %d | %d | **%s** | %s | %s | %s | %d | %.0f %% | %.0f %% | %s |\n", w.Engine, w.Instances, w.Workers, thousands(int(w.PerSecond)),
				ms(w.Latency.P50), ms(w.Latency.P99), ms(w.Latency.Max), w.Errors, w.CPU, w.OtherCPU, w.Note)
		}
		p("\n")
	}
	return b.String()
}

// renderRun says when, where and how a run was made.
func renderRun(b *strings.Builder, res *Results) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	m := res.Machine
	p("Generated by `natter-load` on %s (run time %s).\n\n", res.Started.Format("2006-01-02 15:04 MST"), res.Duration)
	dirty := ""
	if m.Dirty {
		dirty = " plus uncommitted changes in the working tree"
	}
	p("- **Machine**: %d × %s, %s RAM, Linux %s, open files %s.\n", m.CPUs, m.Model, m.RAM, m.Kernel, m.FDLimit)
	p("- **Software**: %s; natter at commit `%s`%s.\n", m.Go, m.Commit, dirty)
	p("- **Server**: %s, a child process on a fresh SQLite file per scenario (WAL), `NATTER_SEND_LIMIT=1000000/1s`, logging every request at info level to a file, as by default.\n", "the `natter` binary built from `./cmd/natter`")
	p("- **Load generator and server share the same %d cores**, so every figure includes the client's cost; the client's CPU is given beside the server's.\n", m.CPUs)
	if res.Quick {
		p("- **Quick run** (`-quick`): small sizes and short phases; not the figures to compare with the targets.\n")
	}
	p("\nCommand:\n\n```sh\n%s\n```\n\n", res.Command)
	if len(res.Errors) > 0 {
		p("**Scenarios that failed in this run:**\n\n")
		for _, e := range res.Errors {
			p("- %s\n", e)
		}
		p("\n")
	}
}

func renderTargets(b *strings.Builder, res *Results) {
	type row struct{ target, figure, verdict string }
	var rows []row
	verdict := func(ok bool) string {
		if ok {
			return "**pass**"
		}
		return "**FAIL**"
	}
	// find returns the run of proto and c that measured delivery (or, with
	// idle set, idle CPU without streams being reset).
	find := func(proto string, c int, idle ...bool) *LiveRun {
		var found *LiveRun
		for i := range res.Live {
			r := &res.Live[i]
			if r.Proto != proto || r.Streams != c {
				continue
			}
			if len(idle) > 0 && r.IdleSeconds > 0 && r.IdleReconnects == 0 {
				return r
			}
			if len(idle) == 0 && r.Rate > 0 {
				return r
			}
			if found == nil {
				found = r
			}
		}
		if len(idle) > 0 {
			return nil
		}
		return found
	}
	if r := find(protoH2, 1000); r != nil && r.Rate > 0 {
		h1 := find(protoH1, 1000)
		ok := r.Commit.P99 < targetP99At1k && r.Delivered == r.Sent
		if h1 != nil && h1.Rate > 0 {
			ok = ok && h1.Commit.P99 < targetP99At1k && h1.Delivered == h1.Sent
		}
		rows = append(rows, row{"delivery p99 < 10 ms at 1,000 streams", "h2c: " + ms(r.Commit.P99) + h1Note(h1), verdict(ok)})
	}
	if r := find(protoH2, 100000); r != nil && r.Rate > 0 {
		rows = append(rows, row{"delivery p99 < 50 ms with 100,000 streams and 100 messages/s", fmt.Sprintf("%s (%d msg/s, %s of %s delivered)", ms(r.Commit.P99), r.Rate, thousands(r.Delivered), thousands(r.Sent)),
			verdict(r.Commit.P99 < targetP99At100k && r.Delivered == r.Sent && r.Opened == 100000)})
		rows = append(rows, row{"100,000 concurrent streams on one instance, ≤ 24 KB server memory each", fmt.Sprintf("%s open; %.1f KiB per stream when opened, %.1f KiB later", thousands(r.Opened), r.BytesPerStream/1024, r.BytesPerStreamEnd/1024),
			verdict(r.Opened == 100000 && max(r.BytesPerStream, r.BytesPerStreamEnd) <= targetBytesPerStream)})
	}
	h2idle, h1idle := find(protoH2, 10000, true), find(protoH1, 10000, true)
	if h2idle != nil || h1idle != nil {
		var figs []string
		best := 100.0
		for _, r := range []*LiveRun{h1idle, h2idle} {
			if r != nil {
				figs = append(figs, fmt.Sprintf("%s: %.2f %%", r.Proto, r.IdleServerCPU))
				best = min(best, r.IdleServerCPU)
			}
		}
		if res.Poll != nil {
			figs = append(figs, fmt.Sprintf("polling instead: %.1f %%", res.Poll.ServerCPU))
		}
		ok := true
		for _, r := range []*LiveRun{h1idle, h2idle} {
			if r != nil && r.IdleServerCPU >= targetIdleCPU {
				ok = false
			}
		}
		rows = append(rows, row{"10,000 idle streams < 2 % of one core", strings.Join(figs, "; "), verdict(ok)})
	}
	if pg := res.Pages; pg != nil && len(pg.Small.Pages) > 0 && pg.Ceiling() > 0 {
		idx := pg.Small.Pages[0]
		share := idx.RPS / pg.Ceiling()
		rows = append(rows, row{"`/index` ≥ 35 % of the trivial handler's requests/s", fmt.Sprintf("%.0f %% (%s vs %s req/s)", 100*share, thousands(int(idx.RPS)), thousands(int(pg.Ceiling()))), verdict(share >= targetIndexShare)})
		if lg := pg.Large; lg != nil && len(lg.Pages) == len(pg.Small.Pages) {
			worst, name := 0.0, ""
			for i := range lg.Pages {
				if r := ratio(lg.Pages[i].Latency.P50, pg.Small.Pages[i].Latency.P50); r > worst {
					worst, name = r, lg.Pages[i].Name
				}
			}
			rows = append(rows, row{fmt.Sprintf("every page's p50 at %s rows within 1.5× of %s", thousands(int(lg.Posts)), thousands(int(pg.Small.Posts))),
				fmt.Sprintf("worst: `%s` %.2f×", name, worst), verdict(worst <= targetGrowth && lg.Posts >= 10_000_000)})
		}
	}
	for _, w := range res.Writes {
		if w.Engine == "SQLite" {
			rows = append(rows, row{"≥ 2,000 messages/s on SQLite, durable across a process crash", fmt.Sprintf("%s messages/s", thousands(int(w.PerSecond))), verdict(w.PerSecond >= targetWrites)})
		}
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(b, "### Targets (issue 6)\n\n| target | this run | |\n|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(b, "| %s | %s | %s |\n", r.target, r.figure, r.verdict)
	}
	if res.Quick {
		fmt.Fprintf(b, "\n(A quick run: the sizes are smaller than the targets'.)\n")
	}
	fmt.Fprintf(b, "\n")
}

func streamEndNote(r LiveRun) string {
	if r.IdleReconnects == 0 {
		return ""
	}
	return fmt.Sprintf("the server ended streams (first: `%s`); each reconnected after the retry delay", r.StreamEnd)
}

// perConn is the h2c runs' streams per client connection.
func perConn(runs []LiveRun) string {
	for _, r := range runs {
		if r.StreamsPerConn > 0 {
			return thousands(r.StreamsPerConn)
		}
	}
	return "–"
}

func h1Note(r *LiveRun) string {
	if r == nil {
		return ""
	}
	return "; HTTP/1.1: " + ms(r.Commit.P99)
}

func ms(v float64) string {
	switch {
	case v == 0:
		return "–"
	case v < 1:
		return fmt.Sprintf("%.2f ms", v)
	case v < 100:
		return fmt.Sprintf("%.1f ms", v)
	default:
		return fmt.Sprintf("%.0f ms", v)
	}
}

// perRequest is the server's CPU time per request.
func perRequest(pr PageRun) string {
	if pr.RPS == 0 {
		return "–"
	}
	us := pr.ServerCPU / 100 / pr.RPS * 1e6
	return fmt.Sprintf("%.0f µs", us)
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
