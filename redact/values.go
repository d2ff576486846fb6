package redact

import (
	"encoding/base64"
	"strings"
)

// minSecretValue is the length below which no value shape can match.
const minSecretValue = 8

// tokenPrefixes start credentials whose issuers made them easy to find:
// toolgate's grant and admin tokens, and a few vendors' secret keys. One
// counts when it starts the string or follows a character that cannot be
// part of a token, and is followed by at least minTokenBody token
// characters.
var tokenPrefixes = [...]string{
	"tg_", "tga_", // toolgate grant and admin tokens
	"sk_live_", "sk_test_", "rk_live_", "rk_test_", // Stripe and Clerk secret keys
	"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", // GitHub
	"xoxb-", "xoxp-", "xoxa-", "xoxs-", // Slack
	"glpat-", // GitLab
}

// minTokenBody is how many token characters must follow a prefix.
const minTokenBody = 16

// IsSecretValue reports whether the string s holds a credential of a shape
// that needs no key to recognise, anywhere in it:
//
//   - a token that starts with a prefix its issuer made for scanners:
//     toolgate's tg_ and tga_, sk_live_/sk_test_ (Stripe, Clerk), ghp_ and
//     its siblings (GitHub), xoxb- and its siblings (Slack), glpat-
//     (GitLab), followed by at least 16 token characters;
//   - a JSON Web Token: "eyJ", base64url, ".", base64url, ".";
//   - a PEM private key: "-----BEGIN" and "PRIVATE KEY";
//   - HTTP credentials: "Bearer " (any case) and at least 16 token
//     characters, or a whole string "Basic " and base64 of "user:password";
//   - a URL with a password: "scheme://user:password@host".
//
// Free text that mentions a password ("my password is hunter2") is not
// matched: there is no shape to tell the secret from the words around it.
func IsSecretValue(s string) bool {
	if len(s) < minSecretValue {
		return false
	}
	return hasPrefixedToken(s) || hasJWT(s) || hasPEMKey(s) || hasBearer(s) || isBasic(s) || hasURLPassword(s)
}

// isTokenChar reports whether c may be part of a token, a JWT segment or a
// bearer credential (RFC 6750's b64token, and "_").
func isTokenChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~' || c == '+' || c == '/' || c == '='
}

func isB64URL(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// tokenRun returns how many token characters start s.
func tokenRun(s string, ok func(byte) bool) int {
	n := 0
	for n < len(s) && ok(s[n]) {
		n++
	}
	return n
}

func hasPrefixedToken(s string) bool {
	// Every prefix holds "_" or "-".
	if strings.IndexByte(s, '_') < 0 && strings.IndexByte(s, '-') < 0 {
		return false
	}
	for _, p := range tokenPrefixes {
		for off := 0; ; {
			i := strings.Index(s[off:], p)
			if i < 0 {
				break
			}
			i += off
			if (i == 0 || !isB64URL(s[i-1])) && tokenRun(s[i+len(p):], isB64URL) >= minTokenBody {
				return true
			}
			off = i + 1
		}
	}
	return false
}

func hasJWT(s string) bool {
	for off := 0; ; {
		i := strings.Index(s[off:], "eyJ")
		if i < 0 {
			return false
		}
		i += off
		rest := s[i:]
		h := tokenRun(rest, isB64URL)
		if h >= 10 && h < len(rest) && rest[h] == '.' {
			p := tokenRun(rest[h+1:], isB64URL)
			if p >= 2 && h+1+p < len(rest) && rest[h+1+p] == '.' {
				return true
			}
		}
		off = i + 3
	}
}

func hasPEMKey(s string) bool {
	return strings.Contains(s, "-----BEGIN") && strings.Contains(s, "PRIVATE KEY")
}

func hasBearer(s string) bool {
	const word = "bearer "
	for i := 0; i+len(word) <= len(s); i++ {
		if s[i]|0x20 != 'b' || !strings.EqualFold(s[i:i+len(word)], word) {
			continue
		}
		rest := strings.TrimLeft(s[i+len(word):], " ")
		if tokenRun(rest, isTokenChar) >= minTokenBody {
			return true
		}
	}
	return false
}

// isBasic reports whether s is "Basic " and the base64 of "user:password".
func isBasic(s string) bool {
	const word = "basic "
	if len(s) <= len(word) || !strings.EqualFold(s[:len(word)], word) {
		return false
	}
	cred := strings.TrimSpace(s[len(word):])
	b, err := base64.StdEncoding.DecodeString(cred)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(cred)
	}
	return err == nil && strings.IndexByte(string(b), ':') > 0
}

// hasURLPassword reports whether s holds "://" followed by an authority
// with a password: "user:password@".
func hasURLPassword(s string) bool {
	for off := 0; ; {
		i := strings.Index(s[off:], "://")
		if i < 0 {
			return false
		}
		i += off + 3
		auth := s[i:]
		if e := strings.IndexAny(auth, "/?# \t\r\n\"'<>"); e >= 0 {
			auth = auth[:e]
		}
		if at := strings.LastIndexByte(auth, '@'); at > 0 {
			if c := strings.IndexByte(auth[:at], ':'); c >= 0 && c < at-1 {
				return true
			}
		}
		off = i
	}
}
