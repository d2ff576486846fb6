package upstreamauth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// AssertionType is the client_assertion_type of a private_key_jwt client
// assertion (RFC 7523 section 2.2).
const AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// AssertionLife is how long a client assertion is valid.
const AssertionLife = 2 * time.Minute

// MaxKeyFile bounds a private key file.
const MaxKeyFile = 64 << 10

// ClientKey is the private key a client authenticates with at the token
// endpoint (private_key_jwt): each request carries a fresh short-lived
// JWT signed with it. Never log it.
type ClientKey struct {
	key crypto.Signer
	// KeyID is the kid header, "" for none.
	KeyID string
	// Alg is the JWS algorithm.
	Alg string
}

// algsFor lists the algorithms a key may sign with, the default first.
func algsFor(k crypto.Signer) []string {
	switch k := k.(type) {
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256():
			return []string{"ES256"}
		case elliptic.P384():
			return []string{"ES384"}
		case elliptic.P521():
			return []string{"ES512"}
		}
	case *rsa.PrivateKey:
		if k.N.BitLen() >= 2048 {
			return []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
		}
	}
	return nil
}

// ParseClientKey reads a PEM private key (PKCS #8, SEC 1 "EC PRIVATE
// KEY" or PKCS #1 "RSA PRIVATE KEY"): an EC key on P-256, P-384 or
// P-521, or an RSA key of 2048 bits or more. alg "" picks the key's
// default (ES256 for P-256, RS256 for RSA). Errors never quote the key.
func ParseClientKey(data []byte, keyID, alg string) (*ClientKey, error) {
	if len(data) > MaxKeyFile {
		return nil, fmt.Errorf("the private key file is larger than %d bytes", MaxKeyFile)
	}
	var block *pem.Block
	rest := data
	for range 16 {
		block, rest = pem.Decode(rest)
		if block == nil || block.Type != "CERTIFICATE" && block.Type != "EC PARAMETERS" {
			break
		}
	}
	if block == nil {
		return nil, errors.New("no PEM private key found")
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "ENCRYPTED PRIVATE KEY":
		return nil, errors.New("the private key is encrypted: give toolgate an unencrypted key in a file only it can read")
	default:
		return nil, fmt.Errorf("a PEM block of type %q is not a private key", block.Type)
	}
	if err != nil {
		return nil, errors.New("the PEM private key does not parse")
	}
	signer, ok := key.(crypto.Signer)
	algs := []string(nil)
	if ok {
		algs = algsFor(signer)
	}
	if len(algs) == 0 {
		return nil, errors.New("the private key must be an EC key on P-256, P-384 or P-521, or an RSA key of at least 2048 bits")
	}
	if alg == "" {
		alg = algs[0]
	} else if !slices.Contains(algs, alg) {
		return nil, fmt.Errorf("signing_alg %s does not suit this key (use one of %v)", alg, algs)
	}
	return &ClientKey{key: signer, KeyID: keyID, Alg: alg}, nil
}

// LoadClientKey reads the PEM private key in file.
func LoadClientKey(file, keyID, alg string) (*ClientKey, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxKeyFile+1))
	if err != nil {
		return nil, err
	}
	k, err := ParseClientKey(data, keyID, alg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return k, nil
}

// Assertion signs a client assertion (RFC 7523 section 3): iss and sub
// are the client id, aud the authorization server's issuer, with a random
// jti and a life of AssertionLife from now.
func (k *ClientKey) Assertion(clientID, audience string, now time.Time) (string, error) {
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if k.KeyID != "" {
		opts = opts.WithHeader("kid", k.KeyID)
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(k.Alg), Key: k.key}, opts)
	if err != nil {
		return "", fmt.Errorf("client assertion: %w", err)
	}
	claims := jwt.Claims{
		Issuer:    clientID,
		Subject:   clientID,
		Audience:  jwt.Audience{audience},
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now.Add(-5 * time.Second)),
		Expiry:    jwt.NewNumericDate(now.Add(AssertionLife)),
		ID:        randomString(24),
	}
	s, err := jwt.Signed(sig).Claims(claims).Serialize()
	if err != nil {
		return "", fmt.Errorf("client assertion: %w", err)
	}
	return s, nil
}
