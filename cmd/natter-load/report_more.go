package main

import (
	"fmt"
	"strings"
)

// renderStreams is the section of the "streams" scenario.
func renderStreams(res *Results) string {
	sc := res.Streams
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("\n## One stream's cost: natter against a trivial SSE server\n\n")
	renderRun(&b, res)
	p("%s members each hold one idle event stream, over HTTP/1.1 with one connection per member (as behind nginx, which proxies each stream over an upstream connection of its own) and over h2c (%s streams per connection). Beside natter, the plainest SSE server the standard library allows (`natter-load -trivial-sse`: a handler that writes natter's heartbeat comment and flushes, every heartbeat) is measured the same way. Both send a heartbeat every %.0f s here (natter's default is 25 s), so that its cost stands out; the idle phase lasts %.0f s. The streams open one after another, spread over one heartbeat, as members come online at moments of their own: opened in a burst they would beat in step, and HTTP/2 writes the heartbeats of a connection's streams that come together in one system call, so that whichever server opens its streams faster would seem cheaper per heartbeat.\n\n",
		thousands(sc.Streams), thousands(sc.StreamsPerConn), sc.HeartbeatSeconds, sc.IdleSeconds)
	p("*Open* is once every stream has sent two heartbeats; *after* is after the idle phase and, for natter, one message to every member (the trivial server sends only heartbeats); *settled* is two heartbeats later, after four garbage collections in the server (stacks shrink by half per collection), so that the traffic's garbage is gone and what is left is what the streams hold. The baseline (*RSS before the streams*) is taken after four collections too. *Live heap* is Go's own count of the heap the server still uses (`go_memstats_heap_alloc_bytes`, `runtime.MemStats.HeapAlloc`) at the same moments: RSS also holds memory the collector has freed but not yet returned, and SQLite's page caches, so *stacks* + *live heap* is what the streams themselves hold. Memory per stream is (RSS − RSS before the streams) ÷ streams; *stacks* is the same for the goroutine stacks in use (natter's `go_memstats_stack_inuse_bytes`, the trivial server's `runtime.MemStats.StackInuse`). *CPU per heartbeat* is the server's CPU time over the idle phase ÷ the heartbeats the clients received.\n\n")
	p("| server | protocol | streams | per stream, open | stacks | per stream, after | stacks | settled | stacks | live heap | CPU per heartbeat | server CPU | client CPU | others' CPU | reconnections |\n")
	p("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range sc.Runs {
		p("| %s | %s | %s | **%.1f KiB** | %.1f KiB | **%.1f KiB** | %.1f KiB | **%.1f KiB** | %.1f KiB | %.1f KiB | **%.0f µs** | %.1f %% | %.1f %% | %.0f %% | %d |\n",
			r.Server, r.Proto, thousands(r.Opened), r.BytesPerStreamOpen/1024, r.StackPerStreamOpen/1024,
			r.BytesPerStreamAfter/1024, r.StackPerStreamAfter/1024, r.BytesPerStreamSettled/1024, r.StackPerStreamSettled/1024, r.HeapPerStreamSettled/1024,
			r.CPUPerHeartbeatUS, r.ServerCPU, r.ClientCPU, r.OtherCPU, r.Reconnects)
	}
	for _, proto := range []string{protoH1, protoH2} {
		var n, t *StreamCostRun
		for i := range sc.Runs {
			switch r := &sc.Runs[i]; {
			case r.Proto == proto && r.Server == serverNatter:
				n = r
			case r.Proto == proto && r.Server == serverTrivialSSE:
				t = r
			}
		}
		if n != nil && t != nil && t.CPUPerHeartbeatUS > 0 {
			p("\nOver %s natter's heartbeat costs **%.2f×** the trivial server's.", proto, n.CPUPerHeartbeatUS/t.CPUPerHeartbeatUS)
		}
	}
	p("\n\n")
	return b.String()
}

// renderSoak is the section of the "soak" scenario.
func renderSoak(res *Results) string {
	s := res.Soak
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("\n## Soak: everything at once, minute by minute\n\n")
	renderRun(&b, res)
	p("natter on a fresh SQLite file with %s members holding an event stream each (%s), while %d messages a second go through `POST /send-message/{recipient}` (from %s other members, to streaming members at random) and %d pages a second are read (`/index`, a profile, a profile's popover, `/activity`, at random, each by a streaming member; none of them changes anything, so every `unread_message_count` event counted comes from a send), for %.0f s. Sends and page reads are started on a clock (an open loop), not after the previous one answers, so a stall shows as latency rather than as less load. *Delivery* is from the send transaction's timestamp to the `unread_message_count` event's arrival. RSS and goroutines (natter's `go_goroutines`) are read at the end of each minute; *natter CPU* and *others' CPU* (everything else on the machine but natter-load, which drives the load) are over the minute, in %% of one core.\n\n",
		thousands(s.Streams), s.Proto, s.Rate, thousands(s.Senders), s.PageRate, s.Seconds)
	p("| minute | sends | errors | send p99 | page reads | errors | page p99 | delivered | delivery p99 | RSS | goroutines | natter CPU | others' CPU |\n")
	p("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, m := range s.Minutes {
		p("| %d | %s | %d | %s | %s | %d | %s | %s | %s | %.0f MiB | %s | %.0f %% | %.0f %% |\n", m.Minute, thousands(m.Sends), m.SendErrors, ms(m.Send.P99),
			thousands(m.Pages), m.PageErrors, ms(m.Page.P99), thousands(m.Delivered), ms(m.Delivery.P99), mib(m.RSS), thousands(m.Goroutines),
			m.ServerCPU, m.OtherCPU)
	}
	p("\nIn all: **%s messages sent, %d send errors, %s delivered**; %s pages read, %d errors; %d stream reconnections. natter's RSS went from %.0f MiB to %.0f MiB, its goroutines from %s to %s.\n",
		thousands(s.Sent), s.SendErrors, thousands(s.Delivered), thousands(s.PageReads), s.PageErrors, s.Reconnects,
		mib(s.RSSStart), mib(s.RSSEnd), thousands(s.GoroutinesStart), thousands(s.GoroutinesEnd))
	if len(s.FirstErrors) > 0 {
		p("\nFirst errors:\n\n")
		for _, e := range s.FirstErrors {
			p("- `%s`\n", e)
		}
	}
	p("\n")
	return b.String()
}
