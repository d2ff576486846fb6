package policy

import (
	"testing"
	"time"
)

func TestTimeout(t *testing.T) {
	e := mustLoad(t, `
version: "1"
default: allow
tools:
  Search: {timeout: 45s}
  Export: {timeout: 90}
  Report: {timeout: 2.5}
  Slow: {timeout: "1h30m"}
  Quoted: {timeout: "30"}
  clerk_*: {timeout: 10s}
  clerk_Get*: {}
  Unset: {timeout: null}
  "@destructive": {timeout: 5m}
`)
	tests := []struct {
		tool string
		cats []string
		want time.Duration
	}{
		{"Search", nil, 45 * time.Second},
		{"Export", nil, 90 * time.Second},
		{"Report", nil, 2500 * time.Millisecond},
		{"Slow", nil, 90 * time.Minute},
		{"Quoted", nil, 30 * time.Second},
		{"clerk_UpdateUser", nil, 10 * time.Second},
		{"clerk_GetUser", nil, 0}, // the longer glob wins and sets none
		{"Unset", nil, 0},
		{"DropTable", []string{"destructive"}, 5 * time.Minute},
		{"Search", []string{"destructive"}, 45 * time.Second}, // exact beats category
		{"Other", nil, 0},                                     // no rule: default allow
	}
	for _, tt := range tests {
		if got := e.Timeout(tt.tool, tt.cats); got != tt.want {
			t.Errorf("Timeout(%s, %v) = %v, want %v", tt.tool, tt.cats, got, tt.want)
		}
	}
	if got := NoPolicy().Timeout("Search", nil); got != 0 {
		t.Errorf("nil engine: %v", got)
	}
}

func TestTimeoutErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []wantErr
	}{
		{"no unit", `{"version":"1","default":"deny","tools":{"a":{"timeout":"45x"}}}`,
			[]wantErr{{1, 57, "/tools/a/timeout", `timeout must be a duration such as "45s" or a number of seconds, not "45x"`}}},
		{"zero", `{"version":"1","default":"deny","tools":{"a":{"timeout":0}}}`,
			[]wantErr{{1, 57, "/tools/a/timeout", "more than zero"}}},
		{"negative duration", `{"version":"1","default":"deny","tools":{"a":{"timeout":"-5s"}}}`,
			[]wantErr{{1, 57, "/tools/a/timeout", "more than zero"}}},
		{"too long", "version: \"1\"\ndefault: deny\ntools:\n  a:\n    timeout: 25h\n",
			[]wantErr{{5, 14, "/tools/a/timeout", "at most 24h0m0s"}}},
		{"too many seconds", "version: \"1\"\ndefault: deny\ntools:\n  a:\n    timeout: 86401\n",
			[]wantErr{{5, 14, "/tools/a/timeout", "at most 24h0m0s"}}},
		{"object", `{"version":"1","default":"deny","tools":{"a":{"timeout":{"s":1}}}}`,
			[]wantErr{{1, 57, "/tools/a/timeout", "timeout must be a duration"}}},
		{"boolean", `{"version":"1","default":"deny","tools":{"a":{"timeout":true}}}`,
			[]wantErr{{1, 57, "/tools/a/timeout", "timeout must be a duration"}}},
		{"with other errors", `{"version":"1","default":"deny","tools":{"a":{"timeout":"soon"},"b":{"timeout":"1s","pinned":1}}}`,
			[]wantErr{{1, 57, "/tools/a/timeout", `not "soon"`}, {1, 94, "/tools/b/pinned", "must be true or false"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkErrors(t, tt.doc, tt.want) })
	}
}
