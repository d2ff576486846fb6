// Package canonjson reads JSON strictly and writes it back in one canonical
// form, so that every reader of the output sees the same document.
//
// A gateway that decides on its own parse of a message and forwards the
// original bytes is open to every difference between its parser and the
// receiver's: duplicate keys (first wins here, last wins there), keys that
// differ only in case (Go's encoding/json matches struct fields ignoring
// case, most other parsers do not), invalid UTF-8 and lone surrogates
// (replaced here, kept or refused there), and whitespace that a
// line-delimited reader takes for the end of a message. Append refuses the
// first three and removes the last: its output has no insignificant
// whitespace, no raw line breaks of any kind, strings re-escaped one way,
// and numbers as they were written.
package canonjson

import (
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// Kind classifies why a document was refused.
type Kind int

const (
	// Syntax: not one well-formed JSON value (RFC 8259).
	Syntax Kind = iota + 1
	// Encoding: invalid UTF-8 or an unpaired surrogate escape.
	Encoding
	// DuplicateKey: an object repeats a key, or has two keys that differ
	// only in case (as Go's encoding/json folds them).
	DuplicateKey
	// TooDeep: arrays and objects nest deeper than allowed.
	TooDeep
)

// Error says why and where a document was refused.
type Error struct {
	Kind   Kind
	Offset int // byte offset in the input
	Msg    string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s (at byte %d)", e.Msg, e.Offset)
}

// smallObject is the size up to which an object's keys are compared
// pairwise; larger objects use a map, so a hostile object with many keys
// costs linear time.
const smallObject = 16

// Append checks that src holds exactly one JSON value (surrounding
// whitespace allowed) nesting at most maxDepth arrays and objects, with no
// duplicate or case-variant keys in any object, and appends its canonical
// form to dst. On error dst is returned unchanged in length.
func Append(dst, src []byte, maxDepth int) ([]byte, error) {
	p := parser{src: src, dst: dst, max: maxDepth}
	n := len(dst)
	p.skipSpace()
	if err := p.value(); err != nil {
		return dst[:n], err
	}
	p.skipSpace()
	if p.pos != len(src) {
		return dst[:n], p.fail(Syntax, "unexpected data after the JSON value")
	}
	return p.dst, nil
}

// Valid reports whether Append would accept src.
func Valid(src []byte, maxDepth int) error {
	_, err := Append(nil, src, maxDepth)
	return err
}

type parser struct {
	src   []byte
	pos   int
	dst   []byte
	depth int
	max   int
	fold  []byte // scratch for folded keys
}

func (p *parser) fail(k Kind, format string, args ...any) error {
	return &Error{Kind: k, Offset: p.pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) skipSpace() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) value() error {
	if p.pos >= len(p.src) {
		return p.fail(Syntax, "unexpected end of JSON input")
	}
	switch c := p.src[p.pos]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		_, err := p.str(false)
		return err
	case c == '-' || ('0' <= c && c <= '9'):
		return p.number()
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	default:
		return p.fail(Syntax, "invalid character %s looking for a value", quoteChar(c))
	}
}

func quoteChar(c byte) string {
	if c == '\'' {
		return `'\''`
	}
	if c == '"' {
		return `'"'`
	}
	s := strconv.Quote(string(c))
	return "'" + s[1:len(s)-1] + "'"
}

func (p *parser) literal(word string) error {
	if len(p.src)-p.pos < len(word) || string(p.src[p.pos:p.pos+len(word)]) != word {
		return p.fail(Syntax, "invalid literal (expected %s)", word)
	}
	p.pos += len(word)
	p.dst = append(p.dst, word...)
	return nil
}

func (p *parser) number() error {
	start := p.pos
	s := p.src
	i := p.pos
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
	default:
		p.pos = i
		return p.fail(Syntax, "invalid number")
	}
	if i < len(s) && s[i] == '.' {
		i++
		d := i
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		if i == d {
			p.pos = i
			return p.fail(Syntax, "invalid number: digits must follow the decimal point")
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		d := i
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		if i == d {
			p.pos = i
			return p.fail(Syntax, "invalid number: digits must follow the exponent")
		}
	}
	p.pos = i
	p.dst = append(p.dst, s[start:i]...)
	return nil
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > p.max {
		return p.fail(TooDeep, "JSON nesting too deep (more than %d levels)", p.max)
	}
	return nil
}

