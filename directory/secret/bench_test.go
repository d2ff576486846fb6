package secret

import (
	"slices"
	"testing"
)

// BenchmarkVerifyPassword verifies one vector per hasher (the first of
// publishedVectors, else of generatedVectors) with the right password.
func BenchmarkVerifyPassword(b *testing.B) {
	all := append(slices.Clone(publishedVectors), generatedVectors(b)...)
	all = append(all, vector{hasher: "awscognito", digest: "awscognito#us-east-1_abc#client#user"})
	for _, h := range Hashers() {
		i := slices.IndexFunc(all, func(v vector) bool { return v.hasher == h })
		if i < 0 {
			b.Fatalf("no vector for %s", h)
		}
		v := all[i]
		b.Run(h, func(b *testing.B) {
			for b.Loop() {
				_, _ = VerifyPassword(v.hasher, v.digest, v.plain)
			}
		})
	}
}
