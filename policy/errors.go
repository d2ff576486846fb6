package policy

import "github.com/toolgate/toolgate"

// FieldError is one problem found in a policy document; Path is a JSON
// Pointer to the value at fault ("" for the document).
type FieldError = toolgate.FieldError

// ErrorList is every problem found in a policy document, in document order.
// Load returns one whenever a document is refused.
type ErrorList = toolgate.ErrorList