func (p *parser) array() error {
	if err := p.enter(); err != nil {
		return err
	}
	p.pos++ // [
	p.dst = append(p.dst, '[')
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == ']' {
		p.pos++
		p.dst = append(p.dst, ']')
		p.depth--
		return nil
	}
	for {
		p.skipSpace()
		if err := p.value(); err != nil {
			return err
		}
		if done, err := p.after(']', "an array element"); done || err != nil {
			return err
		}
	}
}

// after reads what follows a member or element: a comma, or the closer
// that ends the container (done).
func (p *parser) after(closer byte, what string) (done bool, err error) {
	p.skipSpace()
	if p.pos >= len(p.src) {
		return false, p.fail(Syntax, "unexpected end of JSON input after %s", what)
	}
	switch c := p.src[p.pos]; c {
	case ',':
		p.pos++
		p.dst = append(p.dst, ',')
		return false, nil
	case closer:
		p.pos++
		p.dst = append(p.dst, closer)
		p.depth--
		return true, nil
	default:
		return false, p.fail(Syntax, "invalid character %s after %s", quoteChar(c), what)
	}
}

// keySpan locates one key of the object being read: its canonical bytes in
// dst and its folded form in the fold scratch.
type keySpan struct {
	exact0, exact1 int
	fold0, fold1   int
}

func (p *parser) object() error {
	if err := p.enter(); err != nil {
		return err
	}
	p.pos++ // {
	p.dst = append(p.dst, '{')
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == '}' {
		p.pos++
		p.dst = append(p.dst, '}')
		p.depth--
		return nil
	}
	foldBase := len(p.fold)
	defer func() { p.fold = p.fold[:foldBase] }()
	var small [smallObject]keySpan
	spans := small[:0]
	var big map[string]int // folded key → index in spans, once the object is large
	for {
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != '"' {
			if p.pos >= len(p.src) {
				return p.fail(Syntax, "unexpected end of JSON input in an object")
			}
			return p.fail(Syntax, "invalid character %s looking for an object key", quoteChar(p.src[p.pos]))
		}
		keyAt := p.pos
		e0 := len(p.dst)
		decoded, err := p.str(true)
		if err != nil {
			return err
		}
		ks := keySpan{exact0: e0 + 1, exact1: len(p.dst) - 1, fold0: len(p.fold)}
		p.fold = appendFold(p.fold, decoded)
		ks.fold1 = len(p.fold)
		folded := p.fold[ks.fold0:ks.fold1]
		clash := -1
		if big != nil {
			if i, ok := big[string(folded)]; ok {
				clash = i
			}
		} else {
			for i, o := range spans {
				if string(p.fold[o.fold0:o.fold1]) == string(folded) {
					clash = i
					break
				}
			}
		}
		if clash >= 0 {
			o := spans[clash]
			p.pos = keyAt
			prev := string(p.dst[o.exact0:o.exact1])
			this := string(p.dst[ks.exact0:ks.exact1])
			if prev == this {
				return p.fail(DuplicateKey, "duplicate key %q", this)
			}
			return p.fail(DuplicateKey, "keys %q and %q differ only in case", prev, this)
		}
		spans = append(spans, ks)
		if big != nil {
			big[string(folded)] = len(spans) - 1
		} else if len(spans) > smallObject {
			big = make(map[string]int, 2*len(spans))
			for i, o := range spans {
				big[string(p.fold[o.fold0:o.fold1])] = i
			}
		}
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != ':' {
			if p.pos >= len(p.src) {
				return p.fail(Syntax, "unexpected end of JSON input after an object key")
			}
			return p.fail(Syntax, "invalid character %s after an object key", quoteChar(p.src[p.pos]))
		}
		p.pos++
		p.dst = append(p.dst, ':')
		p.skipSpace()
		if err := p.value(); err != nil {
			return err
		}
		if done, err := p.after('}', "an object value"); done || err != nil {
			return err
		}
	}
}

