package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"
)

// SessionCodec encodes login sessions' data for the session manager (it
// implements scs.Codec). scs's default, encoding/gob, builds a decoder for
// the types anew on every request, which cost more than the database read
// of the session. natter's sessions hold a member id, a flash message and
// scs's own flag, which this format writes without reflection:
//
//	0x00 0x01                  marker and version
//	varint                     deadline, Unix nanoseconds
//	uvarint                    number of values, then for each, by key:
//	uvarint + bytes            the key
//	'i' varint | 's' uvarint + bytes | 'b' 0 or 1 | 't' varint (Unix ns)
//
// Anything else, such as the gob that scs's default codec wrote before
// natter had this one, is an error; the web layer reads such a session as
// none, and its member logs in again.
type SessionCodec struct{}

const sessionCodecVersion = 1

// Encode implements scs.Codec.
func (SessionCodec) Encode(deadline time.Time, values map[string]any) ([]byte, error) {
	b := make([]byte, 0, 64)
	b = append(b, 0, sessionCodecVersion)
	b = binary.AppendVarint(b, deadline.UnixNano())
	b = binary.AppendUvarint(b, uint64(len(values)))
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b = appendString(b, k)
		switch v := values[k].(type) {
		case int64:
			b = binary.AppendVarint(append(b, 'i'), v)
		case string:
			b = appendString(append(b, 's'), v)
		case bool:
			b = append(b, 'b', 0)
			if v {
				b[len(b)-1] = 1
			}
		case time.Time:
			b = binary.AppendVarint(append(b, 't'), v.UnixNano())
		default:
			return nil, fmt.Errorf("store: session value %q: cannot encode %T", k, v)
		}
	}
	return b, nil
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

var errSessionData = errors.New("store: malformed session data")

// Decode implements scs.Codec.
func (SessionCodec) Decode(data []byte) (time.Time, map[string]any, error) {
	if len(data) < 2 || data[0] != 0 || data[1] != sessionCodecVersion {
		return time.Time{}, nil, errSessionData
	}
	r := sessionReader{b: data[2:]}
	deadline := time.Unix(0, r.varint())
	n := r.uvarint()
	if n > uint64(len(r.b)) { // every value takes at least a byte
		return time.Time{}, nil, errSessionData
	}
	values := make(map[string]any, n)
	for range n {
		k := r.string()
		switch r.byte() {
		case 'i':
			values[k] = r.varint()
		case 's':
			values[k] = r.string()
		case 'b':
			values[k] = r.byte() == 1
		case 't':
			values[k] = time.Unix(0, r.varint())
		default:
			r.err = true
		}
	}
	if r.err || len(r.b) != 0 {
		return time.Time{}, nil, errSessionData
	}
	return deadline, values, nil
}

// sessionReader reads SessionCodec's fields; a short or malformed input
// sets err and yields zeros.
type sessionReader struct {
	b   []byte
	err bool
}

func (r *sessionReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err, r.b = true, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *sessionReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err, r.b = true, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *sessionReader) byte() byte {
	if len(r.b) == 0 {
		r.err = true
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *sessionReader) string() string {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.err, r.b = true, nil
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}
