package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"natter/internal/store/storetest"
)

// Benchmarks make a database per run next to the one the admin URL names;
// the URL they get back must name the new database, whatever shape the
// admin URL had.
func TestCreatePostgresDatabase(t *testing.T) {
	base := os.Getenv(storetest.PostgresEnv)
	if base == "" {
		storetest.SkipUnlessRequired(t, "PostgreSQL tests skipped: set %s", storetest.PostgresEnv)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	noPath := *u
	noPath.Path, noPath.RawQuery = "", "sslmode=disable&application_name=natter_test"
	for _, tt := range []struct{ name, admin string }{{"WithPath", base}, {"NoPathWithQuery", noPath.String()}} {
		admin := tt.admin
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			name := fmt.Sprintf("natter_bulk_%d", time.Now().UnixNano())
			dsn, err := createPostgresDatabase(ctx, admin, name)
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := dropPostgresDatabase(context.Background(), admin, name); err != nil {
					t.Errorf("dropPostgresDatabase: %v", err)
				}
			}()
			db, err := sql.Open("pgx", dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var got string
			if err := db.QueryRowContext(ctx, `SELECT current_database()`).Scan(&got); err != nil || got != name {
				t.Errorf("URL %q connects to %q (%v), want %q", dsn, got, err, name)
			}
		})
	}
	if _, err := createPostgresDatabase(t.Context(), base, "bad; name"); err == nil {
		t.Error("a bad database name was accepted")
	}
}