// str reads a string at p.pos and appends its canonical form to dst. With
// want, it also returns the decoded string's bytes: a view into dst while
// the canonical form and the decoded string are the same bytes, else a
// buffer of its own (object keys need them; values do not).
func (p *parser) str(want bool) ([]byte, error) {
	p.pos++ // "
	p.dst = append(p.dst, '"')
	start := len(p.dst)
	plain := true // so far the canonical form equals the decoded string
	var decoded []byte
	diverge := func() {
		if plain && want {
			decoded = append(make([]byte, 0, len(p.dst)-start+16), p.dst[start:]...)
			plain = false
		}
	}
	s := p.src
	for {
		// Copy the run of bytes that need no attention in one go.
		i := p.pos
		for i < len(s) {
			c := s[i]
			if c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
				break
			}
			i++
		}
		p.dst = append(p.dst, s[p.pos:i]...)
		if !plain {
			decoded = append(decoded, s[p.pos:i]...)
		}
		p.pos = i
		if p.pos >= len(s) {
			return nil, p.fail(Syntax, "unexpected end of JSON input in a string")
		}
		c := s[p.pos]
		switch {
		case c == '"':
			p.pos++
			if plain {
				decoded = p.dst[start:len(p.dst):len(p.dst)]
			}
			p.dst = append(p.dst, '"')
			return decoded, nil
		case c < 0x20:
			return nil, p.fail(Syntax, "invalid control character %s in a string (escape it)", quoteChar(c))
		case c == '\\':
			r, err := p.escape()
			if err != nil {
				return nil, err
			}
			var eb, db [8]byte
			enc := appendRune(eb[:0], r)
			dec := utf8.AppendRune(db[:0], r)
			if string(enc) != string(dec) {
				diverge()
			}
			if !plain {
				decoded = append(decoded, dec...)
			}
			p.dst = append(p.dst, enc...)
		default: // multi-byte UTF-8
			r, n := utf8.DecodeRune(s[p.pos:])
			if r == utf8.RuneError && n <= 1 {
				return nil, p.fail(Encoding, "invalid UTF-8 in a string")
			}
			if needsEscape(r) {
				diverge()
			}
			if !plain {
				decoded = append(decoded, s[p.pos:p.pos+n]...)
			}
			p.dst = appendRune(p.dst, r)
			p.pos += n
		}
	}
}

// escape reads one escape sequence at p.pos (at the backslash) and returns
// the rune it stands for; a surrogate pair counts as one.
func (p *parser) escape() (rune, error) {
	s := p.src
	if p.pos+1 >= len(s) {
		return 0, p.fail(Syntax, "unexpected end of JSON input in a string escape")
	}
	c := s[p.pos+1]
	p.pos += 2
	switch c {
	case '"', '\\', '/':
		return rune(c), nil
	case 'b':
		return '\b', nil
	case 'f':
		return '\f', nil
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 't':
		return '\t', nil
	case 'u':
		r, ok := hex4(s, p.pos)
		if !ok {
			return 0, p.fail(Syntax, `invalid \u escape in a string`)
		}
		p.pos += 4
		if !utf16IsSurrogate(r) {
			return r, nil
		}
		if r >= 0xDC00 {
			return 0, p.fail(Encoding, `unpaired surrogate \u%04X in a string`, r)
		}
		if p.pos+6 <= len(s) && s[p.pos] == '\\' && s[p.pos+1] == 'u' {
			if lo, ok := hex4(s, p.pos+2); ok && 0xDC00 <= lo && lo <= 0xDFFF {
				p.pos += 6
				return 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00), nil
			}
		}
		return 0, p.fail(Encoding, `unpaired surrogate \u%04X in a string`, r)
	default:
		p.pos--
		return 0, p.fail(Syntax, "invalid escape %s in a string", quoteChar(c))
	}
}

func utf16IsSurrogate(r rune) bool { return 0xD800 <= r && r <= 0xDFFF }

