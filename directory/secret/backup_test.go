package secret

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestBackupCodes(t *testing.T) {
	const code = "a1b2c3d4"
	h, err := HashBackupCode(code)
	if err != nil {
		t.Fatal(err)
	}
	if h == code || !strings.HasPrefix(h, "$2a$") {
		t.Fatalf("plain code stored as %q", h)
	}
	if !VerifyBackupCode(h, code) {
		t.Fatal("code does not verify")
	}
	for _, wrong := range []string{"", "a1b2c3d5", "A1B2C3D4", code + " "} {
		if VerifyBackupCode(h, wrong) {
			t.Errorf("VerifyBackupCode(%q) = true", wrong)
		}
	}

	// A code given as its bcrypt digest is stored unchanged and still verifies.
	pre, err := bcrypt.GenerateFromPassword([]byte("zz99yy88"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	got, err := HashBackupCode(string(pre))
	if err != nil || got != string(pre) {
		t.Fatalf("HashBackupCode(bcrypt) = %q, %v; want it unchanged", got, err)
	}
	if !VerifyBackupCode(got, "zz99yy88") {
		t.Fatal("pre-hashed code does not verify")
	}
	// $2y$ (PHP) digests count as bcrypt too.
	y := "$2y$" + string(pre)[4:]
	if got, _ := HashBackupCode(y); got != y || !VerifyBackupCode(y, "zz99yy88") {
		t.Fatal("$2y$ digest not accepted as is")
	}

	if _, err := HashBackupCode(""); !errors.Is(err, ErrEmptyPassword) {
		t.Errorf("empty code: %v", err)
	}
	if _, err := HashBackupCode(strings.Repeat("x", 73)); !errors.Is(err, ErrPasswordTooLong) {
		t.Errorf("long code: %v", err)
	}
	// Something bcrypt-looking but malformed is hashed as a plain code.
	odd := "$2b$10$short"
	if h, err := HashBackupCode(odd); err != nil || h == odd || !VerifyBackupCode(h, odd) {
		t.Errorf("HashBackupCode(%q) = %q, %v", odd, h, err)
	}
	if VerifyBackupCode("not a hash", code) {
		t.Error("VerifyBackupCode against a non-hash = true")
	}
}
