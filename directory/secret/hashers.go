package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"math/bits"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/scrypt"
)

// Bounds on work factors, so that one verification stays bounded in time and
// memory whatever digest is imported.
const (
	maxIterations     = 10_000_000 // PBKDF2 and sha512_symfony
	maxArgon2MemoryKi = 1 << 20    // 1 GiB
	maxArgon2Passes   = 100
	maxScryptMemory   = 1 << 30 // 128·N·r bytes
	maxScryptP        = 16
	maxKeyLen         = 1024 // derived key bytes
)

// ---- awscognito ------------------------------------------------------------

type cognitoDigest struct{ pool, client, identifier string }

func (cognitoDigest) verify(string) (bool, error) { return false, ErrPendingMigration }

// parseCognito: awscognito#<user pool id>#<client id>#<identifier>. The pool
// id is <region>_<id> as AWS names them; the client id is AWS's [\w+]+.
func parseCognito(s string) (verifier, error) {
	const h = "awscognito"
	parts := strings.Split(s, "#")
	if len(parts) != 4 {
		return nil, malformed(h, "want awscognito#<user pool id>#<client id>#<identifier>, got %d '#'-separated fields", len(parts))
	}
	if parts[0] != "awscognito" {
		return nil, malformed(h, "must start with \"awscognito#\"")
	}
	pool, client, ident := parts[1], parts[2], parts[3]
	region, id, ok := strings.Cut(pool, "_")
	if !ok || region == "" || id == "" || len(pool) > 55 || !allRunes(region, isWordOrDash) || !allRunes(id, isAlnum) {
		return nil, malformed(h, "user pool id %q is not of the form <region>_<id> (e.g. us-east-1_AbC123)", pool)
	}
	if client == "" || len(client) > 128 || !allRunes(client, func(r rune) bool { return isWordOrDash(r) && r != '-' || r == '+' }) {
		return nil, malformed(h, "client id %q is empty or has characters outside [A-Za-z0-9_+]", client)
	}
	if strings.TrimSpace(ident) == "" {
		return nil, malformed(h, "identifier is empty")
	}
	return cognitoDigest{pool: pool, client: client, identifier: ident}, nil
}

func isAlnum(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
}

func isWordOrDash(r rune) bool { return isAlnum(r) || r == '_' || r == '-' }

func allRunes(s string, ok func(rune) bool) bool {
	for _, r := range s {
		if !ok(r) {
			return false
		}
	}
	return true
}

// ---- bcrypt family ---------------------------------------------------------

type bcryptDigest struct {
	hash    []byte
	prepare func(plain string) []byte
}

func (d bcryptDigest) verify(plain string) (bool, error) {
	err := bcrypt.CompareHashAndPassword(d.hash, d.prepare(plain))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	default:
		return false, fmt.Errorf("secret: bcrypt: %w", err)
	}
}

const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// checkBcrypt validates a modular-crypt bcrypt string:
// $2a$, $2b$ or $2y$, a two-digit cost 04..31, then 53 characters of
// bcrypt's base64 (22 of salt, 31 of hash); 60 characters in all.
func checkBcrypt(hasher, s string) error {
	if len(s) != 60 {
		return malformed(hasher, "bcrypt part must be 60 characters ($<version>$<cost>$<salt & hash>), got %d", len(s))
	}
	if s[0] != '$' || s[3] != '$' || s[6] != '$' {
		return malformed(hasher, "bcrypt part must look like $2b$<cost>$<53 characters>")
	}
	switch v := s[1:3]; v {
	case "2a", "2b", "2y":
	case "2x":
		return malformed(hasher, "bcrypt version $2x$ (crypt_blowfish's buggy variant) is not supported")
	default:
		return malformed(hasher, "bcrypt version %q unsupported (want 2a, 2b or 2y)", "$"+v+"$")
	}
	if _, err := parseDecimal(hasher, "bcrypt cost", s[4:6], bcrypt.MinCost, bcrypt.MaxCost); err != nil {
		return err
	}
	for i := 7; i < 60; i++ {
		if strings.IndexByte(bcryptAlphabet, s[i]) < 0 {
			return malformed(hasher, "salt & hash has %q, outside bcrypt's base64 alphabet [./A-Za-z0-9]", s[i])
		}
	}
	return nil
}

func isBcrypt(s string) bool { return checkBcrypt("bcrypt", s) == nil }