func hex4(s []byte, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range s[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// needsEscape reports whether the canonical form escapes r: quote,
// backslash, control characters, and the characters some line readers
// take for a line break (NEL, LINE and PARAGRAPH SEPARATOR).
func needsEscape(r rune) bool {
	return r < 0x20 || r == '"' || r == '\\' || r == 0x85 || r == 0x2028 || r == 0x2029
}

const hexDigits = "0123456789abcdef"

// appendRune appends r in canonical string form.
func appendRune(dst []byte, r rune) []byte {
	if !needsEscape(r) {
		return utf8.AppendRune(dst, r)
	}
	switch r {
	case '"':
		return append(dst, '\\', '"')
	case '\\':
		return append(dst, '\\', '\\')
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	case '\b':
		return append(dst, '\\', 'b')
	case '\f':
		return append(dst, '\\', 'f')
	}
	return append(dst, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

// AppendString appends s as a canonical JSON string. Invalid UTF-8 in s is
// written as U+FFFD.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf && !needsEscape(rune(c)) {
			j := i + 1
			for j < len(s) && s[j] < utf8.RuneSelf && !needsEscape(rune(s[j])) {
				j++
			}
			dst = append(dst, s[i:j]...)
			i = j
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		dst = appendRune(dst, r)
		i += n
	}
	return append(dst, '"')
}

// AppendGoString appends s as a JSON string exactly as encoding/json does
// with HTML escaping off (unlike AppendString, it leaves NEL unescaped):
// the form of bytes that must equal encoding/json's. Invalid UTF-8 becomes
// U+FFFD, U+2028 and U+2029 are escaped.
func AppendGoString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		// Eight bytes at a time while none needs a look.
		for i+8 <= len(s) && plain8(uint64(s[i])|uint64(s[i+1])<<8|uint64(s[i+2])<<16|uint64(s[i+3])<<24|
			uint64(s[i+4])<<32|uint64(s[i+5])<<40|uint64(s[i+6])<<48|uint64(s[i+7])<<56) {
			i += 8
		}
		if i >= len(s) {
			break
		}
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// plain8 reports whether the eight bytes of w are all ASCII from 0x20 up
// but quote and backslash: bytes AppendGoString copies as they are.
func plain8(w uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	// A byte below 0x20 borrows or keeps its high bit clear in ^w; a byte
	// equal to c is a zero byte of w^(c*ones).
	q, bs := w^'"'*ones, w^'\\'*ones
	return (w-0x20*ones)&^w&highs == 0 && (q-ones)&^q&highs == 0 && (bs-ones)&^bs&highs == 0 && w&highs == 0
}

// Fold returns the form of key under which Go's encoding/json matches
// struct fields: two keys with the same Fold are the same field to it.
func Fold(key string) string { return string(appendFold(nil, []byte(key))) }

func appendFold(dst, key []byte) []byte {
	for i := 0; i < len(key); {
		c := key[i]
		if c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(key[i:])
		dst = utf8.AppendRune(dst, foldRune(r))
		i += n
	}
	return dst
}

// foldRune returns the smallest rune of r's case-fold orbit, as
// encoding/json does ('ſ' folds to 'S', the Kelvin sign to 'K').
func foldRune(r rune) rune {
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}

// EachMember calls fn with the key (its canonical string contents, without
// quotes) and the value of every member of obj, in order. obj must be a
// canonical object, as Append writes it; anything else is an error.
func EachMember(obj []byte, fn func(key, value []byte) error) error {
	if len(obj) < 2 || obj[0] != '{' || obj[len(obj)-1] != '}' {
		return errNotObject
	}
	i := 1
	for i < len(obj)-1 {
		if obj[i] != '"' {
			return errNotCanonical
		}
		k1 := skip(obj, i)
		if k1 < 0 || k1 >= len(obj) || obj[k1] != ':' {
			return errNotCanonical
		}
		v1 := skip(obj, k1+1)
		if v1 < 0 {
			return errNotCanonical
		}
		if err := fn(obj[i+1:k1-1], obj[k1+1:v1]); err != nil {
			return err
		}
		i = v1
		if obj[i] == ',' {
			i++
		}
	}
	return nil
}

var (
	errNotObject    = &Error{Kind: Syntax, Msg: "not a JSON object"}
	errNotCanonical = &Error{Kind: Syntax, Msg: "not canonical JSON"}
)

// skip returns the index just past the canonical value starting at b[i],
// or -1.
func skip(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		for j := i + 1; j < len(b); j++ {
			switch b[j] {
			case '\\':
				j++
			case '"':
				return j + 1
			}
		}
		return -1
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				e := skip(b, j)
				if e < 0 {
					return -1
				}
				j = e - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	default:
		j := i
		for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' {
			j++
		}
		if j == i {
			return -1
		}
		return j
	}
}
