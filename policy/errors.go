package policy

import (
	"fmt"
	"strings"

	"github.com/toolgate/toolgate"
)

// FieldError is one problem found in a policy document.
type FieldError struct {
	// File is the name the document was loaded under.
	File string
	// Line and Column locate the problem, both counted from 1.
	Line, Column int
	// Path is a JSON Pointer to the value at fault ("" for the document).
	Path string
	// Message says what is wrong, in words meant for the policy's author.
	Message string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteByte(':')
	}
	fmt.Fprintf(&b, "%d:%d: ", e.Line, e.Column)
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// ErrorList is every problem found in a policy document, in document order.
// Load returns one whenever a document is refused.
//
// An ErrorList is treated by errors.As as a *toolgate.Error with code
// toolgate.Invalid, so toolgate.ErrorCode reports Invalid for it.
type ErrorList []*FieldError

func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "policy: no errors"
	case 1:
		return "policy: " + l[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "policy: %d errors:", len(l))
	for _, e := range l {
		b.WriteString("\n\t")
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap returns the individual errors.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// As lets errors.As see an ErrorList as a *toolgate.Error (code Invalid).
func (l ErrorList) As(target any) bool {
	if t, ok := target.(**toolgate.Error); ok {
		*t = &toolgate.Error{Code: toolgate.Invalid, Message: l.Error()}
		return true
	}
	return false
}
