package docsection

import (
	"os"
	"path/filepath"
	"testing"
)

func TestReplace(t *testing.T) {
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"Empty", "", "<!-- a:begin -->\nnew\n<!-- a:end -->\n"},
		{"Appended", "# Title\n\nText.\n", "# Title\n\nText.\n\n<!-- a:begin -->\nnew\n<!-- a:end -->\n"},
		{"Replaced", "# T\n<!-- a:begin -->\nold\n<!-- a:end -->\nafter\n", "# T\n<!-- a:begin -->\nnew\n<!-- a:end -->\nafter\n"},
		{"OtherSectionsKept",
			"<!-- b:begin -->\nb's\n<!-- b:end -->\n<!-- a:begin -->\nold\n<!-- a:end -->\n",
			"<!-- b:begin -->\nb's\n<!-- b:end -->\n<!-- a:begin -->\nnew\n<!-- a:end -->\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Replace([]byte(tc.doc), "a", "new\n")
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got\n%q\nwant\n%q", got, tc.want)
			}
		})
	}
}

func TestReplaceRefusesBrokenMarkers(t *testing.T) {
	for _, doc := range []string{
		"<!-- a:begin -->\nno end\n",
		"no begin\n<!-- a:end -->\n",
		"<!-- a:end -->\n<!-- a:begin -->\n",
	} {
		if _, err := Replace([]byte(doc), "a", "x\n"); err == nil {
			t.Errorf("no error for %q", doc)
		}
	}
}

func TestReplaceFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "doc.md")
	if err := ReplaceFile(path, "# Doc\n", "a", "one\n"); err != nil {
		t.Fatal(err)
	}
	if err := ReplaceFile(path, "# Doc\n", "a", "two\n"); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if want := "# Doc\n\n<!-- a:begin -->\ntwo\n<!-- a:end -->\n"; string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
