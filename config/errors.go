package config

import (
	"fmt"
	"sort"
	"strings"

	"github.com/toolgate/toolgate"
)

// FieldError is one problem in a configuration file, with the position of
// the offending key or value.
type FieldError struct {
	// File is the name the configuration was loaded from.
	File string
	// Line and Column are 1-based; Column counts characters, not bytes.
	Line, Column int
	// Path names the field in dotted form, e.g. "servers.clerk.url"; it is
	// empty for errors about the document as a whole.
	Path string
	// Message says what is wrong; it repeats neither position nor path.
	Message string
}

// Error formats the error as "file:line:col: path: message" (without
// "path: " when Path is empty).
func (e *FieldError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Message)
	}
	return fmt.Sprintf("%s:%d:%d: %s: %s", e.File, e.Line, e.Column, e.Path, e.Message)
}

// ErrorList is every problem found in a configuration file, in file order.
// It is what Load and Parse return when the file is invalid; it matches
// errors.As(err, **toolgate.Error) with the code toolgate.Invalid.
type ErrorList []*FieldError

// Error formats the list one error per line.
func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the individual errors, for errors.Is and errors.As.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// As lets errors.As see an ErrorList as a *toolgate.Error with the code
// toolgate.Invalid, so that it maps to HTTP 400 and exit code 1.
func (l ErrorList) As(target any) bool {
	if t, ok := target.(**toolgate.Error); ok {
		*t = &toolgate.Error{Code: toolgate.Invalid, Message: "invalid configuration", Err: l}
		return true
	}
	return false
}

// sort orders the list by position, keeping the order of errors found at
// the same position.
func (l ErrorList) sort() {
	sort.SliceStable(l, func(i, j int) bool {
		if l[i].Line != l[j].Line {
			return l[i].Line < l[j].Line
		}
		return l[i].Column < l[j].Column
	})
}
