package secret_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/toolgate/toolgate/directory/secret"
)

func ExampleVerifyPassword() {
	// A digest imported with password_hasher "md5" (Clerk's example).
	ok, err := secret.VerifyPassword("md5", "5f4dcc3b5aa765d61d8327deb882cf99", "password")
	fmt.Println(ok, err)

	// awscognito digests are recorded and migrated on first sign-in.
	_, err = secret.VerifyPassword("awscognito", "awscognito#us-east-1_AbC123#client1#jane@example.com", "pw")
	fmt.Println(errors.Is(err, secret.ErrPendingMigration))
	// Output:
	// true <nil>
	// true
}

func ExampleValidateDigest() {
	err := secret.ValidateDigest("bcrypt", "$2b$03$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy")
	fmt.Println(err)
	fmt.Println(errors.Is(err, secret.ErrMalformedDigest))
	// Output:
	// secret: malformed bcrypt digest: bcrypt cost 3 out of range 4..31
	// true
}

func ExampleHashPassword() {
	digest, err := secret.HashPassword("correct horse battery staple")
	if err != nil {
		panic(err)
	}
	ok, _ := secret.VerifyPassword("bcrypt", digest, "correct horse battery staple")
	fmt.Println(ok)
	// Output: true
}

func ExampleBreached() {
	fmt.Println(secret.Breached("qwerty"), secret.Breached("Password"), secret.Breached("correct horse battery staple"))
	// Output: true true false
}

func ExampleTOTPCode() {
	// RFC 6238 Appendix B's SHA-1 seed, base32-encoded.
	const s = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	at := time.Unix(1111111109, 0)
	code, _ := secret.TOTPCode(s, at)
	fmt.Println(code, secret.VerifyTOTP(s, code, at.Add(30*time.Second)))
	// Output: 081804 true
}

func ExampleHashBackupCode() {
	stored, _ := secret.HashBackupCode("k7p2m9x4")
	fmt.Println(secret.VerifyBackupCode(stored, "k7p2m9x4"), secret.VerifyBackupCode(stored, "k7p2m9x5"))
	// Output: true false
}
