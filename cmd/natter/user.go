package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"text/tabwriter"
	"time"

	"natter/internal/app"
	"natter/internal/natter"
	"natter/internal/store"
)

const userUsage = `usage:
  natter user list [-database-url URL]
  natter user set-password [-database-url URL] NAME   (the new password from the terminal, or one line of stdin)
  natter user logout [-database-url URL] NAME         (ends every session of NAME's, and their event streams)`

// runUser is "natter user ...": what a member can do on their settings
// pages, for the operator.
func runUser(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(userUsage)
	}
	action := args[0]
	fs := flag.NewFlagSet("natter user "+action, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dsn := getenv("DATABASE_URL")
	if dsn == "" {
		dsn = "natter.db"
	}
	fs.StringVar(&dsn, "database-url", dsn, "SQLite file path, or a postgres:// URL (DATABASE_URL)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	wantArgs := 1
	if action == "list" {
		wantArgs = 0
	}
	if fs.NArg() != wantArgs || (action != "list" && action != "set-password" && action != "logout") {
		return errors.New(userUsage)
	}

	db, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	// No publisher: this process serves no streams. Ending sessions
	// announces it to the instances (at once on PostgreSQL; a SQLite
	// server's streams notice at their next session check).
	a, err := app.New(db, nil, app.Config{})
	if err != nil {
		return err
	}

	if action == "list" {
		return listUsers(ctx, db, stdout)
	}
	m, err := db.MemberByName(ctx, fs.Arg(0))
	if errors.Is(err, natter.ErrNotFound) {
		return fmt.Errorf("there is no member called %q", fs.Arg(0))
	}
	if err != nil {
		return err
	}
	acct, err := db.Account(ctx, m.ID)
	if err != nil {
		return err
	}
	switch action {
	case "set-password":
		password, err := readPassword(stdin, stderr)
		if err != nil {
			return err
		}
		n, err := a.SetPassword(ctx, acct, password, "")
		if e := natter.ErrorOf(err); e != nil && len(e.Fields) > 0 {
			return errors.New(e.Fields["new_password"])
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Password of %s changed; %s logged out.\n", acct.Username, sessions(n))
	case "logout":
		n, err := a.EndAllLogins(ctx, acct.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s logged out of %s.\n", acct.Username, sessions(n))
	}
	return nil
}

func listUsers(ctx context.Context, db *store.Store, stdout io.Writer) error {
	members, err := db.Members(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUSERNAME\tEMAIL\tREGISTERED\tLAST SEEN\tSESSIONS")
	for _, m := range members {
		logins, err := db.Logins(ctx, m.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\n", m.ID, m.Username, m.Email,
			m.CreatedAt.UTC().Format(time.DateOnly), m.LastSeen.UTC().Format(time.DateTime), len(logins))
	}
	return tw.Flush()
}

// readPassword reads the new password: typed twice at a terminal, with
// echo off (stty), or one line of whatever stdin is.
func readPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	f, isFile := stdin.(*os.File)
	terminal := false
	if isFile {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			terminal = true
		}
	}
	r := bufio.NewReader(stdin)
	line := func() (string, error) {
		s, err := r.ReadString('\n')
		if err != nil && (err != io.EOF || s == "") {
			return "", fmt.Errorf("read the new password: %w", err)
		}
		return strings.TrimRight(s, "\r\n"), nil
	}
	if !terminal {
		return line()
	}
	echo := func(on bool) {
		arg := "-echo"
		if on {
			arg = "echo"
		}
		cmd := exec.Command("stty", arg)
		cmd.Stdin = f
		cmd.Run() // without stty the password shows; it still works
	}
	echo(false)
	defer echo(true)
	fmt.Fprint(stderr, "New password: ")
	first, err := line()
	fmt.Fprintln(stderr)
	if err != nil {
		return "", err
	}
	fmt.Fprint(stderr, "Again: ")
	second, err := line()
	fmt.Fprintln(stderr)
	if err != nil {
		return "", err
	}
	if first != second {
		return "", errors.New("the passwords do not match")
	}
	return first, nil
}

func sessions(n int) string {
	if n == 1 {
		return "1 session"
	}
	return fmt.Sprintf("%d sessions", n)
}
