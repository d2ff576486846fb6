package secret

import (
	_ "embed"
	"strings"
	"sync"
)

// breachedList is the 30,000 most common passwords of leaked-password
// corpora, one per line, lowercase; data/README.md says where it comes from.
//
//go:embed data/breached.txt
var breachedList string

// breachedSet parses breachedList on first use.
var breachedSet = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, 30000)
	for line := range strings.SplitSeq(breachedList, "\n") {
		if line = strings.TrimSuffix(line, "\r"); line != "" {
			set[line] = struct{}{}
		}
	}
	return set
})

// Breached reports whether plain is one of the shipped common breached
// passwords. The list is lowercase and the match is on the lowercased
// password (strings.ToLower), otherwise exact: "Password" and "PASSWORD"
// match "password", "password1" does not match "password", and no
// whitespace is trimmed.
func Breached(plain string) bool {
	if plain == "" {
		return false
	}
	_, ok := breachedSet()[strings.ToLower(plain)]
	return ok
}
