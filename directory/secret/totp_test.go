package secret

import (
	"encoding/base32"
	"errors"
	"strings"
	"testing"
	"time"
)

// rfc6238Secret is RFC 6238 Appendix B's SHA-1 seed, ASCII "12345678901234567890".
var rfc6238Secret = base32.StdEncoding.EncodeToString([]byte("12345678901234567890"))

// RFC 6238 Appendix B, SHA-1 rows.
var rfc6238 = []struct {
	unix  int64
	code8 string
}{
	{59, "94287082"},
	{1111111109, "07081804"},
	{1111111111, "14050471"},
	{1234567890, "89005924"},
	{2000000000, "69279037"},
	{20000000000, "65353130"},
}

func TestRFC6238Vectors(t *testing.T) {
	if rfc6238Secret != "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" {
		t.Fatalf("secret = %s", rfc6238Secret)
	}
	key, err := decodeTOTPSecret(rfc6238Secret)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range rfc6238 {
		ts := time.Unix(v.unix, 0)
		c, err := totpCounter(ts)
		if err != nil {
			t.Fatal(err)
		}
		if got := hotp(key, c, 8); got != v.code8 {
			t.Errorf("8-digit code at %d = %s, want %s", v.unix, got, v.code8)
		}
		want6 := v.code8[2:]
		got, err := TOTPCode(rfc6238Secret, ts)
		if err != nil || got != want6 {
			t.Errorf("TOTPCode at %d = %s, %v; want %s", v.unix, got, err, want6)
		}
		if !VerifyTOTP(rfc6238Secret, want6, ts) {
			t.Errorf("VerifyTOTP(%s) at %d = false", want6, v.unix)
		}
		// Lower case and without padding the secret is the same.
		if got, _ := TOTPCode(strings.ToLower(rfc6238Secret), ts); got != want6 {
			t.Errorf("lower-case secret: %s", got)
		}
	}
}

func TestTOTPGeneratedCodeVerifies(t *testing.T) {
	const secret = "JBSWY3DPEHPK3PXP" // 80 bits
	now := time.Date(2026, 5, 1, 12, 0, 10, 0, time.UTC)
	code, err := TOTPCode(secret, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(code) != 6 {
		t.Fatalf("code %q", code)
	}
	for _, d := range []time.Duration{0, -30 * time.Second, 30 * time.Second, 19 * time.Second} {
		if !VerifyTOTP(secret, code, now.Add(d)) {
			t.Errorf("code rejected at %v offset", d)
		}
	}
	for _, d := range []time.Duration{-61 * time.Second, 60 * time.Second} {
		if VerifyTOTP(secret, code, now.Add(d)) {
			t.Errorf("code accepted at %v offset, outside the ±1 step window", d)
		}
	}
	other := "GEZDGNBVGY3TQOJQ"
	if VerifyTOTP(other, code, now) && mustCode(t, other, now) != code {
		t.Error("code verified against another secret")
	}
	for _, bad := range []string{"", "12345", "1234567", "12345a", " " + code[1:], "１２３４５６"} {
		if VerifyTOTP(secret, bad, now) {
			t.Errorf("VerifyTOTP(%q) = true", bad)
		}
	}
	if VerifyTOTP("not base32!", code, now) {
		t.Error("invalid secret verified")
	}
	if _, err := TOTPCode(secret, time.Unix(-1, 0)); err == nil {
		t.Error("time before the epoch accepted")
	}
	// At the first step there is no previous step.
	if c0, _ := TOTPCode(secret, time.Unix(0, 0)); !VerifyTOTP(secret, c0, time.Unix(5, 0)) {
		t.Error("step 0 code rejected")
	}
}

func mustCode(t *testing.T, s string, at time.Time) string {
	t.Helper()
	c, err := TOTPCode(s, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestValidateTOTPSecret(t *testing.T) {
	for _, ok := range []string{
		"JBSWY3DPEHPK3PXP",                 // 16 chars, 80 bits
		"jbswy3dpehpk3pxp",                 // case-insensitive
		"GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", // 160 bits
		"JBSWY3DPEHPK3PXPJA",               // unpadded, 18 chars = 11 bytes
		"JBSWY3DPEHPK3PXPJA======",         // the same, padded
		"MFRGGZDFMZTWQ2LKNM======",         // 11 bytes padded
	} {
		if err := ValidateTOTPSecret(ok); err != nil {
			t.Errorf("ValidateTOTPSecret(%q) = %v", ok, err)
		}
	}
	for _, bad := range []struct{ secret, want string }{
		{"", "empty"},
		{"JBSWY3DPEHPK3PX", "72 bits, at least 80"},    // 15 chars: 9 bytes
		{"JBSWY3DPEHPK3PX1", "not a base32 character"}, // '1' is not base32
		{"JBSW Y3DP EHPK 3PXP", "not a base32 character"},
		{"JBSWY3DPEHPK3PXPJ", "not a whole number of bytes"}, // 17 chars: impossible length
		{"JBSWY3DPEHPK3PXPJA====", "padding"},                // padding not to a multiple of 8
		{"JBSWY3DPEHPK3PXP========", "padding"},              // a whole group of padding
		{"JBSWY3DP=EHPK3PXP", "not a base32 character"},
		{"JBSWY3DPEHPK3PXı", "not a base32 character"},
	} {
		err := ValidateTOTPSecret(bad.secret)
		if !errors.Is(err, ErrInvalidTOTPSecret) || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("ValidateTOTPSecret(%q) = %v, want ErrInvalidTOTPSecret containing %q", bad.secret, err, bad.want)
		}
		if _, err := TOTPCode(bad.secret, time.Now()); !errors.Is(err, ErrInvalidTOTPSecret) {
			t.Errorf("TOTPCode(%q) = %v", bad.secret, err)
		}
	}
}
