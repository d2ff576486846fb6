package secret

import (
	"errors"
	"fmt"
	"slices"

	"golang.org/x/crypto/bcrypt"
)

// BcryptCost is the bcrypt cost used for passwords set in plain text and for
// backup codes.
const BcryptCost = 10

// maxDigestLen bounds the size of a digest accepted by ValidateDigest.
const maxDigestLen = 4096

// Errors reported by this package. Callers match them with errors.Is.
var (
	// ErrUnknownHasher: the password_hasher is not one of Hashers().
	ErrUnknownHasher = errors.New("secret: unknown password hasher")
	// ErrMalformedDigest: the digest does not have the hasher's format.
	// The returned error is a *DigestError that says what is wrong.
	ErrMalformedDigest = errors.New("secret: malformed password digest")
	// ErrPendingMigration: the digest cannot be verified here (awscognito);
	// the password has to be checked against the previous provider.
	ErrPendingMigration = errors.New("secret: password digest cannot be verified locally (pending migration)")
	// ErrEmptyPassword: a password or backup code was empty.
	ErrEmptyPassword = errors.New("secret: empty password")
	// ErrPasswordTooLong: bcrypt only takes the first 72 bytes into account,
	// so longer plain texts are refused when hashing.
	ErrPasswordTooLong = errors.New("secret: password longer than 72 bytes")
	// ErrInvalidTOTPSecret: the TOTP secret is not base32 or is too short.
	ErrInvalidTOTPSecret = errors.New("secret: invalid TOTP secret")
)

// DigestError describes why a digest is malformed for its hasher. It
// matches ErrMalformedDigest (and Err, when set) with errors.Is.
type DigestError struct {
	Hasher string // the password_hasher
	Reason string // what is wrong, e.g. "cost 3 out of range 4..31"
	Err    error  // an underlying decoding error, if any
}

func (e *DigestError) Error() string {
	msg := "secret: malformed " + e.Hasher + " digest: " + e.Reason
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns ErrMalformedDigest and the underlying error.
func (e *DigestError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrMalformedDigest, e.Err}
	}
	return []error{ErrMalformedDigest}
}

func malformed(hasher, format string, args ...any) error {
	return &DigestError{Hasher: hasher, Reason: fmt.Sprintf(format, args...)}
}

func malformedErr(hasher string, err error, format string, args ...any) error {
	return &DigestError{Hasher: hasher, Reason: fmt.Sprintf(format, args...), Err: err}
}

// hasherNames is the list of password_hasher values in the order of Clerk's
// documented list, followed by the two values that only appear in its type
// (md5_phpass, ldap_ssha).
var hasherNames = [...]string{
	"awscognito",
	"bcrypt",
	"bcrypt_sha256_django",
	"bcrypt_peppered",
	"md5",
	"md5_salted",
	"pbkdf2_sha1",
	"pbkdf2_sha256",
	"pbkdf2_sha512",
	"pbkdf2_sha512_hex",
	"pbkdf2_sha256_django",
	"phpass",
	"scrypt_firebase",
	"scrypt_werkzeug",
	"sha256",
	"sha256_salted",
	"argon2i",
	"argon2id",
	"sha512_symfony",
	"md5_phpass",
	"ldap_ssha",
}

// Hashers lists every password_hasher name Clerk documents for
// updateUser(), in the order of its documented list, followed by the names
// that only its type union carries (md5_phpass, ldap_ssha).
func Hashers() []string {
	return slices.Clone(hasherNames[:])
}

// HashPassword hashes a plain-text password with bcrypt for storage.
// It refuses empty passwords and passwords over 72 bytes, which bcrypt
// would silently truncate; length and breach policies are the caller's.
func HashPassword(plain string) (string, error) {
	if plain == "" {
		return "", ErrEmptyPassword
	}
	if len(plain) > 72 {
		return "", ErrPasswordTooLong
	}
	h, err := bcrypt.GenerateFromPassword([]byte(plain), BcryptCost)
	if err != nil {
		return "", fmt.Errorf("secret: hashing password: %w", err)
	}
	return string(h), nil
}

// ValidateDigest reports whether digest is well-formed for hasher. The error
// wraps ErrUnknownHasher, or is a *DigestError (matching ErrMalformedDigest)
// that says what is wrong.
func ValidateDigest(hasher, digest string) error {
	_, err := parseDigest(hasher, digest)
	return err
}

// VerifyPassword checks plain against a digest of the named hasher. A
// malformed digest or unknown hasher is an error; a wrong password is
// (false, nil). awscognito digests cannot be verified locally: after
// validating the digest it returns (false, ErrPendingMigration).
func VerifyPassword(hasher, digest, plain string) (bool, error) {
	d, err := parseDigest(hasher, digest)
	if err != nil {
		return false, err
	}
	return d.verify(plain)
}

// A verifier is a parsed digest that can check a plain-text password.
type verifier interface {
	verify(plain string) (bool, error)
}

func parseDigest(hasher, digest string) (verifier, error) {
	if !slices.Contains(hasherNames[:], hasher) {
		return nil, fmt.Errorf("%w %q", ErrUnknownHasher, hasher)
	}
	if digest == "" {
		return nil, malformed(hasher, "empty digest")
	}
	if len(digest) > maxDigestLen {
		return nil, malformed(hasher, "digest is %d bytes, more than %d", len(digest), maxDigestLen)
	}
	switch hasher {
	case "awscognito":
		return parseCognito(digest)
	case "bcrypt":
		return parseBcrypt(hasher, digest)
	case "bcrypt_sha256_django":
		return parseBcryptSHA256Django(digest)
	case "bcrypt_peppered":
		return parseBcryptPeppered(digest)
	case "md5", "sha256":
		return parsePlainHex(hasher, digest)
	case "md5_salted", "sha256_salted":
		return parseSaltedHex(hasher, digest)
	case "pbkdf2_sha1":
		return parsePBKDF2SHA1(digest)
	case "pbkdf2_sha256":
		return parsePBKDF2SHA256(digest)
	case "pbkdf2_sha512":
		return parsePBKDF2SHA512(digest)
	case "pbkdf2_sha512_hex":
		return parsePBKDF2SHA512Hex(digest)
	case "pbkdf2_sha256_django":
		return parsePBKDF2Django(digest)
	case "phpass", "md5_phpass":
		return parsePHPass(hasher, digest)
	case "scrypt_firebase":
		return parseFirebase(digest)
	case "scrypt_werkzeug":
		return parseWerkzeug(digest)
	case "argon2i", "argon2id":
		return parseArgon2(hasher, digest)
	case "sha512_symfony":
		return parseSymfony(digest)
	case "ldap_ssha":
		return parseSSHA(digest)
	}
	// Unreachable while every name in hasherNames has a case above.
	return nil, fmt.Errorf("%w %q", ErrUnknownHasher, hasher)
}
