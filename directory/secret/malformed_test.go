package secret

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateDigestMalformed(t *testing.T) {
	const bc = "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy" // 60 chars
	const fbKey = "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA=="
	const a2 = "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"
	tests := []struct {
		hasher, digest string
		want           string // substring of the error message
	}{
		{"bcrypt", "", "empty digest"},
		{"bcrypt", strings.Repeat("a", maxDigestLen+1), "more than 4096"},
		{"awscognito", "awscognito#us-east-1_abc#client", "got 3 '#'-separated fields"},
		{"awscognito", "cognito#us-east-1_abc#client#user", `start with "awscognito#"`},
		{"awscognito", "awscognito#useast1#client#user", "user pool id"},
		{"awscognito", "awscognito#us-east-1_a!c#client#user", "user pool id"},
		{"awscognito", "awscognito#us-east-1_abc#cli-ent#user", "client id"},
		{"awscognito", "awscognito#us-east-1_abc#client#  ", "identifier is empty"},
		{"bcrypt", bc[:59], "60 characters"},
		{"bcrypt", "$2b$10" + "x" + bc[7:], "must look like"},
		{"bcrypt", "$2x$10" + bc[6:], "$2x$"},
		{"bcrypt", "$3a$10" + bc[6:], "unsupported"},
		{"bcrypt", "$2b$03" + bc[6:], "cost 3 out of range 4..31"},
		{"bcrypt", "$2b$32" + bc[6:], "cost 32 out of range"},
		{"bcrypt", "$2b$1a" + bc[6:], "not a decimal"},
		{"bcrypt", bc[:20] + "!" + bc[21:], "outside bcrypt's base64"},
		{"bcrypt_sha256_django", bc, `start with "bcrypt_sha256$"`},
		{"bcrypt_sha256_django", "bcrypt_sha256$" + bc[1:], "60 characters"},
		{"bcrypt_peppered", bc, "non-empty pepper"},
		{"bcrypt_peppered", bc + "$", "non-empty pepper"},
		{"bcrypt_peppered", bc[:59] + "$$pepper", "outside bcrypt's base64"},
		{"md5", "5f4dcc3b5aa765d61d8327deb882cf9", "32 hex characters"},
		{"md5", "5f4dcc3b5aa765d61d8327deb882cfzz", "not a hex string"},
		{"sha256", "5f4dcc3b5aa765d61d8327deb882cf99", "64 hex characters"},
		{"md5_salted", "5f4dcc3b5aa765d61d8327deb882cf99", "found no '$'"},
		{"md5_salted", "$5f4dcc3b5aa765d61d8327deb882cf99", "salt is empty"},
		{"md5_salted", "salt$abc", "32 hex characters"},
		{"sha256_salted", "salt$5f4dcc3b5aa765d61d8327deb882cf99", "64 hex characters"},
		{"pbkdf2_sha1", "pbkdf2_sha256$1000$salt$00", `start with "pbkdf2_sha1$"`},
		{"pbkdf2_sha1", "pbkdf2_sha1$1000$salt", "got 3 '$'-separated fields"},
		{"pbkdf2_sha1", "pbkdf2_sha1$0$salt$" + strings.Repeat("00", 32), "iterations 0 out of range"},
		{"pbkdf2_sha1", "pbkdf2_sha1$-5$salt$" + strings.Repeat("00", 32), "not a decimal"},
		{"pbkdf2_sha1", "pbkdf2_sha1$99999999$salt$" + strings.Repeat("00", 32), "out of range 1..10000000"},
		{"pbkdf2_sha1", "pbkdf2_sha1$1000$$" + strings.Repeat("00", 32), "salt is empty"},
		{"pbkdf2_sha1", "pbkdf2_sha1$1000$salt$" + strings.Repeat("00", 20), "defaults to 32; append $20"},
		{"pbkdf2_sha1", "pbkdf2_sha1$1000$salt$" + strings.Repeat("00", 20) + "$32", "hash is 20 bytes but the key length is 32"},
		{"pbkdf2_sha1", "pbkdf2_sha1$1000$salt$" + strings.Repeat("00", 32) + "$x", "key length"},
		{"pbkdf2_sha1", "pbkdf2_sha1$1000$salt$zz", "not a hex string"},
		{"pbkdf2_sha256", "pbkdf2_sha256$1000$c2FsdA==$not base64!", "not base64"},
		{"pbkdf2_sha256", "pbkdf2_sha256$1000$c2Fs\ndA==$c2FsdA==", "not base64"},
		{"pbkdf2_sha256", "pbkdf2_sha256$1000$c2FsdA=$c2FsdA==", "not base64"},
		{"pbkdf2_sha256", "pbkdf2_sha256$1000$c2FsdA==$", "hash is empty"},
		{"pbkdf2_sha512", "pbkdf2_sha512$1000$salt$c2FsdA==", "not a hex string"},
		{"pbkdf2_sha512_hex", "pbkdf2_sha512_hex$1000$not-hex$00ff", "salt is not a hex string"},
		{"pbkdf2_sha512_hex", "pbkdf2_sha512$1000$00ff$00ff", `start with "pbkdf2_sha512_hex$"`},
		{"pbkdf2_sha256_django", "pbkdf2_sha256$1000$salt$c2FsdA==", "base64 of 32 bytes"},
		{"pbkdf2_sha256_django", "pbkdf2_sha256_django$1000$salt$c2FsdA==", `start with "pbkdf2_sha256$"`},
		{"pbkdf2_sha256_django", "pbkdf2_sha256$1000$salt$extra$c2FsdA==", "got 5 '$'-separated fields"},
		{"phpass", "$Q$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0", `start with "$P$"`},
		{"phpass", "$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L", "34 characters"},
		{"phpass", "$P$9IQRaTwm!eRo7ud9Fh4E2PdI0S3r.L0", "outside [./0-9A-Za-z]"},
		{"phpass", "$P$4IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0", "2^7..2^30"},
		{"phpass", "$P$zIQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0", "2^7..2^30"},
		{"md5_phpass", "5f4dcc3b5aa765d61d8327deb882cf99", `start with "$P$"`},
		{"scrypt_firebase", "aGFzaA==$c2FsdA==$" + fbKey + "$Bw==$8", "got 5 '$'-separated fields"},
		{"scrypt_firebase", "aGFzaA==$c2FsdA==$" + fbKey + "$Bw==$8$14", "hash is 4 bytes but the signer key is 64"},
		{"scrypt_firebase", "%%%$c2FsdA==$" + fbKey + "$Bw==$8$14", "hash is not base64"},
		{"scrypt_firebase", fbKey + "$$" + fbKey + "$Bw==$8$14", "salt is empty"},
		{"scrypt_firebase", fbKey + "$c2FsdA==$" + fbKey + "$Bw==$9$14", "rounds 9 out of range 1..8"},
		{"scrypt_firebase", fbKey + "$c2FsdA==$" + fbKey + "$Bw==$8$15", "memory cost 15 out of range 1..14"},
		{"scrypt_firebase", fbKey + "$c2FsdA==$" + fbKey + "$Bw==$8$", "memory cost is empty"},
		{"scrypt_werkzeug", "scrypt:32768:8:1$salt", "got 2 '$'-separated fields"},
		{"scrypt_werkzeug", "pbkdf2:sha256:600000$salt$00ff", "method \"pbkdf2\" is not scrypt"},
		{"scrypt_werkzeug", "scrypt:32768:8$salt$00ff", "want scrypt or scrypt:<N>:<r>:<p>"},
		{"scrypt_werkzeug", "scrypt:1000:8:1$salt$00ff", "not a power of two"},
		{"scrypt_werkzeug", "scrypt:1048576:16:1$salt$00ff", "more than 1 GiB"},
		{"scrypt_werkzeug", "scrypt:1024:8:17$salt$00ff", "p 17 out of range"},
		{"scrypt_werkzeug", "scrypt:1024:8:1$$00ff", "salt is empty"},
		{"scrypt_werkzeug", "scrypt:1024:8:1$salt$%%", "not base64"},
		{"argon2id", a2[1:], `start with "$argon2id$"`},
		{"argon2id", strings.Replace(a2, "argon2id", "argon2d", 1), `start with "$argon2id$"`},
		{"argon2i", a2, "digest is argon2id, not argon2i"},
		{"argon2id", strings.Replace(a2, "v=19$", "", 1), "version field missing"},
		{"argon2id", strings.Replace(a2, "v=19", "v=16", 1), `version "v=16" unsupported`},
		{"argon2id", strings.Replace(a2, "m=256,t=2,p=1", "t=2,m=256,p=1", 1), "want m=<number>"},
		{"argon2id", strings.Replace(a2, "m=256,t=2,p=1", "m=256,t=2", 1), "want m=<memory>,t=<iterations>,p=<parallelism>"},
		{"argon2id", strings.Replace(a2, "m=256", "m=4194304", 1), "m 4194304 out of range"},
		{"argon2id", strings.Replace(a2, "t=2", "t=0", 1), "t 0 out of range"},
		{"argon2id", strings.Replace(a2, "p=1", "p=256", 1), "p 256 out of range"},
		{"argon2id", strings.Replace(a2, "m=256,t=2,p=1", "m=64,t=2,p=9", 1), "less than 8 KiB per lane"},
		{"argon2id", strings.Replace(a2, "c29tZXNhbHQ", "c2FsdA", 1), "at least 8"},
		{"argon2id", strings.Replace(a2, "c29tZXNhbHQ", "c29t*XNhbHQ", 1), "salt is not base64"},
		{"argon2id", a2 + "$extra", "got 7 '$'-separated fields"},
		{"sha512_symfony", "sha512$5000$salt$aGFzaA==", `start with "sha512_symfony$"`},
		{"sha512_symfony", "sha512_symfony$5000", "want sha512_symfony$<iterations>$<salt>$<hash>"},
		{"sha512_symfony", "sha512_symfony$0$salt$" + fbKey, "iterations 0 out of range"},
		{"sha512_symfony", "sha512_symfony$5000$sa{lt}$" + fbKey, "'{' or '}'"},
		{"sha512_symfony", "sha512_symfony$5000$salt$aGFzaA==", "base64 of 64 bytes"},
		{"ldap_ssha", "{SHA}fNf+pscAYu1P15+ABHG7vT/diqCKHwBC", `start with "{SSHA}"`},
		{"ldap_ssha", "{SSHA}fNf+pscAYu1P15+ABHG7vT/diqA=", "at least 1 byte"},
		{"ldap_ssha", "{SSHA}not base64!", "not base64"},
	}
	for _, tt := range tests {
		t.Run(tt.hasher, func(t *testing.T) {
			err := ValidateDigest(tt.hasher, tt.digest)
			if err == nil {
				t.Fatalf("ValidateDigest(%q) = nil, want error containing %q", tt.digest, tt.want)
			}
			if !errors.Is(err, ErrMalformedDigest) {
				t.Errorf("error %v does not match ErrMalformedDigest", err)
			}
			var de *DigestError
			if !errors.As(err, &de) || de.Hasher != tt.hasher {
				t.Errorf("error %v is not a *DigestError for %s", err, tt.hasher)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ValidateDigest(%q) = %q, want it to contain %q", tt.digest, err, tt.want)
			}
			if ok, verr := VerifyPassword(tt.hasher, tt.digest, "password"); ok || !errors.Is(verr, ErrMalformedDigest) {
				t.Errorf("VerifyPassword = %v, %v; want false, ErrMalformedDigest", ok, verr)
			}
		})
	}
}

func TestDigestErrorUnwrapsCause(t *testing.T) {
	err := ValidateDigest("pbkdf2_sha256", "pbkdf2_sha256$1000$c2FsdA=$c2FsdA==")
	var de *DigestError
	if !errors.As(err, &de) || de.Err == nil {
		t.Fatalf("want a DigestError with a cause, got %#v", err)
	}
	if !errors.Is(err, de.Err) {
		t.Fatal("cause not reachable with errors.Is")
	}
}
