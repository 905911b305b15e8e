package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
)

//go:embed static
var staticFS embed.FS

// asset is one static file, fingerprinted and compressed once at start-up.
type asset struct {
	url         string // /static/<name with hash>, or its fixed URL at the root
	contentType string
	body, gz    []byte
	etag        string
}

// assets maps logical names ("natter.js") and fingerprinted URLs to files,
// and holds the few files served at fixed URLs at the site's root.
type assets struct {
	byName map[string]*asset
	byURL  map[string]*asset
	// root holds /sw.js and /manifest.webmanifest. A service worker's URL
	// is its identity (a new URL would install a second worker beside the
	// first) and its path bounds its scope, so it cannot carry a hash; an
	// installed app looks for changes at its manifest's URL.
	root map[string]*asset
}

// loadAssets fingerprints the static files and builds the web app
// manifest, which names the app after the site (siteName, siteDescription).
func loadAssets(siteName, siteDescription string) (*assets, error) {
	a := &assets{byName: map[string]*asset{}, byURL: map[string]*asset{}, root: map[string]*asset{}}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(staticFS, p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		ext := path.Ext(name)
		f := newAsset(body, mime.TypeByExtension(ext))
		f.url = "/static/" + strings.TrimSuffix(name, ext) + "." + strings.Trim(f.etag, `"`) + ext
		if compressible(ext) {
			f.compress()
		}
		a.byName[name], a.byURL[f.url] = f, f
		return nil
	})
	if err != nil {
		return nil, err
	}
	sw, ok := a.byName["sw.js"]
	if !ok {
		return nil, fmt.Errorf("static: sw.js is missing")
	}
	a.root["/sw.js"] = &asset{url: "/sw.js", contentType: sw.contentType, body: sw.body, gz: sw.gz, etag: sw.etag}
	manifest, err := a.manifest(siteName, siteDescription)
	if err != nil {
		return nil, err
	}
	a.root[manifest.url] = manifest
	return a, nil
}

// newAsset is a file with body, its ETag the start of its SHA-256.
func newAsset(body []byte, contentType string) *asset {
	sum := sha256.Sum256(body)
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	return &asset{contentType: contentType, body: body, etag: `"` + hex.EncodeToString(sum[:5]) + `"`}
}

// compress keeps a gzipped copy of the file if that is smaller.
func (f *asset) compress() {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(f.body)
	zw.Close()
	if buf.Len() < len(f.body) {
		f.gz = buf.Bytes()
	}
}

func compressible(ext string) bool {
	switch ext {
	case ".css", ".js", ".svg", ".txt", ".json", ".html":
		return true
	}
	return false
}

// webManifest is the web app manifest: with it (and the service worker)
// browsers offer to install natter, which iOS requires before a site may
// use Web Push.
type webManifest struct {
	ID              string         `json:"id"`
	Name            string         `json:"name"`
	ShortName       string         `json:"short_name"`
	Description     string         `json:"description"`
	StartURL        string         `json:"start_url"`
	Scope           string         `json:"scope"`
	Display         string         `json:"display"`
	BackgroundColor string         `json:"background_color"`
	ThemeColor      string         `json:"theme_color"`
	Icons           []manifestIcon `json:"icons"`
}

type manifestIcon struct {
	Src     string `json:"src"`
	Sizes   string `json:"sizes"`
	Type    string `json:"type"`
	Purpose string `json:"purpose"`
}

// manifest builds /manifest.webmanifest. Its icons are named by their
// fingerprinted URLs: a new icon is a new manifest, which is how installed
// apps learn of it.
func (a *assets) manifest(siteName, siteDescription string) (*asset, error) {
	m := webManifest{
		ID:              "/",
		Name:            siteName,
		ShortName:       siteName,
		Description:     siteDescription,
		StartURL:        "/",
		Scope:           "/",
		Display:         "standalone",
		BackgroundColor: "#ffffff",
		ThemeColor:      "#0d6efd", // the favicon's blue, Bootstrap's primary
	}
	for _, ic := range []struct{ name, sizes, purpose string }{
		{"icons/icon-192.png", "192x192", "any"},
		{"icons/icon-512.png", "512x512", "any"},
		{"icons/icon-maskable-512.png", "512x512", "maskable"},
	} {
		f, ok := a.byName[ic.name]
		if !ok {
			return nil, fmt.Errorf("static: manifest icon %s is missing", ic.name)
		}
		m.Icons = append(m.Icons, manifestIcon{Src: f.url, Sizes: ic.sizes, Type: f.contentType, Purpose: ic.purpose})
	}
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("static: manifest: %w", err)
	}
	f := newAsset(body, "application/manifest+json")
	f.url = "/manifest.webmanifest"
	f.compress()
	return f, nil
}

// assetURL is the template function "asset": the fingerprinted URL of a
// static file. An unknown name is a template error at start-up.
func (s *Server) assetURL(name string) (string, error) {
	f, ok := s.assets.byName[name]
	if !ok {
		return "", &fs.PathError{Op: "asset", Path: name, Err: fs.ErrNotExist}
	}
	return f.url, nil
}

// serveStatic serves a static file. A fingerprinted URL never changes
// content, so browsers may keep it for a year without asking again.
func (s *Server) serveStatic(w http.ResponseWriter, r *http.Request) {
	if f, ok := s.assets.byURL[r.URL.Path]; ok {
		f.serve(w, r, "public, max-age=31536000, immutable")
	} else if f, ok = s.assets.byName[r.PathValue("file")]; ok {
		f.serve(w, r, "no-cache") // unfingerprinted: revalidate
	} else {
		http.NotFound(w, r)
	}
}

// serveRoot serves the files with fixed URLs at the root: /sw.js and
// /manifest.webmanifest. Browsers revalidate them each time, so a new
// service worker or manifest reaches them at their next visit.
func (s *Server) serveRoot(w http.ResponseWriter, r *http.Request) {
	f, ok := s.assets.root[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	f.serve(w, r, "no-cache")
}

// serve writes the file, gzipped if the client takes it, or 304 Not
// Modified to a client that has it already.
func (f *asset) serve(w http.ResponseWriter, r *http.Request, cacheControl string) {
	h := w.Header()
	h.Set("Cache-Control", cacheControl)
	h.Set("Content-Type", f.contentType)
	h.Set("ETag", f.etag)
	h.Set("Vary", "Accept-Encoding")
	if r.Header.Get("If-None-Match") == f.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := f.body
	if f.gz != nil && acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		body = f.gz
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			return !strings.Contains(strings.ReplaceAll(params, " ", ""), "q=0")
		}
	}
	return false
}
