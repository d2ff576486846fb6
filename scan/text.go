package scan

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// phrase is a piece of text that, in a tool's description or schema, is an
// instruction to the model rather than documentation for it.
type phrase struct {
	text string
	kind string // what the instruction tries to do
}

// injectionPhrases are matched, lower-case, against each text of a tool
// after whitespace is collapsed and invisible characters removed.
var injectionPhrases = []phrase{
	{"ignore previous instructions", "override"}, {"ignore all previous", "override"},
	{"ignore the previous", "override"}, {"ignore prior instructions", "override"},
	{"ignore all prior", "override"}, {"ignore the above", "override"},
	{"ignore your instructions", "override"}, {"ignore any previous", "override"},
	{"disregard previous", "override"}, {"disregard all previous", "override"},
	{"disregard prior", "override"}, {"disregard the above", "override"},
	{"disregard your", "override"}, {"forget previous instructions", "override"},
	{"forget all previous", "override"}, {"forget your instructions", "override"},
	{"new instructions:", "override"}, {"reveal your system prompt", "override"},
	{"<important>", "override"}, {"<system>", "override"}, {"[system]", "override"},
	{"<instructions>", "override"}, {"<|im_start|>", "override"},
	{"do not tell the user", "secrecy"}, {"don't tell the user", "secrecy"},
	{"do not mention", "secrecy"}, {"don't mention", "secrecy"}, {"without telling the user", "secrecy"},
	{"without informing", "secrecy"}, {"do not inform the user", "secrecy"},
	{"hide this from", "secrecy"}, {"the user will not see", "secrecy"}, {"user must not know", "secrecy"},
	{"do not reveal", "secrecy"}, {"never reveal", "secrecy"}, {"do not disclose", "secrecy"},
	{"~/.ssh", "read secrets"}, {".ssh/", "read secrets"}, {"id_rsa", "read secrets"},
	{"id_ed25519", "read secrets"}, {"~/.aws", "read secrets"}, {".aws/credentials", "read secrets"},
	{"/etc/passwd", "read secrets"}, {"/etc/shadow", "read secrets"}, {"mcp.json", "read secrets"},
	{"claude_desktop_config", "read secrets"}, {".npmrc", "read secrets"}, {".netrc", "read secrets"},
	{".git-credentials", "read secrets"}, {".pgpass", "read secrets"}, {".kube/config", "read secrets"},
	{"before using this tool", "call other tools"}, {"before calling this tool", "call other tools"},
	{"before using any other tool", "call other tools"}, {"you must call", "call other tools"},
	{"you must first", "call other tools"}, {"must always call", "call other tools"},
	{"always call the", "call other tools"}, {"first call the", "call other tools"},
	{"also call the", "call other tools"}, {"call this tool first", "call other tools"},
	{"call this tool before", "call other tools"}, {"do not use any other tool", "call other tools"},
	{"instead of using the", "call other tools"}, {"when this tool is available", "call other tools"},
	{"send the contents", "exfiltrate"}, {"include the contents", "exfiltrate"},
	{"pass the contents", "exfiltrate"}, {"pass its content", "exfiltrate"},
	{"contents of the file", "exfiltrate"}, {"exfiltrat", "exfiltrate"}, {"as a sidenote", "exfiltrate"},
}

// hidden names an invisible or direction-changing character, or "".
func hidden(r rune) string {
	switch {
	case r >= 0x200B && r <= 0x200F, r >= 0x2060 && r <= 0x2064, r == 0xFEFF, r == 0x00AD, r == 0x180E,
		r == 0x034F, r == 0x17B4, r == 0x17B5, r >= 0xFFF9 && r <= 0xFFFB:
		return "zero-width"
	case r == 0x115F, r == 0x1160, r == 0x3164, r == 0xFFA0:
		return "invisible filler"
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069, r == 0x061C:
		return "bidi control"
	case r >= 0xE0000 && r <= 0xE007F:
		return "tag"
	case r >= 0xE0100 && r <= 0xE01EF:
		return "variation selector"
	case r >= 0xE000 && r <= 0xF8FF, r >= 0xF0000:
		return "private use"
	case r < 0x20 && r != '\n' && r != '\t' && r != '\r', r >= 0x7F && r < 0xA0:
		return "control"
	}
	return ""
}

