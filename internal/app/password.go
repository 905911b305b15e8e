package app

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

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

// hashPassword is the package function under a.hashing: at most a few
// argon2 computations, of Config.Password.Memory each, run at once, and
// the rest wait their turn, so that a burst of logins cannot take all the
// memory.
func (a *App) hashPassword(ctx context.Context, password string) (string, error) {
	if err := a.acquireHashing(ctx); err != nil {
		return "", err
	}
	defer func() { <-a.hashing }()
	return hashPassword(password, a.cfg.Password)
}

// checkPassword is the package function under a.hashing (see hashPassword).
func (a *App) checkPassword(ctx context.Context, hash, password string) (bool, error) {
	if err := a.acquireHashing(ctx); err != nil {
		return false, err
	}
	defer func() { <-a.hashing }()
	return checkPassword(hash, password)
}

func (a *App) acquireHashing(ctx context.Context) error {
	select {
	case a.hashing <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
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
