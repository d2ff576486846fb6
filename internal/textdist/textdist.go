// Package textdist measures how far apart two short strings are, for the
// "did you mean" of a misspelt configuration key or tool name.
package textdist

// Levenshtein is the edit distance between a and b: the fewest runes to
// insert, delete or replace to turn one into the other. It takes time in
// the product of their lengths: callers bound what they pass.
func Levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
