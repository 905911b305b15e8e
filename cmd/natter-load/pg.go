package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"regexp"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// dbName is what createPostgresDatabase accepts as a name: it goes into
// SQL unquoted.
var dbName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// createPostgresDatabase creates the database name on the PostgreSQL server
// that adminURL connects to, and returns the URL of the new database.
// dropPostgresDatabase removes it. Benchmarks use them for a fresh database
// per run.
func createPostgresDatabase(ctx context.Context, adminURL, name string) (string, error) {
	if !dbName.MatchString(name) {
		return "", fmt.Errorf("bad database name %q", name)
	}
	db, err := sql.Open("pgx", adminURL)
	if err != nil {
		return "", err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	return replaceDatabase(adminURL, name)
}

// dropPostgresDatabase drops the database name, ending its connections.
func dropPostgresDatabase(ctx context.Context, adminURL, name string) error {
	if !dbName.MatchString(name) {
		return fmt.Errorf("bad database name %q", name)
	}
	db, err := sql.Open("pgx", adminURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// replaceDatabase returns dsn with its database (the URL path) set to name.
// A URL parser, not string cutting: "postgres://h:5432?sslmode=disable" has
// no path, and its query must not swallow the name.
func replaceDatabase(dsn, name string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("%q is not a URL", dsn)
	}
	u.Path, u.RawPath = "/"+name, ""
	return u.String(), nil
}
