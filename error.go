package toolgate

import (
	"errors"
	"fmt"
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
