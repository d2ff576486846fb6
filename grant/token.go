package grant

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"strings"

	"github.com/toolgate/toolgate"
)

// TokenPrefix starts every token, so that secret scanners and people can
// tell a toolgate token from other secrets.
const TokenPrefix = "tg_"

// TokenBytes is the number of random bytes in a token.
const TokenBytes = 32

// TokenLen is the length of a token: the prefix and the unpadded base64url
// encoding of TokenBytes bytes (6 bits a character).
const TokenLen = len(TokenPrefix) + (TokenBytes*8+5)/6

// IDPrefix starts every grant id.
const IDPrefix = "gr_"

// idChars is the number of random base32 characters in a grant id (60 bits).
const idChars = 12

// lowerBase32 is RFC 4648 base32 in lower case, without padding.
var lowerBase32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewToken returns a new random token and its hash.
func NewToken() (string, toolgate.TokenHash) { return NewPrefixedToken(TokenPrefix) }

// NewPrefixedToken returns a new random token made like a grant's, prefix
// followed by the unpadded base64url encoding of TokenBytes random bytes,
// and its hash. Other kinds of token (admin tokens) use it with their own
// prefix, so that every toolgate secret is made and stored the same way.
func NewPrefixedToken(prefix string) (string, toolgate.TokenHash) {
	var b [TokenBytes]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand documents it)
	token := prefix + base64.RawURLEncoding.EncodeToString(b[:])
	return token, HashToken(token)
}

// HashToken returns the digest stores keep of token: SHA-256 of the whole
// token, prefix included. A token carries 256 random bits, so a fast hash
// is enough: there is nothing to guess.
func HashToken(token string) toolgate.TokenHash {
	return sha256.Sum256([]byte(token))
}

// WellFormed reports whether token has the shape of a token NewToken
// returns: the prefix, then exactly the canonical base64url encoding of
// TokenBytes bytes. It says nothing of whether any grant has it.
func WellFormed(token string) bool { return WellFormedPrefixed(TokenPrefix, token) }

// WellFormedPrefixed reports whether token has the shape of a token
// NewPrefixedToken(prefix) returns.
func WellFormedPrefixed(prefix, token string) bool {
	body, ok := strings.CutPrefix(token, prefix)
	if !ok || len(token) != len(prefix)+(TokenBytes*8+5)/6 {
		return false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(body)
	return err == nil && len(b) == TokenBytes
}

// HashesEqual compares two token hashes in constant time. A store finds
// a token by its hash; comparing again this way keeps any store's lookup
// shortcut from accepting a wrong token.
func HashesEqual(a, b toolgate.TokenHash) bool {
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// NewID returns a new random grant id.
func NewID() string { return NewPrefixedID(IDPrefix) }

// NewPrefixedID returns prefix followed by 12 random lower-case base32
// characters (60 bits): a grant id with IDPrefix, other records' ids with
// theirs.
func NewPrefixedID(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand documents it)
	return prefix + lowerBase32.EncodeToString(b[:])[:idChars]
}

// ValidID reports whether id has the shape of an id NewID returns.
func ValidID(id string) bool { return ValidPrefixedID(IDPrefix, id) }

// ValidPrefixedID reports whether id has the shape of an id
// NewPrefixedID(prefix) returns.
func ValidPrefixedID(prefix, id string) bool {
	body, ok := strings.CutPrefix(id, prefix)
	if !ok || len(body) != idChars {
		return false
	}
	for _, c := range body {
		if !('a' <= c && c <= 'z' || '2' <= c && c <= '7') {
			return false
		}
	}
	return true
}
