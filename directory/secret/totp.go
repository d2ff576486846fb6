package secret

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"strings"
	"time"
)

// TOTP parameters: the only profile Clerk supports.
const (
	TOTPPeriod = 30 * time.Second
	TOTPDigits = 6
	// MinTOTPSecretBits is the shortest secret accepted, RFC 4226's minimum
	// of 128 bits relaxed to the 80 bits common authenticator apps issue.
	MinTOTPSecretBits = 80
)

var totpEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// decodeTOTPSecret decodes RFC 4648 base32, case-insensitive, with optional
// '=' padding (which, when present, must complete the last 8-character
// group).
func decodeTOTPSecret(secret string) ([]byte, error) {
	if secret == "" {
		return nil, fmt.Errorf("%w: empty", ErrInvalidTOTPSecret)
	}
	trimmed := strings.TrimRight(secret, "=")
	if pad := len(secret) - len(trimmed); pad > 0 && (len(secret)%8 != 0 || pad > 6) {
		return nil, fmt.Errorf("%w: bad '=' padding", ErrInvalidTOTPSecret)
	}
	for i := 0; i < len(trimmed); i++ {
		c := trimmed[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '2' <= c && c <= '7') {
			return nil, fmt.Errorf("%w: byte %q at %d is not a base32 character (A-Z, 2-7)", ErrInvalidTOTPSecret, c, i)
		}
	}
	switch len(trimmed) % 8 {
	case 1, 3, 6:
		return nil, fmt.Errorf("%w: %d base32 characters is not a whole number of bytes", ErrInvalidTOTPSecret, len(trimmed))
	}
	trimmed = strings.ToUpper(trimmed)
	key, err := totpEncoding.DecodeString(trimmed)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidTOTPSecret, err)
	}
	if len(key)*8 < MinTOTPSecretBits {
		return nil, fmt.Errorf("%w: %d bits, at least %d required", ErrInvalidTOTPSecret, len(key)*8, MinTOTPSecretBits)
	}
	return key, nil
}

// ValidateTOTPSecret checks that secret is base32 (RFC 4648, padding
// optional, case-insensitive) of at least 80 bits. Errors wrap
// ErrInvalidTOTPSecret.
func ValidateTOTPSecret(secret string) error {
	_, err := decodeTOTPSecret(secret)
	return err
}

// hotp is RFC 4226's HOTP with HMAC-SHA-1 and dynamic truncation to digits.
func hotp(key []byte, counter uint64, digits int) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	mac := hmac.New(sha1.New, key)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	code := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, code%mod)
}

func totpCounter(t time.Time) (uint64, error) {
	if t.Unix() < 0 {
		return 0, fmt.Errorf("secret: TOTP time %s is before the Unix epoch", t.UTC().Format(time.RFC3339))
	}
	return uint64(t.Unix()) / uint64(TOTPPeriod/time.Second), nil
}

// TOTPCode returns the 6-digit RFC 6238 code (SHA-1, 30 s step) of secret
// at t.
func TOTPCode(secret string, t time.Time) (string, error) {
	key, err := decodeTOTPSecret(secret)
	if err != nil {
		return "", err
	}
	c, err := totpCounter(t)
	if err != nil {
		return "", err
	}
	return hotp(key, c, TOTPDigits), nil
}

// VerifyTOTP reports whether code is secret's TOTP code for the step of t or
// one step either side. An invalid secret or a code that is not 6 ASCII
// digits does not verify.
func VerifyTOTP(secret, code string, t time.Time) bool {
	if len(code) != TOTPDigits {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	key, err := decodeTOTPSecret(secret)
	if err != nil {
		return false
	}
	c, err := totpCounter(t)
	if err != nil {
		return false
	}
	ok := false
	for _, step := range [...]int64{-1, 0, 1} {
		if step < 0 && c == 0 {
			continue
		}
		if hmac.Equal([]byte(hotp(key, uint64(int64(c)+step), TOTPDigits)), []byte(code)) {
			ok = true
		}
	}
	return ok
}
