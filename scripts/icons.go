//go:build ignore

// icons draws natter's app icons (internal/web/static/icons/*.png) from the
// shapes of static/favicon.svg, for the web app manifest, iOS's home screen
// and Android's status bar. Run it from the repository's root after changing
// the favicon, and commit what it writes:
//
//	go run scripts/icons.go
//
// The favicon is two shapes, a rounded square and the letter's outline, so
// a few lines of standard library draw them; no image library is needed for
// files that change once in a blue moon.
package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log"
	"math"
	"os"
	"path/filepath"
)

// The favicon's drawing, in its 16 × 16 viewBox.
var (
	blue  = color.NRGBA{0x0d, 0x6e, 0xfd, 0xff}
	white = color.NRGBA{0xff, 0xff, 0xff, 0xff}
	// letter is the path "M4 11V5h1.6l3.4 4V5H11v6H9.4L6 7v4z".
	letter = [][2]float64{{4, 11}, {4, 5}, {5.6, 5}, {9, 9}, {9, 5}, {11, 5}, {11, 11}, {9.4, 11}, {6, 7}, {6, 11}}
)

// An icon is the letter on a background that is either the favicon's
// rounded square (corners transparent) or the whole square: maskable icons
// and iOS fill every pixel, since the platform cuts its own shape, and
// Android's monochrome badge is the letter alone.
type icon struct {
	name       string
	size       int
	background string // "rounded", "full" or "none"
}

var icons = []icon{
	{"icon-192.png", 192, "rounded"},
	{"icon-512.png", 512, "rounded"},
	// The letter spans at most 5 of the 8 units from the centre to an edge,
	// inside the 40% circle a maskable icon's platform may keep.
	{"icon-maskable-512.png", 512, "full"},
	{"apple-touch-icon.png", 180, "full"},
	{"badge-96.png", 96, "none"},
}

func main() {
	dir := filepath.Join("internal", "web", "static", "icons")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		log.Fatal(err)
	}
	for _, ic := range icons {
		if err := write(filepath.Join(dir, ic.name), ic.draw()); err != nil {
			log.Fatal(err)
		}
	}
}

func write(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

// samples is the supersampling per axis: 8 × 8 points a pixel give smooth
// edges.
const samples = 8

func (ic icon) draw() *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, ic.size, ic.size))
	scale := 16 / float64(ic.size)
	for y := range ic.size {
		for x := range ic.size {
			var bg, fg int
			for sy := range samples {
				for sx := range samples {
					px := (float64(x) + (float64(sx)+0.5)/samples) * scale
					py := (float64(y) + (float64(sy)+0.5)/samples) * scale
					switch {
					case inPolygon(px, py, letter):
						fg++
					case ic.inBackground(px, py):
						bg++
					}
				}
			}
			img.SetNRGBA(x, y, ic.blend(bg, fg))
		}
	}
	return img
}

func (ic icon) inBackground(x, y float64) bool {
	switch ic.background {
	case "full":
		return true
	case "rounded":
		return inRoundedSquare(x, y, 16, 4)
	}
	return false
}

// blend mixes a pixel from how many of its samples fell on the background
// and on the letter; the rest is transparent.
func (ic icon) blend(bg, fg int) color.NRGBA {
	const n = samples * samples
	if ic.background == "none" {
		return color.NRGBA{white.R, white.G, white.B, uint8(255 * fg / n)}
	}
	covered := bg + fg
	if covered == 0 {
		return color.NRGBA{}
	}
	mix := func(b, f uint8) uint8 { return uint8((int(b)*bg + int(f)*fg) / covered) }
	return color.NRGBA{mix(blue.R, white.R), mix(blue.G, white.G), mix(blue.B, white.B), uint8(255 * covered / n)}
}

// inPolygon is the even-odd rule: a ray to the right crosses the outline an
// odd number of times from inside.
func inPolygon(x, y float64, poly [][2]float64) bool {
	in := false
	for i, j := 0, len(poly)-1; i < len(poly); j, i = i, i+1 {
		a, b := poly[i], poly[j]
		if (a[1] > y) != (b[1] > y) && x < (b[0]-a[0])*(y-a[1])/(b[1]-a[1])+a[0] {
			in = !in
		}
	}
	return in
}

// inRoundedSquare reports whether (x, y) is inside a size × size square at
// the origin with corners of radius r.
func inRoundedSquare(x, y, size, r float64) bool {
	if x < 0 || y < 0 || x > size || y > size {
		return false
	}
	cx := math.Min(math.Max(x, r), size-r)
	cy := math.Min(math.Max(y, r), size-r)
	return math.Hypot(x-cx, y-cy) <= r
}
