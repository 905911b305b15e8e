package main

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	s := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, c := range []struct{ p, want float64 }{{50, 5}, {90, 9}, {99, 10}, {100, 10}, {1, 1}, {10, 1}, {11, 2}} {
		if got := percentile(s, c.p); got != c.want {
			t.Errorf("percentile(%v) = %v, want %v", c.p, got, c.want)
		}
	}
	if percentile(nil, 50) != 0 {
		t.Error("empty percentile not 0")
	}
	sum := summarize([]float64{3, 1, 2})
	if sum.N != 3 || sum.P50 != 2 || sum.Max != 3 || sum.Mean != 2 {
		t.Errorf("summarize = %+v", sum)
	}
}

func TestParseSSEData(t *testing.T) {
	e, err := parseSSEData([]byte(`{"name":"unread_message_count","data":3,"timestamp":1752500000.123456}` + "\n"))
	if err != nil || e.Name != "unread_message_count" || e.Timestamp != 1752500000.123456 {
		t.Fatalf("got %+v, %v", e, err)
	}
	if _, err := parseSSEData([]byte(`{"data":1}`)); err == nil {
		t.Error("event without name accepted")
	}
	at := time.Unix(1752500000, 125456000)
	if d := sinceStamp(1752500000.123456, at); d != 2*time.Millisecond {
		t.Errorf("sinceStamp = %v, want 2ms", d)
	}
}

func TestParseCounts(t *testing.T) {
	got, err := parseCounts("1000, 10k,1m")
	if err != nil || len(got) != 3 || got[0] != 1000 || got[1] != 10000 || got[2] != 1_000_000 {
		t.Fatalf("got %v, %v", got, err)
	}
	if _, err := parseCounts("ten"); err == nil {
		t.Error("bad count accepted")
	}
}

func TestParseStatCPU(t *testing.T) {
	stat := "1234 (natter (x)) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 8 0 100 0 0"
	d, err := parseStatCPU(stat)
	if err != nil || d != 3*time.Second {
		t.Fatalf("got %v, %v", d, err)
	}
}
