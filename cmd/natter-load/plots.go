package main

import (
	"fmt"
	"image/color"
	"math"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// writePlots draws the PNGs into dir and returns their file names.
func writePlots(dir string, res *Results) (map[string]string, error) {
	files := map[string]string{}
	if len(res.Live) > 0 {
		if err := latencyPlot(filepath.Join(dir, "delivery-latency.png"), res.Live); err != nil {
			return nil, err
		}
		files["latency"] = "delivery-latency.png"
		if err := rssPlot(filepath.Join(dir, "rss-vs-streams.png"), res.Live); err != nil {
			return nil, err
		}
		files["rss"] = "rss-vs-streams.png"
	}
	if res.Pages != nil && len(res.Pages.Small.Pages) > 0 {
		if err := pagesPlot(filepath.Join(dir, "pages.png"), res.Pages); err != nil {
			return nil, err
		}
		files["pages"] = "pages.png"
	}
	return files, nil
}

// latencyPlot draws, for each run, the share of deliveries that took at
// most x milliseconds (commit timestamp to arrival), on a log scale.
func latencyPlot(path string, runs []LiveRun) error {
	p := plot.New()
	p.Title.Text = "Live delivery: commit → arrival at the client"
	p.X.Label.Text = "latency (ms, log scale)"
	p.Y.Label.Text = "share of deliveries ≤ latency"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Y.Min, p.Y.Max = 0, 1
	p.Legend.Top = false
	p.Legend.Left = false
	p.Add(plotter.NewGrid())
	var lines []any
	for _, r := range runs {
		if len(r.LatencyMS) == 0 {
			continue
		}
		n := len(r.LatencyMS)
		step := max(1, n/2000) // at most ~2000 points per line
		var xys plotter.XYs
		for i := 0; i < n; i += step {
			xys = append(xys, plotter.XY{X: math.Max(r.LatencyMS[i], 0.01), Y: float64(i+1) / float64(n)})
		}
		xys = append(xys, plotter.XY{X: math.Max(r.LatencyMS[n-1], 0.01), Y: 1})
		lines = append(lines, fmt.Sprintf("%s, %s streams", r.Proto, thousands(r.Streams)), xys)
	}
	if len(lines) == 0 {
		return nil
	}
	if err := plotutil.AddLines(p, lines...); err != nil {
		return err
	}
	return p.Save(7*vg.Inch, 4.5*vg.Inch, path)
}

// rssPlot draws the server's resident memory as streams open.
func rssPlot(path string, runs []LiveRun) error {
	p := plot.New()
	p.Title.Text = "natter server memory while streams open"
	p.X.Label.Text = "open streams"
	p.Y.Label.Text = "server RSS (MiB)"
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())
	var lines []any
	for _, r := range runs {
		if len(r.Ramp) < 2 || r.Streams < 5000 {
			continue
		}
		var xys plotter.XYs
		for _, pt := range r.Ramp {
			xys = append(xys, plotter.XY{X: float64(pt.Streams), Y: mib(pt.RSS)})
		}
		lines = append(lines, fmt.Sprintf("%s, %s streams", r.Proto, thousands(r.Streams)), xys)
	}
	if len(lines) == 0 {
		return nil
	}
	if err := plotutil.AddLinePoints(p, lines...); err != nil {
		return err
	}
	// The target: 24 KB per stream above the idle server.
	var base float64
	for _, r := range runs {
		if len(r.Ramp) > 0 {
			base = mib(r.RSSBefore)
			break
		}
	}
	target := plotter.NewFunction(func(x float64) float64 { return base + x*targetBytesPerStream/(1<<20) })
	target.Color = color.RGBA{R: 200, A: 255}
	target.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(target)
	p.Legend.Add("target: 24 KB per stream", target)
	return p.Save(7*vg.Inch, 4.5*vg.Inch, path)
}

// pagesPlot compares requests per second of each page on the small and the
// large database with the trivial handler.
func pagesPlot(path string, pg *Pages) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Pages: requests/s, %d closed-loop clients", pg.Workers)
	p.Y.Label.Text = "requests per second"
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.XOffs = vg.Points(40)
	var names []string
	var small, large plotter.Values
	for i, pr := range pg.Small.Pages {
		names = append(names, pr.Name)
		small = append(small, pr.RPS)
		if pg.Large != nil && i < len(pg.Large.Pages) {
			large = append(large, pg.Large.Pages[i].RPS)
		}
	}
	names = append(names, "trivial")
	small = append(small, pg.Ceiling())
	w := vg.Points(18)
	bs, err := plotter.NewBarChart(small, w)
	if err != nil {
		return err
	}
	bs.Color = plotutil.Color(0)
	bs.LineStyle.Width = 0
	p.Add(bs)
	p.Legend.Add(fmt.Sprintf("%s posts and messages", thousands(int(pg.Small.Posts))), bs)
	if len(large) > 0 {
		large = append(large, math.NaN())
		for i := range large {
			if math.IsNaN(large[i]) {
				large[i] = 0
			}
		}
		bl, err := plotter.NewBarChart(large, w)
		if err != nil {
			return err
		}
		bl.Color = plotutil.Color(1)
		bl.LineStyle.Width = 0
		bs.Offset, bl.Offset = -w/2, w/2
		p.Add(bl)
		p.Legend.Add(fmt.Sprintf("%s posts and messages", thousands(int(pg.Large.Posts))), bl)
	}
	ceiling := plotter.NewFunction(func(float64) float64 { return 0.35 * pg.Ceiling() })
	ceiling.Color = color.RGBA{R: 200, A: 255}
	ceiling.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(ceiling)
	p.Legend.Add("35 % of trivial (target for /index)", ceiling)
	p.NominalX(names...)
	return p.Save(8*vg.Inch, 4.5*vg.Inch, path)
}

// thousands formats n with comma separators.
func thousands(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