// texts runs the text checks (injection, unicode, long-text) over the
// title, the description and every string (keys too) in the schemas and
// annotations. On the way, it writes the tool's canonical form for pin:
// both read every object's keys in sorted order.
func (c *classifier) texts() {
	c.canon = appendCanonicalHeader(c.canon[:0], c.t)
	budget := maxTextTotal
	c.text(&place{key: "name"}, c.t.Name, &budget)
	c.text(&place{key: "title"}, c.t.Title, &budget)
	c.text(&place{key: "description"}, c.t.Description, &budget)
	// A text has no more runes than bytes: only a long one is counted.
	if len(c.t.Description) > longTextRunes {
		if n := utf8.RuneCountInString(c.t.Description); n > longTextRunes {
			c.add(SigLongText, "description-length", fmt.Sprintf("description is %d characters", n))
		}
	}
	for _, f := range []struct {
		name string
		raw  []byte
		v    int32
		ok   bool
	}{{"inputSchema", c.t.InputSchema, c.in, c.inOK}, {"outputSchema", c.t.OutputSchema, c.out, c.outOK}, {"annotations", c.t.Annotations, c.annv, c.aOK}} {
		if len(f.raw) == 0 {
			continue
		}
		if !f.ok {
			// The canonical form keeps what is not JSON as a string.
			c.canon = appendCanonicalField(c.canon, f.name, nil, -1, f.raw)
			// What the tree read (f.ok) is valid UTF-8: it checks first.
			if !utf8.Valid(f.raw) {
				c.add(SigUnicode, "invalid-utf8", f.name+" is not valid UTF-8")
			}
			continue
		}
		n := 0
		canon := c.tree.kindOf(f.v) != treeNull
		if canon {
			c.canon = append(c.canon, `,"`...)
			c.canon = append(c.canon, f.name...)
			c.canon = append(c.canon, `":`...)
		}
		c.walk(f.v, &place{key: f.name}, 0, &budget, &n, canon)
	}
	c.canon = append(c.canon, '}')
}

func (c *classifier) walkStrings(v int32, where *place, depth int, budget, nodes *int) {
	c.walk(v, where, depth, budget, nodes, false)
}

// walk is walkStrings over node v of c.tree, appending v's canonical form
// to c.canon when canon is set.
func (c *classifier) walk(v int32, where *place, depth int, budget, nodes *int, canon bool) {
	t := &c.tree
	if depth > maxDepth || *nodes > maxNodes {
		c.add(SigInjection, "text-unchecked", uncheckedNesting)
		c.appendCanon(v, canon)
		return
	}
	if *budget <= 0 {
		c.text(where, " ", budget) // records that the rest was not checked
		c.appendCanon(v, canon)
		return
	}
	*nodes++
	switch nd := &t.nodes[v]; nd.kind {
	case treeString:
		c.textOf(where, nd.str, budget)
		if canon {
			c.canon = appendCanonStr(c.canon, nd.str, nd.plain&plainStr != 0)
		}
	case treeArray:
		if canon {
			c.canon = append(c.canon, '[')
		}
		for i, x := range t.children(v) {
			if canon && i > 0 {
				c.canon = append(c.canon, ',')
			}
			c.walk(x, c.childPlace(x, place{parent: where, index: i, elem: true}), depth+1, budget, nodes, canon)
		}
		if canon {
			c.canon = append(c.canon, ']')
		}
	case treeObject:
		// The members are in key order.
		if canon {
			c.canon = append(c.canon, '{')
		}
		for i, x := range t.children(v) {
			k := t.nodes[x].key
			kp := place{parent: where, key: k, isKey: true}
			c.textOf(&kp, k, budget)
			if canon {
				if i > 0 {
					c.canon = append(c.canon, ',')
				}
				c.canon = appendCanonStr(c.canon, k, t.nodes[x].plain&plainKey != 0)
				c.canon = append(c.canon, ':')
			}
			c.walk(x, c.childPlace(x, place{parent: where, key: k}), depth+1, budget, nodes, canon)
		}
		if canon {
			c.canon = append(c.canon, '}')
		}
	default:
		c.appendCanon(v, canon)
	}
}

