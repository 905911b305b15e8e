// Package docsection rewrites generated sections of Markdown documents.
//
// A generated section sits between two HTML comments that name the tool
// writing it:
//
//	<!-- natter-load:begin -->
//	...
//	<!-- natter-load:end -->
//
// so that several tools (the benchmark command, the browser tests) can each
// keep their part of one document, docs/benchmarks.md, fresh while the
// hand-written text around them stays as it is.
package docsection

import (
	"bytes"
	"fmt"
	"os"
)

// Markers returns the comments that delimit the section called name.
func Markers(name string) (begin, end string) {
	return "<!-- " + name + ":begin -->", "<!-- " + name + ":end -->"
}

// Replace puts body between the markers of section name in doc, and returns
// the new document. A document without the section gets it at the end.
func Replace(doc []byte, name, body string) ([]byte, error) {
	begin, end := Markers(name)
	i, j := bytes.Index(doc, []byte(begin)), bytes.Index(doc, []byte(end))
	if (i < 0) != (j < 0) || j < i {
		return nil, fmt.Errorf("docsection: %s: the markers %q and %q are not a pair", name, begin, end)
	}
	section := begin + "\n" + body + end
	if i < 0 {
		out := bytes.TrimRight(doc, "\n")
		if len(out) > 0 {
			out = append(out, "\n\n"...)
		}
		return append(out, section+"\n"...), nil
	}
	out := append([]byte{}, doc[:i]...)
	out = append(out, section...)
	return append(out, doc[j+len(end):]...), nil
}

// ReplaceFile does Replace on the file at path. A missing file is created,
// starting with header.
func ReplaceFile(path, header, name, body string) error {
	doc, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		doc, err = []byte(header), nil
	}
	if err != nil {
		return err
	}
	out, err := Replace(doc, name, body)
	if err != nil {
		return err
	}
	return os.WriteFile(path, out, 0o644)
}
