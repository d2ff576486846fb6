package redact

import (
	"errors"
	"fmt"
	"strings"
)

// ParsePointer splits an RFC 6901 JSON Pointer into its reference tokens,
// unescaped ("~1" is "/", "~0" is "~"). The pointer must name a member
// inside the arguments: "" (the whole arguments object) is refused, as are
// a pointer that does not start with "/" and a "~" not followed by 0 or 1.
//
// A token names an object member by its exact name, or an array element
// when it is a decimal index without leading zeros ("0", "12"); "-" (the
// element after the last) never names anything that exists.
func ParsePointer(p string) ([]string, error) {
	if p == "" {
		return nil, errors.New(`"" would mask the whole arguments object; name a member, such as "/password"`)
	}
	if p[0] != '/' {
		return nil, fmt.Errorf("%q is not a JSON Pointer: it must start with \"/\", as in \"/%s\"", p, p)
	}
	toks := strings.Split(p[1:], "/")
	for i, t := range toks {
		if !strings.Contains(t, "~") {
			continue
		}
		for j := 0; j < len(t); j++ {
			if t[j] == '~' && (j+1 == len(t) || (t[j+1] != '0' && t[j+1] != '1')) {
				return nil, fmt.Errorf("%q: \"~\" must be followed by 0 (for \"~\") or 1 (for \"/\")", p)
			}
		}
		toks[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return toks, nil
}

// trie holds compiled pointers: a node per reference token.
type trie struct {
	next map[string]*trie
	mask bool // a pointer ends here
}

func (t *trie) add(toks []string) {
	for _, tok := range toks {
		if t.mask {
			return // an enclosing value is masked already
		}
		if t.next == nil {
			t.next = map[string]*trie{}
		}
		n := t.next[tok]
		if n == nil {
			n = &trie{}
			t.next[tok] = n
		}
		t = n
	}
	t.mask = true
	t.next = nil
}

// child returns the node of member name, or nil.
func (t *trie) child(name string) *trie {
	if t == nil {
		return nil
	}
	return t.next[name]
}

// smallIndex holds the decimal forms of the array indexes child looks up
// without formatting them.
var smallIndex = func() [64]string {
	var s [64]string
	for i := range s {
		s[i] = fmt.Sprint(i)
	}
	return s
}()

// index returns the node of array element i, or nil.
func (t *trie) index(i int) *trie {
	if t == nil || len(t.next) == 0 {
		return nil
	}
	if i < len(smallIndex) {
		return t.next[smallIndex[i]]
	}
	return t.next[fmt.Sprint(i)]
}
