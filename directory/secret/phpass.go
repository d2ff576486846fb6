package secret

import (
	"crypto/md5"
	"strings"
)

// itoa64 is phpass's (and crypt(3)'s) base64 alphabet.
const itoa64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

type phpassDigest struct {
	setting string // "$P$" + count char + 8 salt chars
	full    string
}

// verify computes phpass's portable hash: h = md5(salt || password), then
// 2^count times h = md5(h || password), encoded with encode64 after the
// 12-character setting.
func (d phpassDigest) verify(plain string) (bool, error) {
	count := 1 << strings.IndexByte(itoa64, d.setting[3])
	pw := []byte(plain)
	h := md5.New()
	h.Write([]byte(d.setting[4:12]))
	h.Write(pw)
	sum := h.Sum(nil)
	for ; count > 0; count-- {
		h.Reset()
		h.Write(sum)
		h.Write(pw)
		sum = h.Sum(sum[:0])
	}
	got := d.setting + phpassEncode64(sum)
	return equal([]byte(got), []byte(d.full)), nil
}

// phpassEncode64 is phpass's encode64: little-endian groups of three bytes
// to four itoa64 characters, 22 characters for an MD5 sum.
func phpassEncode64(in []byte) string {
	var b strings.Builder
	for i := 0; i < len(in); {
		v := uint(in[i])
		i++
		b.WriteByte(itoa64[v&0x3f])
		if i < len(in) {
			v |= uint(in[i]) << 8
		}
		b.WriteByte(itoa64[(v>>6)&0x3f])
		if i >= len(in) {
			break
		}
		i++
		if i < len(in) {
			v |= uint(in[i]) << 16
		}
		b.WriteByte(itoa64[(v>>12)&0x3f])
		if i >= len(in) {
			break
		}
		i++
		b.WriteByte(itoa64[(v>>18)&0x3f])
	}
	return b.String()
}

// parsePHPass: $P$ (or phpBB's $H$), one count character (log2 of the
// iterations, 7..30 as phpass requires), 8 salt characters and 22 checksum
// characters, all from itoa64: 34 characters.
func parsePHPass(hasher, s string) (verifier, error) {
	if len(s) < 3 || (s[:3] != "$P$" && s[:3] != "$H$") {
		return nil, malformed(hasher, "must start with \"$P$\" (or \"$H$\")")
	}
	if len(s) != 34 {
		return nil, malformed(hasher, "must be 34 characters ($P$, rounds, 8 salt, 22 checksum), got %d", len(s))
	}
	for i := 3; i < len(s); i++ {
		if strings.IndexByte(itoa64, s[i]) < 0 {
			return nil, malformed(hasher, "character %q at %d is outside [./0-9A-Za-z]", s[i], i)
		}
	}
	if n := strings.IndexByte(itoa64, s[3]); n < 7 || n > 30 {
		return nil, malformed(hasher, "rounds character %q encodes 2^%d iterations; phpass allows 2^7..2^30", s[3], n)
	}
	return phpassDigest{setting: s[:12], full: s}, nil
}
