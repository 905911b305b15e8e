package app

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	_ "embed"

	"golang.org/x/crypto/argon2"
)

// PasswordParams are argon2id's cost parameters.
type PasswordParams struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// DefaultPasswordParams follow OWASP's argon2id recommendation (19 MiB,
// two passes, one lane): tens of milliseconds per login on a small server.
var DefaultPasswordParams = PasswordParams{Memory: 19 * 1024, Time: 2, Threads: 1}

// FastPasswordParams are for tests only: far too cheap for real passwords.
var FastPasswordParams = PasswordParams{Memory: 64, Time: 1, Threads: 1}

// hashPassword is the package function behind a.hashing, the bounded queue
// that keeps a burst of hashes from taking all the memory and CPU, and one
// client's burst from taking everyone's turn. key is whose share the hash
// comes from: the client's address, or the member.
func (a *App) hashPassword(ctx context.Context, key, password string) (string, error) {
	release, err := a.hashing.acquire(ctx, key)
	if err != nil {
		return "", err
	}
	defer release()
	return hashPassword(password, a.cfg.Password)
}

// checkPassword is the package function behind a.hashing (see hashPassword).
func (a *App) checkPassword(ctx context.Context, key, hash, password string) (bool, error) {
	release, err := a.hashing.acquire(ctx, key)
	if err != nil {
		return false, err
	}
	defer release()
	return checkPassword(hash, password)
}

// commonPasswords are the 10,000 most common passwords, one a line
// (commonpasswords/README.md says where they come from).
//
//go:embed commonpasswords/top10000.txt
var commonPasswordList string

var commonPasswords = sync.OnceValue(func() map[string]bool {
	m := make(map[string]bool, 10_000)
	for line := range strings.Lines(commonPasswordList) {
		m[strings.ToLower(strings.TrimRight(line, "\r\n"))] = true
	}
	return m
})

// checkNewPassword validates a password being chosen: its length, that it
// is not one of the most common, and that it does not contain the
// username or the email address's local part (the first things a guesser
// tries). The message says which rule it broke.
func checkNewPassword(fe fieldErrors, field, password, username, email string) {
	lower := strings.ToLower(password)
	local, _, _ := strings.Cut(strings.ToLower(email), "@")
	switch n := utf8.RuneCountInString(password); {
	case n < MinPasswordLen:
		fe.add(field, fmt.Sprintf("Use at least %d characters.", MinPasswordLen))
	case n > MaxPasswordLen:
		fe.add(field, fmt.Sprintf("Use at most %d characters.", MaxPasswordLen))
	case commonPasswords()[lower]:
		fe.add(field, "This is one of the 10,000 most common passwords, the first ones guessed. Please choose another.")
	case username != "" && strings.Contains(lower, strings.ToLower(username)):
		fe.add(field, "Your password must not contain your username.")
	case len(local) >= 3 && strings.Contains(lower, local):
		fe.add(field, "Your password must not contain your email address.")
	}
}

// hashPassword returns the PHC string of password, the format other argon2
// tools read: $argon2id$v=19$m=...,t=...,p=...$salt$hash.
func hashPassword(password string, p PasswordParams) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, 32)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

var errBadHash = errors.New("app: malformed password hash")

// checkPassword reports whether password matches hash, using the parameters
// recorded in the hash, so that raising the defaults keeps old hashes valid.
func checkPassword(hash, password string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var version int
	var p PasswordParams
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false, errBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}