// textOf is text for the texts of schemas, most of which are a few
// usual words (internWords): for those in which the checks find nothing
// (internClean), it only counts them against the budget, unless the
// names of other servers' tools are looked for.
func (c *classifier) textOf(where *place, s string, budget *int) {
	if *budget > 0 && len(c.others) == 0 {
		if i := internIndex(s); i >= 0 && internClean[i] {
			*budget -= len(s)
			return
		}
	}
	c.text(where, s, budget)
}

// internClean tells the usual words in which the text checks find
// nothing, wherever they are: letters, digits and "$#_-" only (nothing
// hidden, no space, no address), and no phrase, "http" or ".env".
var internClean = func() (clean [len(internWords)]bool) {
	for i, w := range internWords {
		ok := true
		for j := 0; j < len(w); j++ {
			if c := w[j]; !isWordByte(c) && c != '$' && c != '#' && c != '-' {
				ok = false
			}
		}
		if ok {
			matches, hasHTTP, hasEnv := scanPhrases([]byte(strings.ToLower(w)))
			ok = len(matches) == 0 && !hasHTTP && !hasEnv
		}
		clean[i] = ok
	}
	return clean
}()

// appendCanon appends node v's canonical form to c.canon when canon is
// set.
func (c *classifier) appendCanon(v int32, canon bool) {
	if canon {
		c.canon = c.tree.appendCanon(c.canon, v)
	}
}

// childPlace is newPlace(p) for node x, a child of p.parent, when the walk
// may name it: a string, or a value that holds others. The walk never
// names a number, a boolean or null, which get p.parent.
func (c *classifier) childPlace(x int32, p place) *place {
	if k := c.tree.nodes[x].kind; k != treeString && k != treeArray && k != treeObject {
		return p.parent
	}
	return c.newPlace(p)
}

// newPlace returns a place that can be a parent of others, from blocks
// that are never reallocated: the walk of a schema allocated one place per
// string.
func (c *classifier) newPlace(p place) *place {
	if len(c.places) == cap(c.places) {
		c.places = make([]place, 0, min(max(2*cap(c.places), 32), 512))
	}
	c.places = append(c.places, p)
	return &c.places[len(c.places)-1]
}

// place names where a text sits ("inputSchema/properties/x"); the name is
// spelt out only when a finding needs it, which keeps the walk cheap.
type place struct {
	parent *place
	key    string
	index  int
	elem   bool // an array element: index, not key
	isKey  bool // the text is the object key itself
}

func (p *place) String() string {
	var parts []string
	for q := p; q != nil; q = q.parent {
		if q.elem {
			parts = append(parts, strconv.Itoa(q.index))
		} else {
			parts = append(parts, q.key)
		}
	}
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		b.WriteString(parts[i])
		if i > 0 {
			b.WriteByte('/')
		}
	}
	if p.isKey {
		b.WriteString(" (key)")
	}
	return b.String()
}

