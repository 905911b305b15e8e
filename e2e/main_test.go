package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"natter/internal/store/storetest"
)

// screenshotsEnv, set to 1, makes the suite rewrite the documentation it
// produces (docs/screenshots/*.png and its section of docs/benchmarks.md).
// Without it nothing in the work tree changes, so CI leaves it clean.
const screenshotsEnv = "NATTER_SCREENSHOTS"

var (
	// chromePath is the Chromium binary, or "" when there is none.
	chromePath string
	// natterBin is cmd/natter, built once by TestMain.
	natterBin string
	// docsDir is the repository's docs/ (the tests run in e2e/).
	docsDir = filepath.Join("..", "docs")
)

// regenerateDocs reports whether this run rewrites the generated docs.
func regenerateDocs() bool { return os.Getenv(screenshotsEnv) == "1" }

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	chromePath = findChromium()
	if chromePath != "" {
		dir, err := os.MkdirTemp("", "natter-e2e-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "e2e:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		natterBin = filepath.Join(dir, "natter")
		// A plain build even under go test -race: the browser tests exercise
		// natter from outside, and a race build would only slow it down
		// (the race detector runs on natter in the web and app tests).
		build := exec.Command("go", "build", "-o", natterBin, "natter/cmd/natter")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: building natter:", err)
			return 1
		}
	}
	code := m.Run()
	// Only a run that measured everything rewrites the page (not, say,
	// go test -run TestScreenshots).
	if code == 0 && chromePath != "" && regenerateDocs() && haveAllResults() {
		if err := writeBenchmarksDoc(filepath.Join(docsDir, "benchmarks.md")); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: writing docs:", err)
			return 1
		}
	}
	return code
}

// chromiumEnv names a browser binary to use instead of Debian's Chromium
// (another Chromium or Chrome); a name that does not exist means none.
const chromiumEnv = "NATTER_CHROMIUM"

// findChromium returns the browser to drive: $NATTER_CHROMIUM, Debian's
// Chromium, or one on PATH; "" when there is none.
func findChromium() string {
	if p := os.Getenv(chromiumEnv); p != "" {
		if p, err := exec.LookPath(p); err == nil {
			return p
		}
		return ""
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// needChromium skips t (or fails it, under NATTER_TEST_REQUIRE_ALL) when
// there is no Chromium, and marks it parallel: every test has its own
// server and browsers, so they only share the machine's cores.
func needChromium(t *testing.T) {
	t.Helper()
	if chromePath == "" {
		storetest.SkipUnlessRequired(t, "browser tests skipped: no Chromium at /usr/bin/chromium, on PATH or in $%s (apt-get install chromium)", chromiumEnv)
	}
	t.Parallel()
}
