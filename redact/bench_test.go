package redact

import (
	"encoding/json"
	"testing"
)

// updateUserArgs are the arguments of a Clerk-style UpdateUser call, as
// the gateway decodes them.
func updateUserArgs() map[string]any {
	return map[string]any{
		"user_id": "user_2x8FqXJ3vZ", "first_name": "Ada", "last_name": "Lovelace",
		"password": "correct-horse-battery-staple", "password_digest": "$2a$10$N9qo8uLOickgx2ZMRZoMye",
		"totp_secret": "JBSWY3DPEHPK3PXP", "backup_codes": []any{"a1b2c3", "d4e5f6", "g7h8i9"},
		"skip_password_checks": false, "public_metadata": map[string]any{"plan": "pro", "seats": 5.0},
		"external_id": "ext-123", "notes": "moved from the old system",
	}
}

// BenchmarkArgs is the cost per audited call.
func BenchmarkArgs(b *testing.B) {
	args := updateUserArgs()
	r, err := New("/public_metadata/plan")
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		r    *Redactor
	}{{"default", nil}, {"pointer", r}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bc.r.Args(args)
			}
		})
	}
}

// BenchmarkEncodingJSON is the floor: encoding the same arguments with
// encoding/json, nothing masked.
func BenchmarkEncodingJSON(b *testing.B) {
	args := updateUserArgs()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(args); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValue(b *testing.B) {
	args := updateUserArgs()
	b.ReportAllocs()
	for b.Loop() {
		Value(args)
	}
}

func BenchmarkJSON(b *testing.B) {
	raw, _ := json.Marshal(updateUserArgs())
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := JSON(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIsSecretKey(b *testing.B) {
	keys := []string{"user_id", "password_digest", "X-Api-Key", "max_tokens", "skip_password_checks", "publicMetadata"}
	b.ReportAllocs()
	for b.Loop() {
		for _, k := range keys {
			IsSecretKey(k)
		}
	}
}