// text checks one string for hidden characters, whitespace padding and
// injection phrases. It reads at most maxTextScan bytes of it.
func (c *classifier) text(where *place, s string, budget *int) {
	if s == "" {
		return
	}
	if *budget <= 0 {
		c.add(SigInjection, "text-unchecked", fmt.Sprintf("texts past the %d bytes the scanner reads were not checked", maxTextTotal))
		return
	}
	if len(s) > maxTextScan {
		c.add(SigInjection, "text-unchecked", fmt.Sprintf("%s: %d bytes, past the %d the scanner reads; the rest was not checked", where.String(), len(s), maxTextScan))
		s = s[:maxTextScan]
	}
	*budget -= len(s)
	var tn textNorm
	norm := normText(c.buf[:0], s, &tn)
	spaceN := tn.spaceN
	for _, i := range tn.invalid {
		c.add(SigUnicode, "invalid-utf8", fmt.Sprintf("%s: invalid UTF-8 at byte %d", where.String(), i))
	}
	if len(tn.kinds) > 0 {
		names := make([]string, 0, len(tn.kinds))
		for k := range tn.kinds {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			if k == "zero-width" && typographicZWSP(where, s) {
				continue
			}
			ev := fmt.Sprintf("%s: %d %s character(s), first at byte %d", where.String(), tn.kinds[k], k, tn.first[k])
			if k == "tag" && tn.tagTxt.Len() > 0 {
				ev += fmt.Sprintf(" spelling %q", clip(tn.tagTxt.String(), 80))
			}
			c.add(SigUnicode, "hidden-character", ev)
		}
	}
	if c.onlyRefs {
		c.buf = norm
		c.crossRefs(where, norm)
		return
	}
	if spaceN >= longSpaceRun {
		c.add(SigLongText, "whitespace-padding", fmt.Sprintf("%s: run of %d whitespace characters", where.String(), spaceN))
	}
	if tn.tagTxt.Len() > 0 {
		norm = append(norm, ' ')
		norm = append(norm, strings.ToLower(tn.tagTxt.String())...)
	}
	c.buf = norm
	c.crossRefs(where, norm)
	matches, hasHTTP, hasEnv := scanPhrases(norm)
	c.exfilTarget(where, norm, hasHTTP)
	for _, m := range matches {
		p := allPhrases[m.phrase]
		if exemptMatch(norm, m.at, p) || p.kind == FamilyShadowing && (c.ownWorkflow(norm, m.at) || p.text == "before using any other" && c.ownKindOfTools(norm, m.at, m.at+len(p.text))) {
			continue
		}
		c.add(SigInjection, "description-phrase", fmt.Sprintf("%s asks the model to %s: %q", where.String(), p.kind, excerpt(string(norm), m.at, len(p.text))))
	}
	if !hasEnv {
		return
	}
	text := string(norm)
	if i := dotEnv(text); i >= 0 && readsNear(text[max(0, i-60):i]) {
		c.add(SigInjection, "description-phrase", fmt.Sprintf("%s asks the model to read secrets: %q", where.String(), excerpt(text, i, 4)))
	}
}

// maxTypoZWSP is how many zero-width spaces a description may hold as
// typography (typographicZWSP).
const maxTypoZWSP = 3

// typographicZWSP reports whether the zero-width characters of s, a text at
// where, are typography rather than hidden content: s is a description or
// the server's instructions (prose, not a name, key, title or value a
// person compares), every one of them is U+200B ZERO WIDTH SPACE, there
// are at most maxTypoZWSP, and each run of them has whitespace or a CJK
// character on one side. That is a line-break hint, as CJK text and text
// copied from web pages carry ("How \u200b\u200bto obtain"). It splits no
// word ("get\u200bweather" still counts), hides no phrase (the checks read
// the text without it), and a few of one code point spell nothing; runs
// that mix zero-width characters, many of them, or any in a name, tag
// characters and bidi controls stay hidden Unicode.
func typographicZWSP(where *place, s string) bool {
	if where.isKey || where.key != "description" && where.key != "instructions" {
		return false
	}
	n := 0
	prev := rune(0) // the rune before the current run, or 0
	inRun, runOK := false, false
	for _, r := range s {
		if r == 0x200B {
			n++
			if n > maxTypoZWSP {
				return false
			}
			if !inRun {
				inRun, runOK = true, breakSide(prev)
			}
			continue
		}
		if hidden(r) == "zero-width" {
			return false
		}
		if inRun {
			if !runOK && !breakSide(r) {
				return false
			}
			inRun = false
		}
		prev = r
	}
	return !inRun || runOK
}

// breakSide reports whether r, beside a zero-width space, makes it a
// break hint: whitespace, or a CJK character (which has no spaces
// between words to break at).
func breakSide(r rune) bool {
	if r == 0 || hidden(r) != "" {
		return false
	}
	return unicode.IsSpace(r) || unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) ||
		r >= 0x3000 && r <= 0x303F || r >= 0xFF00 && r <= 0xFFEF
}

// textNorm is a text as the checks read it: lower-case, whitespace runs
// collapsed to one space, invisible characters taken out; and what was
// found on the way.
type textNorm struct {
	norm   []byte
	spaceN int // the longest run of whitespace
	// invalid are the offsets of bytes that are not UTF-8.
	invalid []int
	// kinds counts the hidden characters of each kind, first is the
	// offset of the first of each; tagTxt is what tag characters spell.
	kinds, first map[string]int
	tagTxt       strings.Builder
}

// normASCII is normRunes for a text of printable ASCII, tabs and line
// breaks, the usual text, byte by byte. It reports false, having read only
// part of s, for any other text; otherwise it returns dst with the
// normalised text appended and sets tn.spaceN.
func normASCII(dst []byte, s string, tn *textNorm) ([]byte, bool) {
	dst, i, st := asciiPrefix(dst, s)
	tn.spaceN = st.spaceN
	return dst, i == len(s)
}

