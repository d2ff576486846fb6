package audit

import "testing"

func TestNestsAtMost(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want bool
	}{
		{``, 0, true},
		{`{}`, 1, true},
		{`{}`, 0, false},
		{`[[1],[2]]`, 2, true},
		{`[[[1]]]`, 2, false},
		{`{"a":"[[[[{{{{"}`, 1, true},
		{`{"a":"\"[[[["}`, 1, true},
		{`{"a":"\\"}`, 1, true},
		{`{"a":"\\","b":[[1]]}`, 2, false},
		{`{"k[":{"k{":[]}}`, 3, true},
	}
	for _, tt := range tests {
		if got := nestsAtMost([]byte(tt.in), tt.max); got != tt.want {
			t.Errorf("nestsAtMost(%s, %d) = %v, want %v", tt.in, tt.max, got, tt.want)
		}
	}
}
