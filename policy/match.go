package policy

import (
	"path"
	"strings"
)

// Risk categories, in the order their rules take precedence when a tool has
// several: destructive, financial, write, read.
const (
	catDestructive = iota
	catFinancial
	catWrite
	catRead
	nCats
)

var catNames = [nCats]string{"destructive", "financial", "write", "read"}

type patKind int

const (
	patInvalid patKind = iota
	patExact
	patGlob
	patCategory
)

type pattern struct {
	kind    patKind
	literal int // literal characters, for globs
	cat     int // category index, -1 when unknown
}

// classify tells exact names, globs ('*', '?', '[' or '\\' inside) and risk
// categories ("@read" ...) apart.
func classify(name string) pattern {
	switch {
	case name == "":
		return pattern{kind: patInvalid}
	case strings.HasPrefix(name, "@"):
		p := pattern{kind: patCategory, cat: -1}
		for i, c := range catNames {
			if name[1:] == c {
				p.cat = i
			}
		}
		return p
	case strings.ContainsAny(name, `*?[\`):
		return pattern{kind: patGlob, literal: literalCount(name)}
	}
	return pattern{kind: patExact, literal: len(name)}
}

// literalCount counts the characters of a glob that must appear as such in a
// matching name; wildcards and character classes count zero.
func literalCount(p string) int {
	n := 0
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '*', '?':
		case '\\':
			i++
			n++
		case '[':
			if j := strings.IndexByte(p[i:], ']'); j >= 0 {
				i += j
			}
		default:
			n++
		}
	}
	return n
}

// globMatch matches a name against a validated glob.
func globMatch(pattern, name string) bool {
	ok, _ := path.Match(pattern, name)
	return ok
}

// catIndex returns the category index of a category name, or -1.
func catIndex(c string) int {
	for i, n := range catNames {
		if strings.EqualFold(c, n) {
			return i
		}
	}
	return -1
}
