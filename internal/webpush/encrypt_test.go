package webpush

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"testing"
)

// rfc8291 is the worked example of RFC 8291 §5 (intermediate values in its
// Appendix A), base64url as printed there.
var rfc8291 = struct {
	plaintext, asPrivate, asPublic, uaPrivate, uaPublic, salt, auth, body string
}{
	plaintext: "When I grow up, I want to be a watermelon",
	asPrivate: "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw",
	asPublic:  "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8",
	uaPrivate: "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94",
	uaPublic:  "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
	salt:      "DGv6ra1nlYgDCS1FRnbzlw",
	auth:      "BTBZMqHH6r4Tts7J_aSIgg",
	body: "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_" +
		"yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN",
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := decodeBase64URL(s)
	if err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}
	return b
}

func TestEncryptRFC8291Vector(t *testing.T) {
	sub := Subscription{
		Endpoint: "https://push.example.net/push/JzLQ3raZJfFBR0aqvOMsLrt54w4rJUsV",
		Keys:     Keys{P256DH: rfc8291.uaPublic, Auth: rfc8291.auth},
	}
	uaPublic, auth, err := sub.keys()
	if err != nil {
		t.Fatal(err)
	}
	ephemeral, err := ecdh.P256().NewPrivateKey(mustDecode(t, rfc8291.asPrivate))
	if err != nil {
		t.Fatal(err)
	}
	if got := encodeBase64URL(ephemeral.PublicKey().Bytes()); got != rfc8291.asPublic {
		t.Fatalf("as_public = %s, want %s", got, rfc8291.asPublic)
	}
	plaintext := []byte(rfc8291.plaintext)
	// The example pads nothing: the delimiter alone follows the data.
	got, err := encrypt(plaintext, uaPublic, auth, ephemeral, mustDecode(t, rfc8291.salt), len(plaintext))
	if err != nil {
		t.Fatal(err)
	}
	if enc := encodeBase64URL(got); enc != rfc8291.body {
		t.Errorf("body =\n%s\nwant\n%s", enc, rfc8291.body)
	}
	if string(plaintext) != rfc8291.plaintext {
		t.Errorf("plaintext changed to %q", plaintext)
	}
}

func TestEncrypt(t *testing.T) {
	ua, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sub := Subscription{
		Endpoint: "https://push.example.net/x",
		Keys:     Keys{P256DH: encodeBase64URL(ua.PublicKey().Bytes()), Auth: encodeBase64URL(make([]byte, 16))},
	}

	t.Run("PadsToABlockWithoutTouchingTheInput", func(t *testing.T) {
		// Spare capacity is where a careless implementation would pad.
		buf := make([]byte, 5, 600)
		copy(buf, "hello")
		spare := buf[:cap(buf)]
		for i := 5; i < len(spare); i++ {
			spare[i] = 0xAA
		}
		body, err := Encrypt(sub, buf)
		if err != nil {
			t.Fatal(err)
		}
		if want := headerLen + padBlock + 1 + tagLen; len(body) != want {
			t.Errorf("body is %d bytes, want %d", len(body), want)
		}
		if !bytes.Equal(spare[5:], bytes.Repeat([]byte{0xAA}, len(spare)-5)) {
			t.Error("Encrypt wrote into the capacity of the caller's slice")
		}
	})

	t.Run("SameSizeForSimilarLengths", func(t *testing.T) {
		a, err := Encrypt(sub, bytes.Repeat([]byte("a"), 10))
		if err != nil {
			t.Fatal(err)
		}
		b, err := Encrypt(sub, bytes.Repeat([]byte("b"), 200))
		if err != nil {
			t.Fatal(err)
		}
		if len(a) != len(b) {
			t.Errorf("bodies of 10 and 200 bytes of plaintext are %d and %d bytes long", len(a), len(b))
		}
	})

	t.Run("LargestFitsIn4096", func(t *testing.T) {
		body, err := Encrypt(sub, make([]byte, MaxPayload))
		if err != nil {
			t.Fatal(err)
		}
		if len(body) != recordSize {
			t.Errorf("body is %d bytes, want %d", len(body), recordSize)
		}
	})

	t.Run("ErrPayloadTooLarge", func(t *testing.T) {
		if _, err := Encrypt(sub, make([]byte, MaxPayload+1)); !errors.Is(err, ErrPayloadTooLarge) {
			t.Errorf("err = %v, want ErrPayloadTooLarge", err)
		}
	})

	t.Run("ErrInvalidSubscription", func(t *testing.T) {
		bad := sub
		bad.Keys.Auth = "c2hvcnQ"
		if _, err := Encrypt(bad, []byte("x")); !errors.Is(err, ErrInvalidSubscription) {
			t.Errorf("err = %v, want ErrInvalidSubscription", err)
		}
	})
}
