package secret

import (
	"errors"
	"testing"
	"time"
)

func FuzzValidateDigest(f *testing.F) {
	for _, v := range publishedVectors {
		f.Add(v.hasher, v.digest)
	}
	f.Add("awscognito", "awscognito#us-east-1_abc#client#user")
	f.Add("bcrypt_peppered", "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy$pep")
	f.Add("argon2id", "$argon2id$v=19$m=,t=,p=$$")
	f.Add("scrypt_werkzeug", "$scrypt:::$$")
	f.Add("phpass", "$P$\xff\xfe")
	f.Fuzz(func(t *testing.T, hasher, digest string) {
		err := ValidateDigest(hasher, digest)
		if err != nil && !errors.Is(err, ErrMalformedDigest) && !errors.Is(err, ErrUnknownHasher) {
			t.Fatalf("ValidateDigest(%q, %q) = %v: neither malformed nor unknown", hasher, digest, err)
		}
		for _, h := range hasherNames {
			if err := ValidateDigest(h, digest); err != nil && !errors.Is(err, ErrMalformedDigest) {
				t.Fatalf("ValidateDigest(%q, %q) = %v", h, digest, err)
			}
		}
	})
}

// FuzzVerifyCheap runs VerifyPassword on digests whose work factors are
// small, which ValidateDigest accepted: no panics, and errors only for
// awscognito.
func FuzzVerifyCheap(f *testing.F) {
	f.Add("md5_salted", "s$5f4dcc3b5aa765d61d8327deb882cf99", "pw")
	f.Add("phpass", "$P$7IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0", "pw")
	f.Add("ldap_ssha", "{SSHA}fNf+pscAYu1P15+ABHG7vT/diqCKHwBC", "pw")
	f.Add("pbkdf2_sha1", "pbkdf2_sha1$3$00$00$1", "pw")
	f.Add("sha512_symfony", "sha512_symfony$2$$vl73Z52Iq5qQRfYmflX15XhLS4zXZLXNhVpSRPkcYmlTzUbEPXZohz/W7707IhJJMVWAAxljRyoHh4H+BG5irg==", "pw")
	f.Fuzz(func(t *testing.T, hasher, digest, plain string) {
		d, err := parseDigest(hasher, digest)
		if err != nil || !cheap(d) {
			return
		}
		if _, err := d.verify(plain); err != nil && !errors.Is(err, ErrPendingMigration) {
			t.Fatalf("verify(%q, %q) = %v", hasher, digest, err)
		}
	})
}

func cheap(d verifier) bool {
	switch d := d.(type) {
	case hexDigest, sshaDigest, cognitoDigest:
		return true
	case pbkdf2Digest:
		return d.iter <= 1000
	case symfonyDigest:
		return d.iter <= 1000
	case phpassDigest:
		return d.setting[3] <= '9' // 2^7..2^11
	}
	return false
}

func FuzzTOTP(f *testing.F) {
	f.Add("JBSWY3DPEHPK3PXP", "123456", int64(1700000000))
	f.Add("jbswy3dp====", "000000", int64(0))
	f.Fuzz(func(t *testing.T, secret, code string, unix int64) {
		at := time.Unix(unix, 0)
		c, err := TOTPCode(secret, at)
		if err != nil {
			return
		}
		if !VerifyTOTP(secret, c, at) {
			t.Fatalf("own code %s of %q at %d does not verify", c, secret, unix)
		}
		_ = VerifyTOTP(secret, code, at)
	})
}
