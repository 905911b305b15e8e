package app

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"natter/internal/natter"
)

// credentialsOnly is the part of storage that Authenticate reads before it
// checks a password: a clock and credentials. Anything else it calls
// panics on the nil Store.
type credentialsOnly struct {
	natter.Store
	creds map[string]natter.Credentials
}

func (s credentialsOnly) Now() time.Time { return time.Now() }

func (s credentialsOnly) Credentials(_ context.Context, username string) (natter.Credentials, error) {
	c, ok := s.creds[username]
	if !ok {
		return natter.Credentials{}, natter.ErrNotFound
	}
	return c, nil
}

// A login that names nobody costs a password check like any other, so that
// how long a refusal takes does not tell who has an account. The check is
// seen by the slot it must take among a.hashing's workers: with every slot taken,
// a login that checks a hash waits, and one that skipped it would be
// refused at once.
func TestAuthenticateAlwaysChecksAHash(t *testing.T) {
	hash, err := hashPassword("correct horse battery", FastPasswordParams)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, username, password string }{
		{"UnknownUser", "mallory", "correct horse battery"},
		{"WrongPassword", "alice", "wrong horse battery"},
		{"HugePassword", "alice", string(make([]byte, 5*MaxPasswordLen))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				st := credentialsOnly{creds: map[string]natter.Credentials{"alice": {MemberID: 1, PasswordHash: hash}}}
				a, err := New(st, nil, Config{Password: FastPasswordParams, LoginPerAccount: NoLimit, LoginPerAddress: NoLimit})
				if err != nil {
					t.Fatal(err)
				}
				for len(a.hashing.workers) < cap(a.hashing.workers) {
					a.hashing.workers <- struct{}{}
				}
				done := make(chan error, 1)
				go func() {
					_, err := a.Authenticate(t.Context(), LoginInput{Username: tt.username, Password: tt.password, Addr: "192.0.2.1"})
					done <- err
				}()
				synctest.Wait()
				select {
				case err := <-done:
					t.Fatalf("refused (%v) without waiting for a password check", err)
				default:
				}
				<-a.hashing.workers // one check may run
				if err := <-done; err != ErrBadCredentials {
					t.Errorf("Authenticate = %v, want ErrBadCredentials", err)
				}
			})
		})
	}
}
