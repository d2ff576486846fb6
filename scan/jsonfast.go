package scan

import (
	"encoding/binary"
	"encoding/json"
	"unicode/utf8"
)

// The scanner reads every tool of a list, and most of its time went into
// encoding/json: the list was scanned once per nesting level (document,
// tools array, tool object, field) and each schema once more to decode
// it. The readers below go over the bytes once. They accept exactly what
// encoding/json accepts and give the same values; on anything they do not
// handle (bad syntax, lone surrogate escapes, invalid UTF-8 in a string,
// nesting deeper than encoding/json allows) they report failure and the
// caller falls back to encoding/json, so that errors and odd inputs are
// handled as before, message for message.

// maxJSONDepth is encoding/json's nesting limit.
const maxJSONDepth = 10000

// jsonReader reads one JSON document held in b.
type jsonReader struct {
	b     []byte
	i     int
	depth int
}

func (r *jsonReader) space() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// value decodes the value at r.i as encoding/json decodes into an
// interface{} with UseNumber: map[string]any, []any, string, json.Number,
// bool or nil.
func (r *jsonReader) value() (any, bool) {
	r.space()
	if r.i >= len(r.b) {
		return nil, false
	}
	switch c := r.b[r.i]; c {
	case '{':
		if r.depth++; r.depth > maxJSONDepth {
			return nil, false
		}
		r.i++
		m := map[string]any{}
		r.space()
		if r.i < len(r.b) && r.b[r.i] == '}' {
			r.i++
			r.depth--
			return m, true
		}
		for {
			r.space()
			k, ok := r.str()
			if !ok {
				return nil, false
			}
			r.space()
			if r.i >= len(r.b) || r.b[r.i] != ':' {
				return nil, false
			}
			r.i++
			v, ok := r.value()
			if !ok {
				return nil, false
			}
			m[k] = v
			r.space()
			if r.i >= len(r.b) {
				return nil, false
			}
			if r.b[r.i] == ',' {
				r.i++
				continue
			}
			if r.b[r.i] != '}' {
				return nil, false
			}
			r.i++
			r.depth--
			return m, true
		}
	case '[':
		if r.depth++; r.depth > maxJSONDepth {
			return nil, false
		}
		r.i++
		a := []any{}
		r.space()
		if r.i < len(r.b) && r.b[r.i] == ']' {
			r.i++
			r.depth--
			return a, true
		}
		for {
			v, ok := r.value()
			if !ok {
				return nil, false
			}
			a = append(a, v)
			r.space()
			if r.i >= len(r.b) {
				return nil, false
			}
			if r.b[r.i] == ',' {
				r.i++
				continue
			}
			if r.b[r.i] != ']' {
				return nil, false
			}
			r.i++
			r.depth--
			return a, true
		}
	case '"':
		s, ok := r.str()
		if v, interned := internAny(s); interned {
			return v, ok
		}
		return s, ok
	case 't':
		return true, r.lit("true")
	case 'f':
		return false, r.lit("false")
	case 'n':
		return nil, r.lit("null")
	default:
		if c == '-' || c >= '0' && c <= '9' {
			start := r.i
			if !r.number() {
				return nil, false
			}
			return json.Number(r.b[start:r.i]), true
		}
	}
	return nil, false
}

// skip checks the value at r.i and steps over it.
func (r *jsonReader) skip() bool {
	r.space()
	if r.i >= len(r.b) {
		return false
	}
	switch c := r.b[r.i]; c {
	case '{', '[':
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		if r.depth++; r.depth > maxJSONDepth {
			return false
		}
		r.i++
		r.space()
		if r.i < len(r.b) && r.b[r.i] == end {
			r.i++
			r.depth--
			return true
		}
		for {
			if c == '{' {
				r.space()
				if !r.skipStr() {
					return false
				}
				r.space()
				if r.i >= len(r.b) || r.b[r.i] != ':' {
					return false
				}
				r.i++
			}
			if !r.skip() {
				return false
			}
			r.space()
			if r.i >= len(r.b) {
				return false
			}
			if r.b[r.i] == ',' {
				r.i++
				continue
			}
			if r.b[r.i] != end {
				return false
			}
			r.i++
			r.depth--
			return true
		}
	case '"':
		return r.skipStr()
	case 't':
		return r.lit("true")
	case 'f':
		return r.lit("false")
	case 'n':
		return r.lit("null")
	}
	return r.number()
}

func (r *jsonReader) lit(s string) bool {
	if len(r.b)-r.i < len(s) || string(r.b[r.i:r.i+len(s)]) != s {
		return false
	}
	r.i += len(s)
	return true
}

// number steps over a number of RFC 8259's grammar.
func (r *jsonReader) number() bool {
	b, i := r.b, r.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	r.i = i
	return true
}

// skipStr steps over a string, checking its escapes and that it has no
// raw control character, without decoding it.
func (r *jsonReader) skipStr() bool {
	b := r.b
	if r.i >= len(b) || b[r.i] != '"' {
		return false
	}
	for i := r.i + 1; i < len(b); i++ {
		if i, _ = strRun(b, i); i >= len(b) {
			break
		}
		switch c := b[i]; {
		case c == '"':
			r.i = i + 1
			return true
		case c == '\\':
			i++
			if i >= len(b) {
				return false
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(b)-i < 5 || !isHex4(b[i+1:i+5]) {
					return false
				}
				i += 4
			default:
				return false
			}
		case c < 0x20:
			return false
		}
	}
	return false
}

