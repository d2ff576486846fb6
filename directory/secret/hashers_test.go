package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/scrypt"
)

// pw is the password of the vectors computed outside Go (Python's hashlib,
// see the comments) for this test.
const pw = "correct horse battery staple"

type vector struct {
	hasher, digest, plain string
	source                string // where the vector comes from
}

// publishedVectors are digests from published test suites or computed with
// Python's hashlib (an independent implementation), never by this package.
var publishedVectors = []vector{
	// bcrypt: OpenBSD / Openwall crypt_blowfish test vectors.
	{"bcrypt", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "U*U", "openwall crypt_blowfish"},
	{"bcrypt", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK", "U*U*", "openwall crypt_blowfish"},
	{"bcrypt", "$2a$05$XXXXXXXXXXXXXXXXXXXXXOAcXxm9kjPGEMsLznoKqmqw7tc8WCx4a", "U*U*U", "openwall crypt_blowfish"},
	// bcrypt_sha256_django: passlib's django_bcrypt_sha256 known hashes (Django 1.6).
	{"bcrypt_sha256_django", "bcrypt_sha256$$2a$06$/3OeRpbOf8/l6nPPRdZPp.nRiyYqPobEZGdNRBWihQhiFDh1ws1tu", "", "passlib"},
	{"bcrypt_sha256_django", "bcrypt_sha256$$2a$08$NDjSAIcas.EcoxCRiArvT.MkNiPYVhrsrnJsRkLueZOoV1bsQqlmC", "l\u00e8tmein", "passlib (UPASS_LETMEIN)"},
	// md5 and sha256: the examples of Clerk's page, of "password" and "test".
	{"md5", "5f4dcc3b5aa765d61d8327deb882cf99", "password", "seed 003"},
	{"md5", "5F4DCC3B5AA765D61D8327DEB882CF99", "password", "seed 003, upper case"},
	{"sha256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "test", "seed 003"},
	// Salted: hashlib.md5(b"NaCl"+pw), hashlib.md5(pw+b"NaCl"), likewise sha256.
	{"md5_salted", "NaCl$e1bc0bb1dc7906017e25f64330178c2f", pw, "hashlib salt||password"},
	{"md5_salted", "NaCl$e44ddb7639bad95cbb9338a0657c8a78", pw, "hashlib password||salt"},
	{"sha256_salted", "s4lt$80047da27650db2103bacc04717e861330e5d95d4ebd8be900604b01f17378c7", pw, "hashlib salt||password"},
	{"sha256_salted", "s4lt$dc362c1be371fe07d36c186a06b50bb8d2447af49bceccca06e37a9ab0e1e2dd", pw, "hashlib password||salt"},
	// hashlib.pbkdf2_hmac.
	{"pbkdf2_sha1", "pbkdf2_sha1$1000$NaCl-salt$6b83b21cabf92b888d1c12cfa06baf270fb55eea19518457b5feb2632ae277b8", pw, "hashlib, raw salt, default key length 32"},
	{"pbkdf2_sha1", "pbkdf2_sha1$1000$a1b2c3d4e5f60718$a21ee37f2c403b078320f79bda4c29298bb7dcba$20", pw, "hashlib, hex salt, key length 20"},
	{"pbkdf2_sha256", "pbkdf2_sha256$2000$AAECc2FsdHlieXRlc/8=$i2lPMlLomltwBYO2/6vWl4vJMFMgNnVUJ7KO5vYLuU4=", pw, "hashlib, base64 salt"},
	{"pbkdf2_sha256_django", "pbkdf2_sha256$3000$DjangoSalt22charsAbCdE$Mqffoz6UNwkk4qRMwbcs+4Wdg5RPXVRvzUa/WIcYJr8=", pw, "hashlib, as Django"},
	{"pbkdf2_sha512", "pbkdf2_sha512$1500$plainSalt$3330555b8ce5aa6f029d2457bd112e9ca690237c2bbcb724995851670b234b33a4af52c2aa21949ac1f33f62e8837ad2d64f5638870e9a3e6a6d6b39b2dcedf8", pw, "hashlib"},
	{"pbkdf2_sha512_hex", "pbkdf2_sha512_hex$1500$00ff10ee20dd30cc$8088051e9d44234cd7fe05925d378dadaad54be8d3cf33666c2a60da0ab2e33a1849c53cafb3342e13a2119d7b097b82013553359becdc355ffedd16ff8afc4e", pw, "hashlib"},
	// phpass: John the Ripper's and passlib's phpass test vectors.
	{"phpass", "$P$912345678LIjjb6PhecupozNBmDndU0", "thisisalongertestPW", "john the ripper"},
	{"phpass", "$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0", "test12345", "passlib"},
	{"phpass", "$H$9aaaaaSXBjgypwqm.JsMssPLiS8YQ00", "test1", "john the ripper (phpBB $H$)"},
	{"md5_phpass", "$H$9PE8jEklgZhgLmZl5.HYJAzfGCQtzi1", "123456", "john the ripper"},
	// scrypt_firebase: the example of firebase/scrypt's README.
	{"scrypt_firebase", "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==$42xEC+ixf3L2lw==$jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==$Bw==$8$14", "user1password", "firebase/scrypt README"},
	// scrypt_werkzeug: hashlib.scrypt as werkzeug.security does (dklen 64, hex).
	{"scrypt_werkzeug", "scrypt:32768:8:1$WerkzeugSalt16ch$c4aa9bc6f375d6c75289dbff7e96fb0003b4f451683155f264df9409a01df1f3502472dcdd64ae3c2621c9f309120f8eabbaa4be6fb214ab4de915c0d8068b46", pw, "hashlib, Werkzeug layout"},
	{"scrypt_werkzeug", "$scrypt:1024:4:2$abc$QPRYVV51Jt3MAt/uz3zihFkLSG4b2Ytic8J5gSCndMU=", pw, "hashlib, Clerk layout with base64"},
	// argon2: phc-winner-argon2's reference test vectors (src/test.c).
	{"argon2i", "$argon2i$v=19$m=256,t=2,p=1$c29tZXNhbHQ$iekCn0Y3spW+sCcFanM2xBT63UP2sghkUoHLIUpWRS8", "password", "phc-winner-argon2"},
	{"argon2id", "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", "password", "phc-winner-argon2"},
	// sha512_symfony: a Python transcription of MessageDigestPasswordEncoder.
	{"sha512_symfony", "sha512_symfony$5000$symfonySalt$WYckBJfzkpFuTsKRbnlNHtPP4CRwSwN4qVs3iDIWXuBEQFt97kH3cgeXfuODemBXLfnG6d6sn7HVKgfc79qcig==", pw, "python"},
	{"sha512_symfony", "sha512_symfony$1$$vl73Z52Iq5qQRfYmflX15XhLS4zXZLXNhVpSRPkcYmlTzUbEPXZohz/W7707IhJJMVWAAxljRyoHh4H+BG5irg==", pw, "python, empty salt"},
	// ldap_ssha: base64(hashlib.sha1(pw+salt)+salt), salt 8a1f0042.
	{"ldap_ssha", "{SSHA}fNf+pscAYu1P15+ABHG7vT/diqCKHwBC", pw, "hashlib"},
}

// generatedVectors builds digests with the underlying libraries directly,
// not through this package's parsers.
func generatedVectors(t testing.TB) []vector {
	t.Helper()
	must := func(b []byte, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	bc := string(must(bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)))
	pepper := "devise-pepper$with$dollars"
	peppered := string(must(bcrypt.GenerateFromPassword([]byte(pw+pepper), bcrypt.MinCost)))
	sum := sha256.Sum256([]byte(pw))
	django := string(must(bcrypt.GenerateFromPassword([]byte(hex.EncodeToString(sum[:])), bcrypt.MinCost)))

	salt := []byte("sixteen byte salt")
	b64 := base64.RawStdEncoding.EncodeToString
	a2i := argon2.Key([]byte(pw), salt, 2, 64, 1, 32)
	a2id := argon2.IDKey([]byte(pw), salt, 1, 128, 2, 24)

	// Firebase: scrypt-derived key encrypts the signer key with AES-256-CTR.
	signer := []byte("a 64-byte project signer key......................................")[:64]
	fsalt, sep := []byte("user-salt"), []byte{0x07}
	key := must(scrypt.Key([]byte(pw), append(append([]byte{}, fsalt...), sep...), 1<<10, 4, 1, 32))
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	fhash := make([]byte, len(signer))
	cipher.NewCTR(block, make([]byte, 16)).XORKeyStream(fhash, signer)
	std := base64.StdEncoding.EncodeToString
	firebase := strings.Join([]string{std(fhash), std(fsalt), std(signer), std(sep), "4", "10"}, "$")

	wz := must(scrypt.Key([]byte(pw), []byte("saltsalt"), 1<<10, 8, 1, 64))

	return []vector{
		{"bcrypt", bc, pw, "x/crypto/bcrypt"},
		{"bcrypt_peppered", peppered + "$" + pepper, pw, "x/crypto/bcrypt over password||pepper"},
		{"bcrypt_sha256_django", "bcrypt_sha256$" + django, pw, "x/crypto/bcrypt over hex(sha256)"},
		{"argon2i", fmt.Sprintf("$argon2i$v=19$m=64,t=2,p=1$%s$%s", b64(salt), b64(a2i)), pw, "x/crypto/argon2"},
		{"argon2id", fmt.Sprintf("$argon2id$v=19$m=128,t=1,p=2$%s$%s", b64(salt), b64(a2id)), pw, "x/crypto/argon2"},
		{"scrypt_firebase", firebase, pw, "x/crypto/scrypt + AES-CTR"},
		{"scrypt_werkzeug", "scrypt:1024:8:1$saltsalt$" + hex.EncodeToString(wz), pw, "x/crypto/scrypt"},
	}
}

func TestVerifyPasswordVectors(t *testing.T) {
	all := append(slices.Clone(publishedVectors), generatedVectors(t)...)
	covered := map[string]bool{"awscognito": true} // covered by TestCognito
	for _, v := range all {
		covered[v.hasher] = true
		t.Run(v.hasher+"/"+v.source, func(t *testing.T) {
			if err := ValidateDigest(v.hasher, v.digest); err != nil {
				t.Fatalf("ValidateDigest: %v", err)
			}
			ok, err := VerifyPassword(v.hasher, v.digest, v.plain)
			if err != nil || !ok {
				t.Fatalf("VerifyPassword(right password) = %v, %v; want true", ok, err)
			}
			for _, wrong := range []string{v.plain + "x", "wrong password", strings.ToUpper(v.plain) + "!"} {
				ok, err := VerifyPassword(v.hasher, v.digest, wrong)
				if err != nil || ok {
					t.Fatalf("VerifyPassword(%q) = %v, %v; want false, nil", wrong, ok, err)
				}
			}
		})
	}
	for _, h := range Hashers() {
		if !covered[h] {
			t.Errorf("hasher %s has no verification vector", h)
		}
	}
}

// TestSeedExamplesValidate: the example digests on Clerk's page are
// well-formed (their passwords are not given).
// TestFirebaseURLSafe: the firebase/scrypt README vector written with the
// URL-safe base64 alphabet, as some Firebase exports are, still verifies.
func TestFirebaseURLSafe(t *testing.T) {
	var readme string
	for _, v := range publishedVectors {
		if v.hasher == "scrypt_firebase" {
			readme = v.digest
		}
	}
	d := strings.NewReplacer("+", "-", "/", "_").Replace(readme)
	if d == readme {
		t.Fatal("vector has no URL-unsafe characters")
	}
	if ok, err := VerifyPassword("scrypt_firebase", d, "user1password"); !ok || err != nil {
		t.Fatalf("VerifyPassword = %v, %v", ok, err)
	}
}

func TestSeedExamplesValidate(t *testing.T) {
	for _, c := range []struct{ hasher, digest string }{
		{"argon2i", "$argon2i$v=19$m=4096,t=3,p=1$4t6CL3P7YiHBtwESXawI8Hm20zJj4cs7/4/G3c187e0$m7RQFczcKr5bIR0IIxbpO2P0tyrLjf3eUW3M3QSwnLc"},
		{"argon2id", "$argon2id$v=19$m=64,t=4,p=8$Z2liZXJyaXNo$iGXEpMBTDYQ8G/71tF0qGjxRHEmR3gpGULcE93zUJVU"},
		{"md5", "5f4dcc3b5aa765d61d8327deb882cf99"},
		{"sha256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
	} {
		if err := ValidateDigest(c.hasher, c.digest); err != nil {
			t.Errorf("%s: %v", c.hasher, err)
		}
		if ok, err := VerifyPassword(c.hasher, c.digest, "not the password"); ok || err != nil {
			t.Errorf("%s: wrong password = %v, %v", c.hasher, ok, err)
		}
	}
}

func TestCognito(t *testing.T) {
	d := "awscognito#us-east-1_AbC123xyz#5p2n7t0kq3ab1cdefg+h_9#jane@example.com"
	if err := ValidateDigest("awscognito", d); err != nil {
		t.Fatal(err)
	}
	ok, err := VerifyPassword("awscognito", d, "whatever")
	if ok || !errors.Is(err, ErrPendingMigration) {
		t.Fatalf("VerifyPassword = %v, %v; want false, ErrPendingMigration", ok, err)
	}
	// A malformed digest is reported as such, not as pending.
	_, err = VerifyPassword("awscognito", "awscognito#pool#client", "x")
	if !errors.Is(err, ErrMalformedDigest) {
		t.Fatalf("err = %v, want ErrMalformedDigest", err)
	}
}

func TestHashers(t *testing.T) {
	got := Hashers()
	want := []string{
		"awscognito", "bcrypt", "bcrypt_sha256_django", "bcrypt_peppered", "md5", "md5_salted",
		"pbkdf2_sha1", "pbkdf2_sha256", "pbkdf2_sha512", "pbkdf2_sha512_hex", "pbkdf2_sha256_django",
		"phpass", "scrypt_firebase", "scrypt_werkzeug", "sha256", "sha256_salted", "argon2i", "argon2id",
		"sha512_symfony", "md5_phpass", "ldap_ssha",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Hashers() = %v\nwant %v", got, want)
	}
	// Every name of the type union in seed 003 is present.
	union := `"argon2i" | "argon2id" | "awscognito" | "bcrypt" | "bcrypt_sha256_django" | "md5" | "pbkdf2_sha256" | "pbkdf2_sha256_django" | "pbkdf2_sha1" | "phpass" | "scrypt_firebase" | "scrypt_werkzeug" | "sha256" | "md5_phpass" | "ldap_ssha"`
	for _, n := range strings.Split(union, " | ") {
		if !slices.Contains(got, strings.Trim(n, `"`)) {
			t.Errorf("missing %s", n)
		}
	}
	got[0] = "mutated"
	if Hashers()[0] != "awscognito" {
		t.Fatal("Hashers returns shared storage")
	}
}

func TestUnknownHasher(t *testing.T) {
	for _, h := range []string{"", "BCRYPT", "sha1", "argon2d", "scrypt"} {
		if err := ValidateDigest(h, "x"); !errors.Is(err, ErrUnknownHasher) {
			t.Errorf("ValidateDigest(%q) = %v, want ErrUnknownHasher", h, err)
		}
		if _, err := VerifyPassword(h, "x", "y"); !errors.Is(err, ErrUnknownHasher) {
			t.Errorf("VerifyPassword(%q) = %v, want ErrUnknownHasher", h, err)
		}
	}
}

func TestHashPassword(t *testing.T) {
	h, err := HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	if cost, _ := bcrypt.Cost([]byte(h)); cost != BcryptCost {
		t.Errorf("cost = %d", cost)
	}
	if ok, err := VerifyPassword("bcrypt", h, pw); !ok || err != nil {
		t.Fatalf("verify = %v, %v", ok, err)
	}
	if ok, _ := VerifyPassword("bcrypt", h, pw+" "); ok {
		t.Fatal("wrong password verified")
	}
	if _, err := HashPassword(""); !errors.Is(err, ErrEmptyPassword) {
		t.Errorf("empty: %v", err)
	}
	if _, err := HashPassword(strings.Repeat("a", 73)); !errors.Is(err, ErrPasswordTooLong) {
		t.Errorf("73 bytes: %v", err)
	}
	if _, err := HashPassword(strings.Repeat("a", 72)); err != nil {
		t.Errorf("72 bytes: %v", err)
	}
}
