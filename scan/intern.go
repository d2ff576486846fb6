package scan

// Most strings of tool schemas are a few JSON Schema words ("type",
// "string", "description"...). The readers return these as the strings of
// internWords, so that decoding a schema does not allocate a string, and
// an interface value holding one, for each of them.

// internWords are the usual words.
var internWords = [...]string{
	"type", "description", "properties", "additionalProperties", "required", "$schema", "enum",
	"items", "readOnlyHint", "$ref", "default", "destructiveHint", "const", "minLength", "title",
	"openWorldHint", "format", "anyOf", "oneOf", "allOf", "name", "id", "maximum", "maxLength",
	"minimum", "pattern", "idempotentHint", "examples", "minItems", "maxItems", "$defs",
	"definitions", "exclusiveMinimum", "propertyNames", "nullable", "string", "object", "array",
	"number", "boolean", "null", "integer", "http://json-schema.org/draft-07/schema#",
	"https://json-schema.org/draft/2020-12/schema", "uri", "date-time", "email", "uuid",
}

// internBoxed holds internWords as interface values, boxed once.
var internBoxed = func() (a [len(internWords)]any) {
	for i, w := range internWords {
		a[i] = w
	}
	return a
}()

// internTable is the size of internSlots.
const internTable = 256

// internSlots is a hash table of internWords, open addressing: a slot
// holds the index in internWords of a word plus one, 0 when empty.
var internSlots = func() (t [internTable]uint8) {
	for i, w := range internWords {
		h := internHash(w)
		for t[h] != 0 {
			h = (h + 1) % internTable
		}
		t[h] = uint8(i + 1)
	}
	return t
}()

func internHash[T string | []byte](s T) int {
	if len(s) == 0 {
		return 0
	}
	return (len(s)*31 + int(s[0])*7 + int(s[len(s)-1])) % internTable
}

// internIndex is the index of s in internWords, or -1.
func internIndex[T string | []byte](s T) int {
	for h := internHash(s); internSlots[h] != 0; h = (h + 1) % internTable {
		if i := int(internSlots[h]) - 1; internWords[i] == string(s) {
			return i
		}
	}
	return -1
}

// internStr returns s as a string of internWords when it is one of them.
func internStr(s []byte) (string, bool) {
	if i := internIndex(s); i >= 0 {
		return internWords[i], true
	}
	return "", false
}

// internAny is internStr as an interface value.
func internAny(s string) (any, bool) {
	if i := internIndex(s); i >= 0 {
		return internBoxed[i], true
	}
	return nil, false
}