func parseBcrypt(hasher, s string) (verifier, error) {
	if err := checkBcrypt(hasher, s); err != nil {
		return nil, err
	}
	return bcryptDigest{hash: []byte(s), prepare: func(p string) []byte { return []byte(p) }}, nil
}

// parseBcryptSHA256Django: bcrypt_sha256$<bcrypt digest>, where the bcrypt
// input is the hex SHA-256 of the password (Django's BCryptSHA256PasswordHasher).
func parseBcryptSHA256Django(s string) (verifier, error) {
	const h = "bcrypt_sha256_django"
	rest, ok := strings.CutPrefix(s, "bcrypt_sha256$")
	if !ok {
		return nil, malformed(h, "must start with \"bcrypt_sha256$\" (bcrypt_sha256$$2b$<cost>$<salt & hash>)")
	}
	if err := checkBcrypt(h, rest); err != nil {
		return nil, err
	}
	return bcryptDigest{hash: []byte(rest), prepare: func(p string) []byte {
		sum := sha256.Sum256([]byte(p))
		return []byte(hex.EncodeToString(sum[:]))
	}}, nil
}

// parseBcryptPeppered: <bcrypt digest>$<pepper>, bcrypt(password || pepper)
// as Devise computes it.
func parseBcryptPeppered(s string) (verifier, error) {
	const h = "bcrypt_peppered"
	if len(s) <= 61 || s[60] != '$' {
		return nil, malformed(h, "want $<version>$<cost>$<salt & hash>$<pepper> with a non-empty pepper")
	}
	if err := checkBcrypt(h, s[:60]); err != nil {
		return nil, err
	}
	pepper := s[61:]
	return bcryptDigest{hash: []byte(s[:60]), prepare: func(p string) []byte { return []byte(p + pepper) }}, nil
}

// ---- unsalted and salted md5 / sha256 ---------------------------------------

type hexDigest struct {
	newHash func() hash.Hash
	salt    []byte // nil when unsalted
	sum     []byte
}

func (d hexDigest) verify(plain string) (bool, error) {
	if d.salt == nil {
		h := d.newHash()
		h.Write([]byte(plain))
		return equal(h.Sum(nil), d.sum), nil
	}
	// Clerk does not document the concatenation order; accept both.
	h := d.newHash()
	h.Write(d.salt)
	h.Write([]byte(plain))
	a := equal(h.Sum(nil), d.sum)
	h.Reset()
	h.Write([]byte(plain))
	h.Write(d.salt)
	b := equal(h.Sum(nil), d.sum)
	return a || b, nil
}

func hashFor(hasher string) (func() hash.Hash, int) {
	if strings.HasPrefix(hasher, "md5") {
		return md5.New, md5.Size
	}
	return sha256.New, sha256.Size
}

func parsePlainHex(hasher, s string) (verifier, error) {
	newHash, size := hashFor(hasher)
	sum, err := decodeHex(hasher, "digest", s, size)
	if err != nil {
		return nil, err
	}
	return hexDigest{newHash: newHash, sum: sum}, nil
}

// parseSaltedHex: <salt>$<hex hash>. The salt is everything before the last
// '$' and may not be empty.
func parseSaltedHex(hasher, s string) (verifier, error) {
	newHash, size := hashFor(hasher)
	i := strings.LastIndexByte(s, '$')
	if i < 0 {
		return nil, malformed(hasher, "want <salt>$<%d hex characters>, found no '$'", 2*size)
	}
	if i == 0 {
		return nil, malformed(hasher, "salt is empty")
	}
	sum, err := decodeHex(hasher, "hash", s[i+1:], size)
	if err != nil {
		return nil, err
	}
	return hexDigest{newHash: newHash, salt: []byte(s[:i]), sum: sum}, nil
}

// ---- PBKDF2 ----------------------------------------------------------------

type pbkdf2Digest struct {
	newHash func() hash.Hash
	iter    int
	salt    []byte
	key     []byte
}

func (d pbkdf2Digest) verify(plain string) (bool, error) {
	dk, err := pbkdf2.Key(d.newHash, plain, d.salt, d.iter, len(d.key))
	if err != nil {
		return false, fmt.Errorf("secret: pbkdf2: %w", err)
	}
	return equal(dk, d.key), nil
}