// normState is where normRunes is in a text.
type normState struct {
	space, spaceN int  // the whitespace run, the longest one
	lastSp        bool // the last byte written is the space of a run
	prev          rune // the last rune
}

// normText is normRunes, reading byte by byte (normASCII) up to the first
// byte that is not printable ASCII, a tab or a line break.
func normText(dst []byte, s string, tn *textNorm) []byte {
	dst, i, st := asciiPrefix(dst, s)
	if i == len(s) {
		tn.spaceN = st.spaceN
		return dst
	}
	normRunesFrom(dst, s, i, st, tn)
	return tn.norm
}

// asciiPrefix normalises s as normASCII does up to its first byte that is
// not printable ASCII, a tab or a line break, s[i]: it returns dst with
// s[:i] normalised appended, i, and where normRunes would be at s[i].
func asciiPrefix(dst []byte, s string) ([]byte, int, normState) {
	n := len(dst)
	dst = slices.Grow(dst, len(s))[:n+len(s)]
	j := n
	space, spaceN, lastSp := 0, 0, false
	i := 0
	for ; i < len(s); i++ {
		// Eight bytes at a time while they are printable ASCII with no
		// two spaces in a row (nor a space after one).
		for i+8 <= len(s) {
			w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
				uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
			lw, sp, ok := lowerPlain8(w)
			if !ok || sp&(sp<<8|boolU64(lastSp)<<7) != 0 {
				break
			}
			binary.LittleEndian.PutUint64(dst[j:], lw)
			j += 8
			i += 8
			if sp != 0 {
				spaceN = max(spaceN, 1)
			}
			lastSp = sp>>56 != 0
			space = 0
			if lastSp {
				space = 1
			}
		}
		if i >= len(s) {
			break
		}
		switch c := asciiClass[s[i]]; c {
		case 0:
			return dst[:j], i, asciiState(s, i, space, spaceN, lastSp)
		case ' ':
			space++
			if space > spaceN {
				spaceN = space
			}
			if !lastSp {
				dst[j] = ' '
				j++
			}
			lastSp = true
		default:
			space = 0
			lastSp = false
			dst[j] = c
			j++
		}
	}
	return dst[:j], i, asciiState(s, i, space, spaceN, lastSp)
}

func asciiState(s string, i, space, spaceN int, lastSp bool) normState {
	st := normState{space: space, spaceN: spaceN, lastSp: lastSp}
	if i > 0 {
		st.prev = rune(s[i-1])
	}
	return st
}

// lowerPlain8 lower-cases eight bytes of printable ASCII: w with its
// capitals lower-cased, the high bit of each byte that is a space set in
// sp; ok is false when w holds any other byte.
func lowerPlain8(w uint64) (lw, sp uint64, ok bool) {
	const ones, highs uint64 = 0x0101010101010101, 0x8080808080808080
	// A byte below 0x20 borrows or keeps its high bit clear in ^w; a byte
	// from 0x7F up has it set in w+1, or is followed by the carry of a
	// byte that has it.
	if (w-0x20*ones)&^w&highs != 0 || (w+ones|w)&highs != 0 {
		return 0, 0, false
	}
	// Every byte is now 0x20-0x7E: adding to one does not carry.
	upper := (w + (0x80-'A')*ones) &^ (w + (0x80-'Z'-1)*ones) & highs
	x := w ^ 0x20*ones // spaces become zero bytes
	sp = ^((x &^ highs) + ^highs*1 | x) & highs
	return w + upper>>2, sp, true
}

