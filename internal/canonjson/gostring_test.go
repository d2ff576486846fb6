package canonjson

import (
	"bytes"
	"encoding/json"
	"testing"
)

func goString(s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// AppendGoString writes what encoding/json writes, HTML escaping off.
func FuzzAppendGoString(f *testing.F) {
	for _, s := range []string{"", "plain", "<a href='x'>&</a>", "q\"b\\s", "\x00\x1f\b\f\n\r\t\x7f",
		"\u0085 NEL", "\u2028\u2029", "\xff\xfe", "é日本\U0001F600", "\xed\xa0\x80",
		"a plain text longer than eight bytes", "twelve bytes\\then \"a quote\" and\ttab", "sixteen bytes ok\u2028 and é after", "abcdefgh\x7fijklmnop\x1f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := AppendGoString(nil, s), goString(s); !bytes.Equal(got, want) {
			t.Fatalf("AppendGoString(%q) = %s, encoding/json writes %s", s, got, want)
		}
	})
}
