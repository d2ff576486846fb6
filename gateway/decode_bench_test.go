package gateway

import (
	"encoding/json"
	"strings"
	"testing"
)

// BenchmarkDecodeMessage measures the strict read and canonical re-encoding
// of one client message, against encoding/json's plain Unmarshal of the
// same bytes (which checks nothing and re-encodes nothing) for scale.
func BenchmarkDecodeMessage(b *testing.B) {
	small := []byte(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"UpdateUser","arguments":{"user_id":"user_2x","first_name":"Ada","last_name":"Lovelace","password":"correct horse battery staple","skip_password_checks":false},"_meta":{"progressToken":"p1"}}}`)
	var big strings.Builder
	big.WriteString(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"rows":[`)
	for i := 0; i < 2000; i++ {
		if i > 0 {
			big.WriteString(",")
		}
		big.WriteString(`{"id":12345,"email":"someone@example.com","note":"a line of text \"quoted\" and caf\u00e9"}`)
	}
	big.WriteString(`]}}}`)
	for _, tc := range []struct {
		name string
		body []byte
	}{{"small", small}, {"160KB", []byte(big.String())}} {
		b.Run(tc.name+"/strict", func(b *testing.B) {
			b.SetBytes(int64(len(tc.body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, e := decodeMessage(tc.body, 64); e != nil {
					b.Fatal(e.Message)
				}
			}
		})
		b.Run(tc.name+"/encoding-json", func(b *testing.B) {
			b.SetBytes(int64(len(tc.body)))
			b.ReportAllocs()
			for b.Loop() {
				var m struct {
					ID     any             `json:"id"`
					Method string          `json:"method"`
					Params json.RawMessage `json:"params"`
				}
				if err := json.Unmarshal(tc.body, &m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