// splitPBKDF2 splits <prefix>$<iterations>$<salt>$<hash>[$...] into its
// fields, checking the prefix, the field count and the iterations.
func splitPBKDF2(hasher, prefix, s string, counts ...int) ([]string, int, error) {
	parts := strings.Split(s, "$")
	if parts[0] != prefix {
		return nil, 0, malformed(hasher, "must start with %q", prefix+"$")
	}
	if !containsInt(counts, len(parts)) {
		return nil, 0, malformed(hasher, "want %s$<iterations>$<salt>$<hash>, got %d '$'-separated fields", prefix, len(parts))
	}
	iter, err := parseDecimal(hasher, "iterations", parts[1], 1, maxIterations)
	if err != nil {
		return nil, 0, err
	}
	if parts[2] == "" {
		return nil, 0, malformed(hasher, "salt is empty")
	}
	if parts[3] == "" {
		return nil, 0, malformed(hasher, "hash is empty")
	}
	return parts, iter, nil
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// parsePBKDF2SHA1: pbkdf2_sha1$<iterations>$<salt>$<hex hash>[$<key length>].
// The salt is hex-decoded when it is a valid hex string, else taken as raw
// bytes. The key length defaults to 32 and must equal the hash's length.
func parsePBKDF2SHA1(s string) (verifier, error) {
	const h = "pbkdf2_sha1"
	parts, iter, err := splitPBKDF2(h, h, s, 4, 5)
	if err != nil {
		return nil, err
	}
	keyLen := 32
	if len(parts) == 5 {
		if keyLen, err = parseDecimal(h, "key length", parts[4], 1, maxKeyLen); err != nil {
			return nil, err
		}
	}
	key, err := decodeHex(h, "hash", parts[3], 0)
	if err != nil {
		return nil, err
	}
	if len(key) != keyLen {
		if len(parts) == 4 {
			return nil, malformed(h, "hash is %d bytes but the key length defaults to 32; append $%d", len(key), len(key))
		}
		return nil, malformed(h, "hash is %d bytes but the key length is %d", len(key), keyLen)
	}
	salt := []byte(parts[2])
	if isHex(parts[2]) {
		salt, _ = hex.DecodeString(parts[2])
	}
	return pbkdf2Digest{newHash: sha1.New, iter: iter, salt: salt, key: key}, nil
}

// parsePBKDF2SHA256: pbkdf2_sha256$<iterations>$<base64 salt>$<base64 hash>.
func parsePBKDF2SHA256(s string) (verifier, error) {
	const h = "pbkdf2_sha256"
	parts, iter, err := splitPBKDF2(h, h, s, 4)
	if err != nil {
		return nil, err
	}
	salt, err := decodeBase64(h, "salt", parts[2], true)
	if err != nil {
		return nil, err
	}
	key, err := decodeBase64(h, "hash", parts[3], true)
	if err != nil {
		return nil, err
	}
	if len(key) > maxKeyLen {
		return nil, malformed(h, "hash is %d bytes, more than %d", len(key), maxKeyLen)
	}
	return pbkdf2Digest{newHash: sha256.New, iter: iter, salt: salt, key: key}, nil
}

// parsePBKDF2SHA512: pbkdf2_sha512$<iterations>$<literal salt>$<hex hash>.
func parsePBKDF2SHA512(s string) (verifier, error) {
	const h = "pbkdf2_sha512"
	parts, iter, err := splitPBKDF2(h, h, s, 4)
	if err != nil {
		return nil, err
	}
	key, err := decodeHex(h, "hash", parts[3], 0)
	if err != nil {
		return nil, err
	}
	if len(key) > maxKeyLen {
		return nil, malformed(h, "hash is %d bytes, more than %d", len(key), maxKeyLen)
	}
	return pbkdf2Digest{newHash: sha512.New, iter: iter, salt: []byte(parts[2]), key: key}, nil
}

// parsePBKDF2SHA512Hex: pbkdf2_sha512_hex$<iterations>$<hex salt>$<hex hash>.
func parsePBKDF2SHA512Hex(s string) (verifier, error) {
	const h = "pbkdf2_sha512_hex"
	parts, iter, err := splitPBKDF2(h, h, s, 4)
	if err != nil {
		return nil, err
	}
	salt, err := decodeHex(h, "salt", parts[2], 0)
	if err != nil {
		return nil, err
	}
	key, err := decodeHex(h, "hash", parts[3], 0)
	if err != nil {
		return nil, err
	}
	if len(key) > maxKeyLen {
		return nil, malformed(h, "hash is %d bytes, more than %d", len(key), maxKeyLen)
	}
	return pbkdf2Digest{newHash: sha512.New, iter: iter, salt: salt, key: key}, nil
}

// parsePBKDF2Django: pbkdf2_sha256$<iterations>$<salt>$<base64 hash>, as
// Django's PBKDF2PasswordHasher writes it: the salt used as is, the hash the
// padded standard base64 of a 32-byte PBKDF2-HMAC-SHA256 key.
func parsePBKDF2Django(s string) (verifier, error) {
	const h = "pbkdf2_sha256_django"
	parts, iter, err := splitPBKDF2(h, "pbkdf2_sha256", s, 4)
	if err != nil {
		return nil, err
	}
	key, err := decodeBase64(h, "hash", parts[3], false)
	if err != nil {
		return nil, err
	}
	if len(key) != sha256.Size {
		return nil, malformed(h, "hash must be the base64 of 32 bytes, got %d bytes", len(key))
	}
	return pbkdf2Digest{newHash: sha256.New, iter: iter, salt: []byte(parts[2]), key: key}, nil
}

// ---- scrypt: Firebase and Werkzeug ----------------------------------------

type firebaseDigest struct {
	hash, salt, signerKey, saltSep []byte
	rounds, memCost                int
}

func (d firebaseDigest) verify(plain string) (bool, error) {
	salt := make([]byte, 0, len(d.salt)+len(d.saltSep))
	salt = append(append(salt, d.salt...), d.saltSep...)
	key, err := scrypt.Key([]byte(plain), salt, 1<<d.memCost, d.rounds, 1, 32)
	if err != nil {
		return false, fmt.Errorf("secret: scrypt: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return false, fmt.Errorf("secret: aes: %w", err)
	}
	out := make([]byte, len(d.signerKey))
	cipher.NewCTR(block, make([]byte, aes.BlockSize)).XORKeyStream(out, d.signerKey)
	return equal(out, d.hash), nil
}

// parseFirebase: <hash>$<salt>$<signer key>$<salt separator>$<rounds>$<mem cost>,
// the first four base64 (standard, or the URL-safe alphabet some Firebase
// exports use; padding optional). Rounds 1..8 and memory cost 1..14 are
// Firebase's ranges; the hash is as long as the signer key it encrypts.
func parseFirebase(s string) (verifier, error) {
	const h = "scrypt_firebase"
	parts := strings.Split(s, "$")
	if len(parts) != 6 {
		return nil, malformed(h, "want <hash>$<salt>$<signer key>$<salt separator>$<rounds>$<memory cost>, got %d '$'-separated fields", len(parts))
	}
	var d firebaseDigest
	var err error
	if d.hash, err = decodeBase64(h, "hash", parts[0], true); err != nil {
		return nil, err
	}
	if d.salt, err = decodeBase64(h, "salt", parts[1], true); err != nil {
		return nil, err
	}
	if d.signerKey, err = decodeBase64(h, "signer key", parts[2], true); err != nil {
		return nil, err
	}
	if parts[3] != "" { // an empty salt separator is an empty byte string
		if d.saltSep, err = decodeBase64(h, "salt separator", parts[3], true); err != nil {
			return nil, err
		}
	}
	if d.rounds, err = parseDecimal(h, "rounds", parts[4], 1, 8); err != nil {
		return nil, err
	}
	if d.memCost, err = parseDecimal(h, "memory cost", parts[5], 1, 14); err != nil {
		return nil, err
	}
	if len(d.hash) != len(d.signerKey) {
		return nil, malformed(h, "hash is %d bytes but the signer key is %d; the hash is the encrypted signer key", len(d.hash), len(d.signerKey))
	}
	if len(d.signerKey) > maxKeyLen {
		return nil, malformed(h, "signer key is %d bytes, more than %d", len(d.signerKey), maxKeyLen)
	}
	return d, nil
}

type werkzeugDigest struct {
	n, r, p int
	salt    string
	hash    []byte
}

func (d werkzeugDigest) verify(plain string) (bool, error) {
	dk, err := scrypt.Key([]byte(plain), []byte(d.salt), d.n, d.r, d.p, len(d.hash))
	if err != nil {
		return false, fmt.Errorf("secret: scrypt: %w", err)
	}
	return equal(dk, d.hash), nil
}

// parseWerkzeug: [$]scrypt[:<N>:<r>:<p>]$<salt>$<hash>. Werkzeug writes
// "scrypt:32768:8:1$<salt>$<hex>"; Clerk documents a leading '$' and a
// base64 hash, so both are accepted: an even-length all-hex hash is hex,
// anything else must be standard base64.
func parseWerkzeug(s string) (verifier, error) {
	const h = "scrypt_werkzeug"
	parts := strings.Split(strings.TrimPrefix(s, "$"), "$")
	if len(parts) != 3 {
		return nil, malformed(h, "want $<algorithm args>$<salt>$<hash> (e.g. scrypt:32768:8:1$<salt>$<hash>), got %d '$'-separated fields", len(parts))
	}
	args := strings.Split(parts[0], ":")
	if args[0] != "scrypt" {
		return nil, malformed(h, "method %q is not scrypt", args[0])
	}
	d := werkzeugDigest{n: 1 << 15, r: 8, p: 1, salt: parts[1]}
	switch len(args) {
	case 1:
	case 4:
		var err error
		if d.n, err = parseDecimal(h, "N", args[1], 2, 1<<30); err != nil {
			return nil, err
		}
		if bits.OnesCount(uint(d.n)) != 1 {
			return nil, malformed(h, "N %d is not a power of two", d.n)
		}
		if d.r, err = parseDecimal(h, "r", args[2], 1, 1<<20); err != nil {
			return nil, err
		}
		if d.p, err = parseDecimal(h, "p", args[3], 1, maxScryptP); err != nil {
			return nil, err
		}
		if uint64(128)*uint64(d.n)*uint64(d.r) > maxScryptMemory {
			return nil, malformed(h, "N=%d, r=%d needs more than 1 GiB", d.n, d.r)
		}
	default:
		return nil, malformed(h, "algorithm args %q: want scrypt or scrypt:<N>:<r>:<p>", parts[0])
	}
	if d.salt == "" {
		return nil, malformed(h, "salt is empty")
	}
	var err error
	if isHex(parts[2]) {
		d.hash, _ = hex.DecodeString(parts[2])
	} else if d.hash, err = decodeBase64(h, "hash", parts[2], false); err != nil {
		return nil, err
	}
	if len(d.hash) > maxKeyLen {
		return nil, malformed(h, "hash is %d bytes, more than %d", len(d.hash), maxKeyLen)
	}
	return d, nil
}

// ---- argon2 ----------------------------------------------------------------

type argon2Digest struct {
	id         bool
	m, t       uint32
	p          uint8
	salt, hash []byte
}

func (d argon2Digest) verify(plain string) (bool, error) {
	kdf := argon2.Key
	if d.id {
		kdf = argon2.IDKey
	}
	return equal(kdf([]byte(plain), d.salt, d.t, d.m, d.p, uint32(len(d.hash))), d.hash), nil
}

// parseArgon2: $argon2i$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>
// (PHC string format, standard base64 without padding; padding tolerated).
func parseArgon2(hasher, s string) (verifier, error) {
	parts := strings.Split(s, "$")
	if len(parts) < 2 || parts[0] != "" {
		return nil, malformed(hasher, "must start with \"$%s$\"", hasher)
	}
	switch parts[1] {
	case hasher:
	case "argon2i", "argon2id":
		return nil, malformed(hasher, "digest is %s, not %s", parts[1], hasher)
	default:
		return nil, malformed(hasher, "must start with \"$%s$\"", hasher)
	}
	if len(parts) == 5 && strings.HasPrefix(parts[2], "m=") {
		return nil, malformed(hasher, "version field missing: only v=19 (Argon2 1.3) is supported")
	}
	if len(parts) != 6 {
		return nil, malformed(hasher, "want $%s$v=19$m=<memory>,t=<iterations>,p=<parallelism>$<salt>$<hash>, got %d '$'-separated fields", hasher, len(parts))
	}
	if parts[2] != "v=19" {
		return nil, malformed(hasher, "version %q unsupported: only v=19 (Argon2 1.3)", parts[2])
	}
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return nil, malformed(hasher, "parameters %q: want m=<memory>,t=<iterations>,p=<parallelism>", parts[3])
	}
	var vals [3]int
	for i, want := range [3]struct {
		key    string
		lo, hi int
	}{{"m", 1, maxArgon2MemoryKi}, {"t", 1, maxArgon2Passes}, {"p", 1, 255}} {
		k, v, ok := strings.Cut(params[i], "=")
		if !ok || k != want.key {
			return nil, malformed(hasher, "parameter %d is %q, want %s=<number>", i+1, params[i], want.key)
		}
		n, err := parseDecimal(hasher, want.key, v, want.lo, want.hi)
		if err != nil {
			return nil, err
		}
		vals[i] = n
	}
	d := argon2Digest{id: hasher == "argon2id", m: uint32(vals[0]), t: uint32(vals[1]), p: uint8(vals[2])}
	if d.m < 8*uint32(d.p) {
		return nil, malformed(hasher, "memory m=%d is less than 8 KiB per lane (p=%d)", d.m, d.p)
	}
	var err error
	if d.salt, err = decodeBase64(hasher, "salt", parts[4], false); err != nil {
		return nil, err
	}
	if len(d.salt) < 8 {
		return nil, malformed(hasher, "salt is %d bytes, Argon2 requires at least 8", len(d.salt))
	}
	if d.hash, err = decodeBase64(hasher, "hash", parts[5], false); err != nil {
		return nil, err
	}
	if len(d.hash) < 4 || len(d.hash) > maxKeyLen {
		return nil, malformed(hasher, "hash is %d bytes, want 4..%d", len(d.hash), maxKeyLen)
	}
	return d, nil
}

// ---- sha512_symfony --------------------------------------------------------

type symfonyDigest struct {
	iter int
	salt string
	hash []byte
}

// verify runs Symfony's MessageDigestPasswordEncoder (sha512, base64):
// salted := password{salt} (the bare password if salt is empty);
// digest := sha512(salted); then iter-1 times digest := sha512(digest||salted).
func (d symfonyDigest) verify(plain string) (bool, error) {
	salted := plain
	if d.salt != "" {
		salted = plain + "{" + d.salt + "}"
	}
	h := sha512.New()
	h.Write([]byte(salted))
	sum := h.Sum(nil)
	for i := 1; i < d.iter; i++ {
		h.Reset()
		h.Write(sum)
		h.Write([]byte(salted))
		sum = h.Sum(sum[:0])
	}
	return equal(sum, d.hash), nil
}

// parseSymfony: sha512_symfony$<iterations>$<salt>$<base64 hash>. The salt is
// everything between the iterations and the last '$'; Symfony forbids '{'
// and '}' in it.
func parseSymfony(s string) (verifier, error) {
	const h = "sha512_symfony"
	rest, ok := strings.CutPrefix(s, "sha512_symfony$")
	if !ok {
		return nil, malformed(h, "must start with \"sha512_symfony$\"")
	}
	iterStr, rest, ok := strings.Cut(rest, "$")
	j := strings.LastIndexByte(rest, '$')
	if !ok || j < 0 {
		return nil, malformed(h, "want sha512_symfony$<iterations>$<salt>$<hash>")
	}
	iter, err := parseDecimal(h, "iterations", iterStr, 1, maxIterations)
	if err != nil {
		return nil, err
	}
	salt := rest[:j]
	if strings.ContainsAny(salt, "{}") {
		return nil, malformed(h, "salt contains '{' or '}', which Symfony does not allow")
	}
	sum, err := decodeBase64(h, "hash", rest[j+1:], false)
	if err != nil {
		return nil, err
	}
	if len(sum) != sha512.Size {
		return nil, malformed(h, "hash must be the base64 of 64 bytes (SHA-512), got %d bytes", len(sum))
	}
	return symfonyDigest{iter: iter, salt: salt, hash: sum}, nil
}

// ---- ldap_ssha -------------------------------------------------------------

type sshaDigest struct{ sum, salt []byte }

func (d sshaDigest) verify(plain string) (bool, error) {
	h := sha1.New()
	h.Write([]byte(plain))
	h.Write(d.salt)
	return equal(h.Sum(nil), d.sum), nil
}

// parseSSHA: {SSHA}base64(sha1(password || salt) || salt), the scheme name
// case-insensitive as in OpenLDAP.
func parseSSHA(s string) (verifier, error) {
	const h = "ldap_ssha"
	if len(s) < 6 || !strings.EqualFold(s[:6], "{SSHA}") {
		return nil, malformed(h, "must start with \"{SSHA}\"")
	}
	raw, err := decodeBase64(h, "payload", s[6:], false)
	if err != nil {
		return nil, err
	}
	if len(raw) <= sha1.Size {
		return nil, malformed(h, "payload is %d bytes; want a 20-byte SHA-1 followed by a salt of at least 1 byte", len(raw))
	}
	return sshaDigest{sum: raw[:sha1.Size], salt: raw[sha1.Size:]}, nil
}
