package pushtest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// decrypt is a user agent's side of RFC 8291 §3.4 over RFC 8188 §2. It is
// written apart from webpush.Encrypt on purpose, down to HKDF spelled out
// as the RFCs give it (HMAC-SHA-256, one block), so a mistake made the same
// way on both sides cannot make a round trip pass. It takes only what a
// browser accepts from natter: one record, a 65-byte keyid.
func decrypt(body []byte, ua *ecdh.PrivateKey, auth []byte) ([]byte, error) {
	const header = 16 + 4 + 1 + 65
	if len(body) < header+16+1 {
		return nil, fmt.Errorf("body of %d bytes is shorter than a header and one record", len(body))
	}
	salt := body[:16]
	rs := binary.BigEndian.Uint32(body[16:20])
	if idlen := body[20]; idlen != 65 {
		return nil, fmt.Errorf("keyid is %d bytes; RFC 8291 §4 wants the 65-byte uncompressed key", idlen)
	}
	asPublic, err := ecdh.P256().NewPublicKey(body[21:header])
	if err != nil {
		return nil, fmt.Errorf("keyid is not a P-256 point: %v", err)
	}
	record := body[header:]
	if rs < 18 {
		return nil, fmt.Errorf("record size %d is below RFC 8188's minimum of 18", rs)
	}
	if uint64(len(record)) > uint64(rs) {
		return nil, fmt.Errorf("%d bytes of records with rs %d: RFC 8291 §4 allows one record only", len(record), rs)
	}

	secret, err := ua.ECDH(asPublic)
	if err != nil {
		return nil, fmt.Errorf("ECDH: %v", err)
	}
	uaPublic := ua.PublicKey().Bytes()
	// RFC 8291 §3.3 and §3.4.
	prkKey := hmacSHA256(auth, secret)
	keyInfo := append(append([]byte("WebPush: info\x00"), uaPublic...), asPublic.Bytes()...)
	ikm := hmacSHA256(prkKey, append(keyInfo, 1))
	// RFC 8188 §2.2 and §2.3.
	prk := hmacSHA256(salt, ikm)
	cek := hmacSHA256(prk, append([]byte("Content-Encoding: aes128gcm\x00"), 1))[:16]
	nonce := hmacSHA256(prk, append([]byte("Content-Encoding: nonce\x00"), 1))[:12]

	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, nonce, record, nil)
	if err != nil {
		return nil, errors.New("the record does not decrypt with the subscription's keys")
	}
	// RFC 8188 §2: padding is zeros after the delimiter; the last (here,
	// only) record's delimiter is 2.
	i := len(plain) - 1
	for i >= 0 && plain[i] == 0 {
		i--
	}
	if i < 0 || plain[i] != 2 {
		return nil, errors.New("the record lacks the final-record delimiter 0x02")
	}
	return plain[:i], nil
}

func hmacSHA256(key, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(nil)
}
