package webpush_test

import (
	"encoding/base64"
	"errors"
	"testing"

	"natter/internal/webpush"
)

func TestParseSubscription(t *testing.T) {
	const (
		p256dh = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
		auth   = "BTBZMqHH6r4Tts7J_aSIgg"
	)
	t.Run("OK", func(t *testing.T) {
		s, err := webpush.ParseSubscription([]byte(`{"endpoint":"https://fcm.googleapis.com/fcm/send/abc:def",
			"expirationTime":1767225600000,"keys":{"p256dh":"` + p256dh + `","auth":"` + auth + `=="}}`))
		if err != nil {
			t.Fatal(err)
		}
		if exp, ok := s.Expires(); !ok || exp.Unix() != 1767225600 {
			t.Errorf("Expires() = %v, %v", exp, ok)
		}
	})
	compressed := base64.RawURLEncoding.EncodeToString(append([]byte{3}, make([]byte, 32)...))
	offCurve := base64.RawURLEncoding.EncodeToString(append([]byte{4}, make([]byte, 64)...))
	for name, body := range map[string]string{
		"ErrNotJSON":             `{"endpoint":`,
		"ErrNoEndpoint":          `{"keys":{"p256dh":"` + p256dh + `","auth":"` + auth + `"}}`,
		"ErrRelativeEndpoint":    `{"endpoint":"/push/1","keys":{"p256dh":"` + p256dh + `","auth":"` + auth + `"}}`,
		"ErrEndpointScheme":      `{"endpoint":"ftp://push.example/1","keys":{"p256dh":"` + p256dh + `","auth":"` + auth + `"}}`,
		"ErrEndpointCredentials": `{"endpoint":"https://u:p@push.example/1","keys":{"p256dh":"` + p256dh + `","auth":"` + auth + `"}}`,
		"ErrCompressedKey":       `{"endpoint":"https://push.example/1","keys":{"p256dh":"` + compressed + `","auth":"` + auth + `"}}`,
		"ErrKeyOffCurve":         `{"endpoint":"https://push.example/1","keys":{"p256dh":"` + offCurve + `","auth":"` + auth + `"}}`,
		"ErrKeyNotBase64":        `{"endpoint":"https://push.example/1","keys":{"p256dh":"not base64!","auth":"` + auth + `"}}`,
		"ErrAuthLength":          `{"endpoint":"https://push.example/1","keys":{"p256dh":"` + p256dh + `","auth":"BTBZMqHH6r4Tts7J_aSI"}}`,
		"ErrNoKeys":              `{"endpoint":"https://push.example/1"}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := webpush.ParseSubscription([]byte(body)); !errors.Is(err, webpush.ErrInvalidSubscription) {
				t.Errorf("err = %v, want ErrInvalidSubscription", err)
			}
		})
	}
}

func TestVAPIDKey(t *testing.T) {
	k, err := webpush.GenerateVAPIDKey()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := base64.RawURLEncoding.DecodeString(k.PublicKey())
	if err != nil || len(pub) != 65 || pub[0] != 4 {
		t.Errorf("PublicKey() = %q: want an uncompressed point in base64url", k.PublicKey())
	}
	b, err := k.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	again, err := webpush.ParseVAPIDKey(b)
	if err != nil {
		t.Fatal(err)
	}
	if again.PublicKey() != k.PublicKey() {
		t.Error("the key read back has another public key")
	}
	for _, bad := range [][]byte{nil, make([]byte, 32), make([]byte, 31), append(b, 0)} {
		if _, err := webpush.ParseVAPIDKey(bad); err == nil {
			t.Errorf("ParseVAPIDKey(%x) succeeded", bad)
		}
	}
}
