package scan

// Most strings of tool schemas are a few JSON Schema words ("type",
// "string", "description"...). The readers return these as constants, so
// that decoding a schema does not allocate a string, and an interface
// value holding one, for each of them.

// internStr returns s as a constant when it is one of the usual words.
func internStr(s []byte) (string, bool) {
	switch string(s) {
	case "type":
		return "type", true
	case "description":
		return "description", true
	case "properties":
		return "properties", true
	case "additionalProperties":
		return "additionalProperties", true
	case "required":
		return "required", true
	case "$schema":
		return "$schema", true
	case "enum":
		return "enum", true
	case "items":
		return "items", true
	case "readOnlyHint":
		return "readOnlyHint", true
	case "$ref":
		return "$ref", true
	case "default":
		return "default", true
	case "destructiveHint":
		return "destructiveHint", true
	case "const":
		return "const", true
	case "minLength":
		return "minLength", true
	case "title":
		return "title", true
	case "openWorldHint":
		return "openWorldHint", true
	case "format":
		return "format", true
	case "anyOf":
		return "anyOf", true
	case "oneOf":
		return "oneOf", true
	case "allOf":
		return "allOf", true
	case "name":
		return "name", true
	case "id":
		return "id", true
	case "maximum":
		return "maximum", true
	case "maxLength":
		return "maxLength", true
	case "minimum":
		return "minimum", true
	case "pattern":
		return "pattern", true
	case "idempotentHint":
		return "idempotentHint", true
	case "examples":
		return "examples", true
	case "minItems":
		return "minItems", true
	case "maxItems":
		return "maxItems", true
	case "$defs":
		return "$defs", true
	case "definitions":
		return "definitions", true
	case "exclusiveMinimum":
		return "exclusiveMinimum", true
	case "propertyNames":
		return "propertyNames", true
	case "nullable":
		return "nullable", true
	case "string":
		return "string", true
	case "object":
		return "object", true
	case "array":
		return "array", true
	case "number":
		return "number", true
	case "boolean":
		return "boolean", true
	case "null":
		return "null", true
	case "integer":
		return "integer", true
	case "http://json-schema.org/draft-07/schema#":
		return "http://json-schema.org/draft-07/schema#", true
	case "https://json-schema.org/draft/2020-12/schema":
		return "https://json-schema.org/draft/2020-12/schema", true
	case "uri":
		return "uri", true
	case "date-time":
		return "date-time", true
	case "email":
		return "email", true
	case "uuid":
		return "uuid", true
	}
	return "", false
}

// internAny is internStr as an interface value.
func internAny(s string) (any, bool) {
	switch s {
	case "type":
		return "type", true
	case "description":
		return "description", true
	case "properties":
		return "properties", true
	case "additionalProperties":
		return "additionalProperties", true
	case "required":
		return "required", true
	case "$schema":
		return "$schema", true
	case "enum":
		return "enum", true
	case "items":
		return "items", true
	case "readOnlyHint":
		return "readOnlyHint", true
	case "$ref":
		return "$ref", true
	case "default":
		return "default", true
	case "destructiveHint":
		return "destructiveHint", true
	case "const":
		return "const", true
	case "minLength":
		return "minLength", true
	case "title":
		return "title", true
	case "openWorldHint":
		return "openWorldHint", true
	case "format":
		return "format", true
	case "anyOf":
		return "anyOf", true
	case "oneOf":
		return "oneOf", true
	case "allOf":
		return "allOf", true
	case "name":
		return "name", true
	case "id":
		return "id", true
	case "maximum":
		return "maximum", true
	case "maxLength":
		return "maxLength", true
	case "minimum":
		return "minimum", true
	case "pattern":
		return "pattern", true
	case "idempotentHint":
		return "idempotentHint", true
	case "examples":
		return "examples", true
	case "minItems":
		return "minItems", true
	case "maxItems":
		return "maxItems", true
	case "$defs":
		return "$defs", true
	case "definitions":
		return "definitions", true
	case "exclusiveMinimum":
		return "exclusiveMinimum", true
	case "propertyNames":
		return "propertyNames", true
	case "nullable":
		return "nullable", true
	case "string":
		return "string", true
	case "object":
		return "object", true
	case "array":
		return "array", true
	case "number":
		return "number", true
	case "boolean":
		return "boolean", true
	case "null":
		return "null", true
	case "integer":
		return "integer", true
	case "http://json-schema.org/draft-07/schema#":
		return "http://json-schema.org/draft-07/schema#", true
	case "https://json-schema.org/draft/2020-12/schema":
		return "https://json-schema.org/draft/2020-12/schema", true
	case "uri":
		return "uri", true
	case "date-time":
		return "date-time", true
	case "email":
		return "email", true
	case "uuid":
		return "uuid", true
	}
	return nil, false
}