// boolU64 is 1 for true.
func boolU64(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// asciiClass maps the bytes normASCII reads to what it writes: a space
// for whitespace, the lower-case letter for a capital, the byte itself
// for the rest of printable ASCII; 0 for any other byte.
var asciiClass = func() (t [256]byte) {
	for c := 0x21; c < 0x7F; c++ {
		t[c] = byte(c)
		if 'A' <= c && c <= 'Z' {
			t[c] = byte(c) + 'a' - 'A'
		}
	}
	for _, c := range " \t\n\r" {
		t[c] = ' '
	}
	return t
}()

// normRunes normalises any text, rune by rune, into tn, its text appended
// to dst.
func normRunes(dst []byte, s string, tn *textNorm) {
	normRunesFrom(dst, s, 0, normState{}, tn)
}

// normRunesFrom is normRunes from s[from:], where it is in st.
func normRunesFrom(dst []byte, s string, from int, st normState, tn *textNorm) {
	var (
		norm   = dst
		space  = st.space
		spaceN = st.spaceN
		lastSp = st.lastSp
		prev   = st.prev
	)
	for i := from; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			tn.invalid = append(tn.invalid, i)
			i++
			continue
		}
		k := ""
		if r >= 0x20 && r < 0x7F {
			// printable ASCII: the common case
		} else if k = hidden(r); k == "" && r >= 0xFE00 && r <= 0xFE0F && !emojiVS(prev) {
			k = "variation selector"
		}
		prev = r
		if k != "" {
			if tn.kinds == nil {
				tn.kinds, tn.first = map[string]int{}, map[string]int{}
			}
			if tn.kinds[k] == 0 {
				tn.first[k] = i
			}
			tn.kinds[k]++
			if k == "tag" && r >= 0xE0020 && r <= 0xE007E {
				tn.tagTxt.WriteRune(r - 0xE0000)
			}
			i += size
			continue
		}
		if unicode.IsSpace(r) {
			space++
			if space > spaceN {
				spaceN = space
			}
			if !lastSp {
				norm = append(norm, ' ')
			}
			lastSp = true
		} else {
			space = 0
			lastSp = false
			if r < utf8.RuneSelf {
				if 'A' <= r && r <= 'Z' {
					r += 'a' - 'A'
				}
				norm = append(norm, byte(r))
			} else {
				norm = utf8.AppendRune(norm, unicode.ToLower(r))
			}
		}
		i += size
	}
	tn.norm, tn.spaceN = norm, spaceN
}

// dotEnv finds ".env" as a file name (not "process.env.X" or ".environment").
func dotEnv(s string) int {
	off := 0
	for {
		i := strings.Index(s[off:], ".env")
		if i < 0 {
			return -1
		}
		i += off
		before := i == 0 || !isWordByte(s[i-1])
		after := i+4 == len(s) || !isWordByte(s[i+4]) && s[i+4] != '.'
		if before && after {
			return i
		}
		off = i + 4
	}
}

func isWordByte(b byte) bool {
	return b == '_' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9'
}

// excerpt quotes up to 30 bytes either side of s[i:i+n], on rune bounds.
func excerpt(s string, i, n int) string {
	lo, hi := max(i-30, 0), min(i+n+30, len(s))
	for lo > 0 && !utf8.RuneStart(s[lo]) {
		lo--
	}
	for hi < len(s) && !utf8.RuneStart(s[hi]) {
		hi++
	}
	out := s[lo:hi]
	if lo > 0 {
		out = "…" + out
	}
	if hi < len(s) {
		out += "…"
	}
	return out
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// allPhrases are the phrases matched: injectionPhrases, then poisonPhrases.
var allPhrases = append(append([]phrase{}, injectionPhrases...), poisonPhrases...)

// injectionMatcher matches allPhrases, then the probes: "http" and ".env",
// which the checks for addresses and secret files look for first.
var injectionMatcher = newPhraseMatcher(phraseTexts(allPhrases), []string{"http", ".env"})

func phraseTexts(ps []phrase) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.text
	}
	return out
}

type phraseMatch struct{ phrase, at int }

// matchPhrases returns the first match of each phrase in text, in phrase
// order.
func matchPhrases(text []byte) []phraseMatch {
	out, _, _ := scanPhrases(text)
	return out
}

// scanPhrases is matchPhrases, and whether text holds "http" and ".env",
// in one pass.
func scanPhrases(text []byte) (out []phraseMatch, hasHTTP, hasEnv bool) {
	each(injectionMatcher, text, func(pi, at int) {
		switch pi - len(allPhrases) {
		case 0:
			hasHTTP = true
			return
		case 1:
			hasEnv = true
			return
		}
		for _, m := range out {
			if m.phrase == pi {
				return
			}
		}
		out = append(out, phraseMatch{pi, at})
	})
	slices.SortFunc(out, func(a, b phraseMatch) int { return a.phrase - b.phrase })
	return out, hasHTTP, hasEnv
}
