package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/emulation"
)

func TestZZLook(t *testing.T) {
	needChromium(t)
	dir := "/tmp/chrome/look"
	os.MkdirAll(dir, 0o755)
	srv := startServer(t)
	alice := newMember(t, srv, "alice")
	alice.b.expect("/nope", 404)
	alice.run(emulation.SetScrollbarsHidden(true))
	small := viewport{"small", 360, 740, 2, true}
	alice.run(small.emulate(), colourScheme("dark"))
	alice.open("/")
	alice.screenshot(t, filepath.Join(dir, "front-360-dark.png"), small, wholeViewport)
	alice.register()
	alice.screenshot(t, filepath.Join(dir, "welcome-360-dark.png"), small, wholeViewport)
	alice.run(desktop.emulate(), colourScheme("dark"))
	alice.openStatus("/nope", 404)
	alice.screenshot(t, filepath.Join(dir, "404-dark.png"), desktop, pageContent)
	alice.open("/settings/account")
	alice.screenshot(t, filepath.Join(dir, "settings-dark.png"), desktop, wholeViewport)
}
