package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
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
	url         string // /static/<name with hash>
	contentType string
	body, gz    []byte
	etag        string
}

// assets maps logical names ("natter.js") and fingerprinted URLs to files.
type assets struct {
	byName map[string]*asset
	byURL  map[string]*asset
}

func loadAssets() (*assets, error) {
	a := &assets{byName: map[string]*asset{}, byURL: map[string]*asset{}}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(staticFS, p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		sum := sha256.Sum256(body)
		hash := hex.EncodeToString(sum[:5])
		ext := path.Ext(name)
		f := &asset{
			url:         "/static/" + strings.TrimSuffix(name, ext) + "." + hash + ext,
			contentType: mime.TypeByExtension(ext),
			body:        body,
			etag:        `"` + hash + `"`,
		}
		if f.contentType == "" {
			f.contentType = "application/octet-stream"
		}
		if compressible(ext) {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			zw.Write(body)
			zw.Close()
			if buf.Len() < len(body) {
				f.gz = buf.Bytes()
			}
		}
		a.byName[name], a.byURL[f.url] = f, f
		return nil
	})
	return a, err
}

func compressible(ext string) bool {
	switch ext {
	case ".css", ".js", ".svg", ".txt", ".json", ".html":
		return true
	}
	return false
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
	f, ok := s.assets.byURL[r.URL.Path]
	h := w.Header()
	if ok {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else if f, ok = s.assets.byName[r.PathValue("file")]; ok {
		h.Set("Cache-Control", "no-cache") // unfingerprinted: revalidate
	} else {
		http.NotFound(w, r)
		return
	}
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
