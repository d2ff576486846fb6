package toolgate

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Code classifies an Error. Each code maps once to an HTTP status, a
// JSON-RPC error code and a CLI exit code.
type Code string

// The error codes.
const (
	Invalid      Code = "invalid"
	NotFound     Code = "not_found"
	Unauthorized Code = "unauthorized"
	Forbidden    Code = "forbidden"
	Conflict     Code = "conflict"
	RateLimited  Code = "rate_limited"
	Unavailable  Code = "unavailable"
	Internal     Code = "internal"
)

// Error is the one error type of toolgate. Message is safe to show to users;
// internal detail belongs in the wrapped error and the log.
type Error struct {
	Code    Code
	Message string
	Err     error
}

// Errorf returns an *Error with a formatted, user-safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// ErrorCode returns the code of the first *Error in err's chain, or Internal.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// ErrorMessage returns the user-safe message of err: the Message of the first
// *Error in its chain, or a generic text that leaks nothing.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// HTTPStatus maps a code to an HTTP status.
func HTTPStatus(c Code) int {
	switch c {
	case Invalid:
		return 400
	case NotFound:
		return 404
	case Unauthorized:
		return 401
	case Forbidden:
		return 403
	case Conflict:
		return 409
	case RateLimited:
		return 429
	case Unavailable:
		return 503
	}
	return 500
}

// ExitCode maps a code to a CLI exit code.
func ExitCode(c Code) int {
	switch c {
	case Invalid:
		return 1
	case NotFound:
		return 3
	case Unauthorized, Forbidden:
		return 4
	case Conflict:
		return 5
	case RateLimited:
		return 6
	case Unavailable:
		return 7
	}
	return 2
}

// FieldError is one problem in a document a person wrote (a configuration
// file, a policy), with the position of the offending key or value.
type FieldError struct {
	// File is the name the document was loaded under ("" when it has none).
	File string
	// Line and Column are 1-based; Column counts characters, not bytes.
	Line, Column int
	// Path names the value at fault: dotted for configuration fields
	// ("servers.clerk.url"), a JSON Pointer in policies; "" for the document.
	Path string
	// Message says what is wrong; it repeats neither position nor path.
	Message string
}

// Error formats the error as "file:line:col: path: message", leaving out
// "file:" and "path: " when they are empty.
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

// ErrorList is every problem found in one document, in document order.
// errors.As sees it as an *Error with the code Invalid, so it maps to HTTP
// 400 and exit code 1.
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

// As lets errors.As see the list as an *Error with the code Invalid; its
// message is the list itself, which speaks only of the user's own document.
func (l ErrorList) As(target any) bool {
	if t, ok := target.(**Error); ok {
		*t = &Error{Code: Invalid, Message: l.Error(), Err: l}
		return true
	}
	return false
}

// Sort orders the list by position, keeping the order of errors found at
// the same position.
func (l ErrorList) Sort() {
	sort.SliceStable(l, func(i, j int) bool {
		if l[i].Line != l[j].Line {
			return l[i].Line < l[j].Line
		}
		return l[i].Column < l[j].Column
	})
}
