package store

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// The caches are only as good as what transactions tell them: every
// function here that writes a member's row must call userChanged, and
// every one that adds posts or renames must call postsChanged, and one that
// registers a member namesChanged (renames forget names with posts). Bulk
// loading, which empties the caches whole, is exempt.
func TestCacheInvalidationIsDeclared(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || f == "bulk.go" || f == "migrate.go" {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range file.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			var sql []string
			calls := map[string]bool{}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.BasicLit:
					if n.Kind == token.STRING {
						sql = append(sql, strings.Join(strings.Fields(n.Value), " "))
					}
				case *ast.SelectorExpr:
					calls[n.Sel.Name] = true
				}
				return true
			})
			for _, q := range sql {
				if strings.Contains(q, "UPDATE users SET") && !calls["userChanged"] {
					t.Errorf("%s: %s writes users but does not call userChanged", f, fn.Name.Name)
				}
				if (strings.Contains(q, "INSERT INTO posts") || strings.Contains(q, "SET username =")) && !calls["postsChanged"] {
					t.Errorf("%s: %s changes what lists of posts show but does not call postsChanged", f, fn.Name.Name)
				}
				// Names that @mentions resolve to (MembersNamed).
				if strings.Contains(q, "INSERT INTO users") && !calls["namesChanged"] {
					t.Errorf("%s: %s gives a member a name but does not call namesChanged", f, fn.Name.Name)
				}
			}
		}
	}
}

// A read that began before a change does not keep what it read.
func TestReadCacheGeneration(t *testing.T) {
	c := newReadCache[int64, string](10)
	_, ok, gen := c.get(1)
	if ok {
		t.Fatal("an empty cache found something")
	}
	c.forget(2) // a commit lands while the read of 1 is under way
	c.put(1, "stale", gen)
	if v, ok, _ := c.get(1); ok {
		t.Errorf("kept %q, read before a change", v)
	}
	_, _, gen = c.get(1)
	c.put(1, "fresh", gen)
	if v, ok, _ := c.get(1); !ok || v != "fresh" {
		t.Errorf("got %q %v, want fresh", v, ok)
	}
	c.forget(1)
	if _, ok, _ := c.get(1); ok {
		t.Error("forget(1) kept 1")
	}
	var none *readCache[int64, string] // PostgreSQL's
	none.put(1, "x", 0)
	if _, ok, _ := none.get(1); ok {
		t.Error("a nil cache kept something")
	}
}