// str decodes the string at r.i. Strings with escapes are decoded here
// too, but a surrogate escape or invalid UTF-8 (which encoding/json
// replaces with U+FFFD) makes it fail, for the caller to fall back.
func (r *jsonReader) str() (string, bool) {
	b := r.b
	if r.i >= len(b) || b[r.i] != '"' {
		return "", false
	}
	start := r.i + 1
	// Most strings have no escape: the closing quote is the next one.
	if j, ascii := strRun(b, start); j < len(b) && b[j] == '"' {
		if seg := b[start:j]; ascii || utf8.Valid(seg) {
			r.i = j + 1
			if s, ok := internStr(seg); ok {
				return s, true
			}
			return string(seg), true
		}
	}
	i := start
	for i < len(b) {
		i = plainRun(b, i)
		if i >= len(b) {
			break
		}
		c := b[i]
		if c == '"' {
			r.i = i + 1
			if s, ok := internStr(b[start:i]); ok {
				return s, true
			}
			return string(b[start:i]), true
		}
		if c == '\\' || c < 0x20 {
			break
		}
		// c >= utf8.RuneSelf
		_, size := utf8.DecodeRune(b[i:])
		if size == 1 {
			return "", false
		}
		i += size
	}
	if i >= len(b) || b[i] != '\\' {
		return "", false
	}
	out := make([]byte, 0, i-start+16)
	out = append(out, b[start:i]...)
	for i < len(b) {
		if j := plainRun(b, i); j > i {
			out = append(out, b[i:j]...)
			if i = j; i >= len(b) {
				break
			}
		}
		c := b[i]
		switch {
		case c == '"':
			r.i = i + 1
			return string(out), true
		case c < 0x20:
			return "", false
		case c == '\\':
			i++
			if i >= len(b) {
				return "", false
			}
			switch b[i] {
			case '"', '\\', '/':
				out = append(out, b[i])
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				if len(b)-i < 5 || !isHex4(b[i+1:i+5]) {
					return "", false
				}
				rr := hex4(b[i+1 : i+5])
				if rr >= 0xD800 && rr < 0xE000 {
					return "", false
				}
				out = utf8.AppendRune(out, rr)
				i += 4
			default:
				return "", false
			}
			i++
		case c >= utf8.RuneSelf:
			_, size := utf8.DecodeRune(b[i:])
			if size == 1 {
				return "", false
			}
			out = append(out, b[i:i+size]...)
			i += size
		}
	}
	return "", false
}

// strRun returns the index of the first quote, backslash or byte below
// 0x20 in b from i on (len(b) if none), and whether the bytes before it
// are all ASCII, stepping over eight bytes at a time: in a string, the end
// of what needs no decoding.
func strRun(b []byte, i int) (int, bool) {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	var high uint64
	for i+8 <= len(b) {
		w := binary.LittleEndian.Uint64(b[i:])
		// A byte below 0x20 borrows or keeps its high bit clear in ^w;
		// a quote or a backslash is a zero byte of w^c*ones. The tests
		// are exact, whatever the bytes from 0x80 up.
		q, bs := w^'"'*ones, w^'\\'*ones
		if (w-0x20*ones)&^w&highs != 0 || (q-ones)&^q&highs != 0 || (bs-ones)&^bs&highs != 0 {
			break
		}
		high |= w
		i += 8
	}
	for i < len(b) {
		c := b[i]
		if c < 0x20 || c == '"' || c == '\\' {
			break
		}
		high |= uint64(c)
		i++
	}
	return i, high&highs == 0
}

// plainRun returns the index of the first byte of b from i on that is not
// printable ASCII, or is a quote or a backslash (len(b) if none),
// stepping over eight bytes at a time.
func plainRun(b []byte, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for i+8 <= len(b) {
		w := binary.LittleEndian.Uint64(b[i:])
		// As in strRun; a byte from 0x80 up has its high bit set.
		q, bs := w^'"'*ones, w^'\\'*ones
		if (w-0x20*ones)&^w&highs != 0 || (q-ones)&^q&highs != 0 || (bs-ones)&^bs&highs != 0 || w&highs != 0 {
			break
		}
		i += 8
	}
	for i < len(b) {
		if c := b[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' {
			break
		}
		i++
	}
	return i
}

func isHex4(b []byte) bool {
	for _, c := range b[:4] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		default:
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}

// fastDecode is decodeJSON's reading of raw (already known to be valid
// UTF-8): the first value, what follows it ignored, as json.Decoder does.
func fastDecode(raw []byte) (any, bool) {
	r := jsonReader{b: raw}
	return r.value()
}

// peek returns the byte at r.i, or 0 at the end.
func (r *jsonReader) peek() byte {
	if r.i >= len(r.b) {
		return 0
	}
	return r.b[r.i]
}

// object reads the object at r.i, calling member with each key when r.i is
// at the value (leading space skipped); member reads or skips the value.
func (r *jsonReader) object(member func(key string) bool) bool {
	r.space()
	if r.peek() != '{' {
		return false
	}
	if r.depth++; r.depth > maxJSONDepth {
		return false
	}
	r.i++
	r.space()
	if r.peek() == '}' {
		r.i++
		r.depth--
		return true
	}
	for {
		r.space()
		k, ok := r.str()
		if !ok {
			return false
		}
		r.space()
		if r.peek() != ':' {
			return false
		}
		r.i++
		r.space()
		if !member(k) {
			return false
		}
		r.space()
		switch r.peek() {
		case ',':
			r.i++
		case '}':
			r.i++
			r.depth--
			return true
		default:
			return false
		}
	}
}
