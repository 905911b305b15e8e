package webpush

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrPayloadTooLarge is returned for a plaintext longer than MaxPayload.
var ErrPayloadTooLarge = errors.New("webpush: payload too large")

const (
	// recordSize is the RFC 8188 record size natter declares. RFC 8291 §4
	// lets push services refuse bodies over 4096 bytes, so one record of
	// 4096 always holds the whole message.
	recordSize = 4096
	saltLen    = 16
	// publicKeyLen is an uncompressed P-256 point, the RFC 8291 keyid.
	publicKeyLen = 65
	// headerLen is RFC 8188 §2.1's header: salt, rs (uint32), idlen, keyid.
	headerLen = saltLen + 4 + 1 + publicKeyLen
	tagLen    = 16
	// lastRecord is RFC 8188 §2's delimiter of the final record.
	lastRecord = 0x02

	// padBlock is the granularity plaintexts are padded to, so that the
	// push service sees one of a few sizes rather than the length of the
	// preview it carries (RFC 8291 §6, RFC 8188 §4).
	padBlock = 256
)

// MaxPayload is the longest plaintext a push message can carry: what fits
// in a 4096-byte body after the header, the delimiter and the AEAD tag
// (RFC 8291 §4: 3993 octets).
const MaxPayload = recordSize - headerLen - 1 - tagLen

// Encrypt returns the RFC 8291 "aes128gcm" body of a push message carrying
// plaintext to sub: the RFC 8188 header (with a fresh salt and the
// application server's ephemeral public key as keyid) and one record,
// padded to hide the plaintext's exact length. It does not modify
// plaintext.
func Encrypt(sub Subscription, plaintext []byte) ([]byte, error) {
	if len(plaintext) > MaxPayload {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrPayloadTooLarge, len(plaintext), MaxPayload)
	}
	uaPublic, auth, err := sub.keys()
	if err != nil {
		return nil, err
	}
	ephemeral, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("webpush: ephemeral key: %w", err)
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("webpush: salt: %w", err)
	}
	return encrypt(plaintext, uaPublic, auth, ephemeral, salt, paddedLen(len(plaintext)))
}

// paddedLen is the length n bytes of plaintext are padded to: the next
// multiple of padBlock, never past what fits.
func paddedLen(n int) int {
	p := (n + padBlock - 1) / padBlock * padBlock
	return min(max(p, padBlock), MaxPayload)
}

// encrypt is RFC 8291 §3.4 and RFC 8188 §2 with every random input given,
// so the RFC's worked example (RFC 8291 §5, Appendix A) can be reproduced.
// The plaintext is padded with zeros to padTo bytes (at least its length).
func encrypt(plaintext []byte, uaPublic *ecdh.PublicKey, auth []byte, ephemeral *ecdh.PrivateKey, salt []byte, padTo int) ([]byte, error) {
	ecdhSecret, err := ephemeral.ECDH(uaPublic)
	if err != nil {
		return nil, fmt.Errorf("webpush: ECDH: %w", err)
	}
	asPublic := ephemeral.PublicKey().Bytes()

	// RFC 8291 §3.3: the authentication secret salts the ECDH secret, bound
	// to both public keys; the result keys RFC 8188's derivation.
	keyInfo := "WebPush: info\x00" + string(uaPublic.Bytes()) + string(asPublic)
	ikm, err := hkdf.Key(sha256.New, ecdhSecret, auth, keyInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("webpush: IKM: %w", err)
	}
	prk, err := hkdf.Extract(sha256.New, ikm, salt)
	if err != nil {
		return nil, fmt.Errorf("webpush: PRK: %w", err)
	}
	cek, err := hkdf.Expand(sha256.New, prk, "Content-Encoding: aes128gcm\x00", 16)
	if err != nil {
		return nil, fmt.Errorf("webpush: CEK: %w", err)
	}
	// One record: its sequence number is 0, so the nonce is used as derived
	// (RFC 8188 §2.3's XOR with the sequence number changes nothing).
	nonce, err := hkdf.Expand(sha256.New, prk, "Content-Encoding: nonce\x00", 12)
	if err != nil {
		return nil, fmt.Errorf("webpush: nonce: %w", err)
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, fmt.Errorf("webpush: AES: %w", err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("webpush: GCM: %w", err)
	}

	padTo = max(padTo, len(plaintext))
	body := make([]byte, headerLen, headerLen+padTo+1+tagLen)
	copy(body, salt)
	binary.BigEndian.PutUint32(body[saltLen:], recordSize)
	body[saltLen+4] = publicKeyLen
	copy(body[saltLen+5:], asPublic)

	// The record is built in a buffer of our own, so the caller's plaintext
	// is never padded in place. RFC 8188 §2: the data, the delimiter, then
	// the padding zeros.
	record := make([]byte, padTo+1)
	copy(record, plaintext)
	record[len(plaintext)] = lastRecord
	return gcm.Seal(body, nonce, record, nil), nil
}
