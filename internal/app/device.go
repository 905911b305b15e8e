package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"sync"
	"time"

	"natter/internal/natter"
)

// DeviceLifetime is how long a device cookie vouches for a browser.
const DeviceLifetime = 365 * 24 * time.Hour

// deviceKeys signs device cookies: after a successful login a browser gets
// a token naming the member, which later exempts it from the per-account
// limit on failed logins, so that failures from elsewhere cannot lock the
// member out of the browser they use (OWASP's "device cookies"). The key
// lives in the database, so every instance accepts every instance's tokens
// and a restart invalidates none.
type deviceKeys struct {
	store natter.Store
	mu    sync.Mutex
	key   []byte
}

const deviceKeyName = "device-cookie-hmac"

func (d *deviceKeys) get(ctx context.Context) ([]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.key == nil {
		key, err := d.store.Secret(ctx, deviceKeyName, 32)
		if err != nil {
			return nil, err
		}
		d.key = key
	}
	return d.key, nil
}

func deviceMAC(key, payload []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("natter device v1\x00"))
	m.Write(payload)
	return m.Sum(nil)
}

// DeviceToken returns the device cookie's value for a browser that has
// just logged in as memberID.
func (a *App) DeviceToken(ctx context.Context, memberID int64) (string, error) {
	key, err := a.devices.get(ctx)
	if err != nil {
		return "", err
	}
	payload := binary.BigEndian.AppendUint64(nil, uint64(memberID))
	payload = binary.BigEndian.AppendUint64(payload, uint64(a.store.Now().Unix()))
	b64 := base64.RawURLEncoding
	return b64.EncodeToString(payload) + "." + b64.EncodeToString(deviceMAC(key, payload)), nil
}

// knownDevice reports whether token is a device cookie, still valid, that
// this site gave a browser after memberID logged in with it.
func (a *App) knownDevice(ctx context.Context, token string, memberID int64) bool {
	if token == "" || memberID == 0 {
		return false
	}
	p, m, ok := strings.Cut(token, ".")
	b64 := base64.RawURLEncoding
	payload, err1 := b64.DecodeString(p)
	mac, err2 := b64.DecodeString(m)
	if !ok || err1 != nil || err2 != nil || len(payload) != 16 {
		return false
	}
	key, err := a.devices.get(ctx)
	if err != nil || !hmac.Equal(mac, deviceMAC(key, payload)) {
		return false
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(payload[8:])), 0)
	return int64(binary.BigEndian.Uint64(payload)) == memberID && a.store.Now().Sub(issued) < DeviceLifetime
}
