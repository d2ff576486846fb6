package redact

import (
	"unicode"
	"unicode/utf8"
)

// How a key name is matched (IsSecretKey). The name is split into words at
// every character that is not a letter or a digit ("_", "-", ".", spaces,
// marks, invisible characters) and at case changes ("apiKey", "APIKey");
// every word is case-folded, and a letter whose case folding reaches an
// ASCII letter becomes that letter (the Kelvin sign K becomes k, the long
// s ſ becomes s: Go's encoding/json binds "paſſword" to a field named
// Password, so an upstream may well take it for one). The folded words
// joined together are the key's "joined form": "X-Api-Key", "apiKey" and
// "API_KEY" all join to "...apikey".

// secretNames end the joined form of a secret key: "access_token",
// "newPassword" and "CLIENT_SECRET" end with one.
var secretNames = [...]string{
	"password", "passwords", "passwd", "passphrase", "passcode",
	"secret", "secrets",
	"token", "tokens",
	"apikey", "apikeys", "privatekey", "privatekeys", "signingkey", "encryptionkey",
	"masterkey", "accesskey", "sessionkey",
	"credential", "credentials", "authorization",
	"cookie", "cookies",
	"totp", "hotp", "backupcode", "backupcodes", "recoverycode", "recoverycodes",
	"mnemonic", "seedphrase",
}

// secretWords are secret names too short to be matched at the end of the
// joined form ("spin" is not a PIN): they must be the key's last word.
var secretWords = [...]string{"pin", "otp", "cvv", "cvc", "cvv2", "cvc2", "bearer"}

// derivedWords, after a secret name, still name the secret or something
// as good as it: "password_digest", "private_key_pem", "secret_key",
// "totp_seed", "authorization_code", "credentials_json".
var derivedWords = [...]string{
	"digest", "hash", "hashed", "salt", "confirmation", "confirm",
	"value", "values", "pem", "der", "b64", "base64", "hex", "encrypted", "plaintext", "plain", "raw",
	"bytes", "seed", "key", "keys", "code", "codes", "data", "string", "str", "text", "uri", "json",
	"blob", "content",
}

// countWords, as the first of several words of a key that ends with
// "token" or "tokens", make it a count of language model tokens rather
// than a secret: "max_tokens", "prompt_tokens", "input_tokens".
var countWords = [...]string{
	"max", "min", "num", "total", "remaining", "used", "count",
	"prompt", "completion", "input", "output", "cached", "reasoning",
}

// countedNames are the names countWords exempt.
var countedNames = [...]string{"token", "tokens"}

// keyBuf is the room IsSecretKey folds a key into without allocating.
const keyBuf = 128

// maxWords bounds the word starts tracked; a key of more words counts
// every position as a word start (more keys match, none less).
const maxWords = 32

// IsSecretKey reports whether a member named key holds a secret. With the
// key split into case-folded words and joined (see the package's rules in
// docs/security.md):
//
//  1. a key that ends with token or tokens and whose first word (of
//     several) is a count word (max, min, num, total, remaining, used,
//     count, prompt, completion, input, output, cached, reasoning) is not
//     secret: "max_tokens", "prompt_tokens";
//  2. a key whose joined form ends with a secret name (password, secret,
//     token, api_key, private_key, credential, authorization, cookie,
//     totp, backup_codes, ... and their plurals) is secret;
//  3. so is one whose last word is pin, otp, cvv, cvc or bearer;
//  4. so is one that ends with up to two derived words (digest, hash,
//     salt, key, code, value, pem, seed, json, ...) after what rule 2 or
//     3 would call secret: "password_digest", "private_key_pem";
//  5. nothing else is: "token_count", "password_enabled" and
//     "skip_password_checks" end with none of these.
func IsSecretKey(key string) bool {
	var arr [keyBuf]byte
	k := foldKey(key, arr[:0])
	if k.n > 1 && in(k.joined[:k.first], countWords[:]) && countedNameSet.suffix(k.joined) != "" {
		return false
	}
	j := k.joined
	for range 3 { // the name itself, then with up to two derived words stripped
		if secretNameSet.suffix(j) != "" {
			return true
		}
		if w := secretWordSet.suffix(j); w != "" && k.wordStart(len(j)-len(w)) {
			return true
		}
		d := derivedWordSet.suffix(j)
		if d == "" || len(d) == len(j) {
			return false
		}
		j = j[:len(j)-len(d)]
	}
	return false
}

