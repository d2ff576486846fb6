package scan

// phraseMatcher finds, in one pass over a text, which of a set of phrases
// it holds: a table of the phrases' first two bytes picks the few phrases
// that may start at each offset. The set is made of lists (the injection
// phrases; the phrase lists of each signal rule), and each list keeps its
// order, which decides which phrase a rule quotes.
type phraseMatcher struct {
	phrases []string
	// lists[k] is where list k starts in phrases; lists[k+1] where it ends.
	lists []int
	// bucket is, by a phrase's first two bytes, 1 + the index in groups
	// of the phrases starting with them (0: none).
	bucket [1 << 16]uint8
	groups [][]uint16
	minLen int
	// quads is a filter of the phrases' first four bytes, by quadHash,
	// when every phrase has four: one test per offset of the text rules
	// out nearly all of them.
	quads [1 << 16 / 64]uint64
}

// quadHash hashes four bytes to 16 bits.
func quadHash(k uint32) uint32 { return k * 0x9E3779B1 >> 16 }

// newPhraseMatcher matches the phrases of lists, each of at least two
// bytes; there may be up to 255 distinct first byte pairs.
func newPhraseMatcher(lists ...[]string) *phraseMatcher {
	m := &phraseMatcher{minLen: 1 << 30}
	for _, l := range lists {
		m.lists = append(m.lists, len(m.phrases))
		m.phrases = append(m.phrases, l...)
	}
	m.lists = append(m.lists, len(m.phrases))
	for i, p := range m.phrases {
		k := uint16(p[0])<<8 | uint16(p[1])
		if m.bucket[k] == 0 {
			m.groups = append(m.groups, nil)
			m.bucket[k] = uint8(len(m.groups))
		}
		g := m.bucket[k] - 1
		m.groups[g] = append(m.groups[g], uint16(i))
		m.minLen = min(m.minLen, len(p))
		if len(p) >= 4 {
			h := quadHash(uint32(p[0]) | uint32(p[1])<<8 | uint32(p[2])<<16 | uint32(p[3])<<24)
			m.quads[h/64] |= 1 << (h % 64)
		}
	}
	return m
}

// each calls f with every phrase found in text (its index in the set) and
// where, in the order of the text and, at one offset, of the set.
func each[T string | []byte](m *phraseMatcher, text T, f func(phrase, at int)) {
	if len(text) < m.minLen {
		return
	}
	if m.minLen >= 4 {
		var k uint32
		for i := 0; i+4 <= len(text); i++ {
			if i == 0 {
				k = uint32(text[0]) | uint32(text[1])<<8 | uint32(text[2])<<16 | uint32(text[3])<<24
			} else {
				k = k>>8 | uint32(text[i+3])<<24
			}
			if h := quadHash(k); m.quads[h/64]&(1<<(h%64)) == 0 {
				continue
			}
			phrasesAt(m, text, i, f)
		}
		return
	}
	for i := 0; i+1 < len(text); i++ {
		phrasesAt(m, text, i, f)
	}
}

// phrasesAt calls f with the phrases of m found at text[i:].
func phrasesAt[T string | []byte](m *phraseMatcher, text T, i int, f func(phrase, at int)) {
	b := m.bucket[uint16(text[i])<<8|uint16(text[i+1])]
	if b == 0 {
		return
	}
	for _, pi := range m.groups[b-1] {
		p := m.phrases[pi]
		if len(text)-i >= len(p) && string(text[i:i+len(p)]) == p {
			f(int(pi), i)
		}
	}
}

// phraseHits are the phrases of a set that a text holds.
type phraseHits struct {
	m    *phraseMatcher
	bits []uint64
}

// hits returns the phrases of the set that text holds.
func hits[T string | []byte](m *phraseMatcher, text T) phraseHits {
	h := phraseHits{m: m}
	each(m, text, func(pi, _ int) {
		if h.bits == nil {
			h.bits = make([]uint64, (len(m.phrases)+63)/64)
		}
		h.bits[pi/64] |= 1 << (pi % 64)
	})
	return h
}

// has reports whether the text holds phrase i of the set.
func (h phraseHits) has(i int) bool {
	return h.bits != nil && h.bits[i/64]&(1<<(i%64)) != 0
}

// first is anyPhrase for list k of the set: the list's first phrase that
// the text holds.
func (h phraseHits) first(k int) (string, bool) {
	if h.bits == nil {
		return "", false
	}
	for i := h.m.lists[k]; i < h.m.lists[k+1]; i++ {
		if h.has(i) {
			return h.m.phrases[i], true
		}
	}
	return "", false
}

// firstWhere is first for the phrases of list k that ok accepts.
func (h phraseHits) firstWhere(k int, ok func(string) bool) (string, bool) {
	if h.bits == nil {
		return "", false
	}
	for i := h.m.lists[k]; i < h.m.lists[k+1]; i++ {
		if h.has(i) && ok(h.m.phrases[i]) {
			return h.m.phrases[i], true
		}
	}
	return "", false
}

// says is saysAny for list k of the set, over the text h was found in.
func (h phraseHits) says(text string, k int) (string, bool) {
	if h.bits == nil {
		return "", false
	}
	for i := h.m.lists[k]; i < h.m.lists[k+1]; i++ {
		if h.has(i) && says(text, h.m.phrases[i]) {
			return h.m.phrases[i], true
		}
	}
	return "", false
}
