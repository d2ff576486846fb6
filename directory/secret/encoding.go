package secret

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
)

// parseDecimal parses a field of ASCII digits into an int within [lo, hi].
func parseDecimal(hasher, field, s string, lo, hi int) (int, error) {
	if s == "" {
		return 0, malformed(hasher, "%s is empty", field)
	}
	if len(s) > 10 {
		return 0, malformed(hasher, "%s %q is too large (maximum %d)", field, s, hi)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, malformed(hasher, "%s %q is not a decimal number", field, s)
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, malformedErr(hasher, err, "%s %q", field, s)
	}
	if n < lo || n > hi {
		return 0, malformed(hasher, "%s %d out of range %d..%d", field, n, lo, hi)
	}
	return n, nil
}

func isHex(s string) bool {
	if s == "" || len(s)%2 != 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// decodeHex decodes a hex field (either case). wantLen, when > 0, is the
// required number of decoded bytes.
func decodeHex(hasher, field, s string, wantLen int) ([]byte, error) {
	if s == "" {
		return nil, malformed(hasher, "%s is empty", field)
	}
	if wantLen > 0 && len(s) != 2*wantLen {
		return nil, malformed(hasher, "%s must be %d hex characters, got %d", field, 2*wantLen, len(s))
	}
	if !isHex(s) {
		return nil, malformed(hasher, "%s is not a hex string", field)
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, malformedErr(hasher, err, "%s", field)
	}
	return b, nil
}

var errBase64Chars = errors.New("characters outside the base64 alphabet")

// decodeBase64 decodes standard base64 (RFC 4648 §4), padding optional. With
// urlSafe, the URL alphabet (§5) is accepted as well. Unlike the encoding
// package it refuses embedded newlines.
func decodeBase64(hasher, field, s string, urlSafe bool) ([]byte, error) {
	if s == "" {
		return nil, malformed(hasher, "%s is empty", field)
	}
	std, url := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '=':
		case c == '+' || c == '/':
			std = true
		case c == '-' || c == '_':
			url = true
		default:
			return nil, malformedErr(hasher, errBase64Chars, "%s is not base64", field)
		}
	}
	if url && (std || !urlSafe) {
		return nil, malformedErr(hasher, errBase64Chars, "%s is not base64", field)
	}
	enc := base64.StdEncoding
	if url {
		enc = base64.URLEncoding
	}
	if !strings.HasSuffix(s, "=") {
		enc = enc.WithPadding(base64.NoPadding)
	}
	b, err := enc.DecodeString(s)
	if err != nil {
		return nil, malformedErr(hasher, err, "%s is not base64", field)
	}
	return b, nil
}

// equal compares two byte strings in constant time for equal lengths.
func equal(a, b []byte) bool {
	return subtle.ConstantTimeCompare(a, b) == 1
}