// foldedKey is a key's joined form and where its words start.
type foldedKey struct {
	joined []byte
	n      int // number of words
	first  int // end of the first word in joined
	starts [maxWords]int
}

// wordStart reports whether a word starts at offset i of the joined form.
func (k *foldedKey) wordStart(i int) bool {
	if k.n > maxWords {
		return true
	}
	for _, s := range k.starts[:k.n] {
		if s == i {
			return true
		}
	}
	return false
}

// foldKey splits key into words, folds them and joins them into buf.
func foldKey(key string, buf []byte) foldedKey {
	var k foldedKey
	prev := false // the previous rune was a letter or digit
	prevUpper := false
	for i, r := range key {
		upper := false
		switch {
		case r < utf8.RuneSelf:
			switch {
			case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
			case 'A' <= r && r <= 'Z':
				upper = true
			default:
				prev = false
				continue
			}
		case r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			upper = unicode.IsUpper(r) || unicode.IsTitle(r)
		default:
			prev = false
			continue
		}
		boundary := !prev
		if prev && upper {
			// "apiKey": lower to upper case; "APIKey": the last capital
			// before a lower-case letter starts a word.
			if !prevUpper {
				boundary = true
			} else if next, _ := utf8.DecodeRuneInString(key[i+utf8.RuneLen(r):]); unicode.IsLower(next) {
				boundary = true
			}
		}
		if boundary {
			if k.n < maxWords {
				k.starts[k.n] = len(buf)
			}
			if k.n == 1 {
				k.first = len(buf)
			}
			k.n++
		}
		buf = appendFolded(buf, r)
		prev, prevUpper = true, upper
	}
	if k.n <= 1 {
		k.first = len(buf)
	}
	k.joined = buf
	return k
}

// appendFolded appends r case-folded: ASCII lower case, or the ASCII letter
// its case folding reaches, or else its lower case.
func appendFolded(buf []byte, r rune) []byte {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return append(buf, byte(r))
	}
	if f := unicode.ToLower(unicode.ToUpper(r)); f < utf8.RuneSelf {
		return append(buf, byte(f))
	}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < utf8.RuneSelf {
			return append(buf, byte(unicode.ToLower(f)))
		}
	}
	return utf8.AppendRune(buf, unicode.ToLower(r))
}

func in(s []byte, list []string) bool {
	for _, w := range list {
		if string(s) == w {
			return true
		}
	}
	return false
}

// suffixSet holds words by their last byte, so that a lookup compares
// only the few that can match.
type suffixSet [256][]string

func newSuffixSet(words ...string) *suffixSet {
	var s suffixSet
	for _, w := range words {
		s[w[len(w)-1]] = append(s[w[len(w)-1]], w)
	}
	return &s
}

// Lookup tables built once from the lists above, never modified.
var (
	secretNameSet  = newSuffixSet(secretNames[:]...)
	secretWordSet  = newSuffixSet(secretWords[:]...)
	derivedWordSet = newSuffixSet(derivedWords[:]...)
	countedNameSet = newSuffixSet(countedNames[:]...)
)

// suffix returns the longest word of set that b ends with, or "".
func (set *suffixSet) suffix(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	best := ""
	for _, w := range set[b[len(b)-1]] {
		if len(w) > len(best) && len(b) >= len(w) && string(b[len(b)-len(w):]) == w {
			best = w
		}
	}
	return best
}
