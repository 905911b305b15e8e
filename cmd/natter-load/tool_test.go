package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

func TestModulePath(t *testing.T) {
	for in, want := range map[string]string{
		"module natter\n\ngo 1.26\n":                "natter",
		"// c\nmodule \"natter/cmd/natter-load\"\n": "natter/cmd/natter-load",
		"go 1.26\n": "",
	} {
		if got := modulePath([]byte(in)); got != want {
			t.Errorf("modulePath(%q) = %q, want %q", in, got, want)
		}
	}
}

// natter-load finds natter's checkout from its own module's directory,
// where go run -C puts it.
func TestRepoRoot(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Dir(filepath.Dir(wd)); root != want {
		t.Errorf("repoRoot() = %q, want %q", root, want)
	}
}

func TestMetricValue(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("# HELP go_goroutines x\ngo_goroutines_total 7\ngo_goroutines 2017\ngo_memstats_stack_inuse_bytes 1.3893632e+07\n"))
	}))
	defer srv.Close()
	if got := metricValue(t.Context(), srv.URL, "go_goroutines"); got != 2017 {
		t.Errorf("go_goroutines = %d, want 2017", got)
	}
	if got := metricValue(t.Context(), srv.URL, "go_memstats_stack_inuse_bytes"); got != 13893632 {
		t.Errorf("stack = %d, want 13893632", got)
	}
	if got := metricValue(t.Context(), srv.URL, "absent"); got != 0 {
		t.Errorf("absent = %d, want 0", got)
	}
}
