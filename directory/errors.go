package directory

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/toolgate/toolgate"
)

// Clerk error codes the directory returns. The ones Clerk documents keep
// their documented meaning; docs/directory.md lists where the directory had
// to choose a code the reference does not name.
const (
	CodeAuthenticationInvalid    = "authentication_invalid"
	CodeHeaderFormatInvalid      = "authorization_header_format_invalid"
	CodeKeyInvalid               = "clerk_key_invalid"
	CodeNotFound                 = "resource_not_found"
	CodeFormatInvalid            = "form_param_format_invalid"
	CodeValueInvalid             = "form_param_value_invalid"
	CodeParamMissing             = "form_param_missing"
	CodeParamUnknown             = "form_param_unknown"
	CodeParamDeprecated          = "form_param_deprecated"
	CodeParamTooLarge            = "form_param_exceeds_allowed_size"
	CodeIdentifierExists         = "form_identifier_exists"
	CodePasswordTooShort         = "form_password_length_too_short"
	CodePasswordTooLong          = "form_password_length_too_long"
	CodePasswordPwned            = "form_password_pwned"
	CodePasswordIncorrect        = "form_password_incorrect"
	CodePasswordNotSet           = "form_password_not_set"
	CodePasswordPendingMigration = "form_password_pending_migration"
	CodeUsernameLength           = "form_username_invalid_length"
	CodeUsernameCharacter        = "form_username_invalid_character"
	CodeRequestBodyInvalid       = "request_body_invalid"
	CodeRequestBodyTooLarge      = "request_body_too_large"
	CodeMethodNotAllowed         = "method_not_allowed"
	CodeInternal                 = "internal_clerk_error"
)

// Error is a failure with the shape of one entry of Clerk's error envelope:
// an HTTP status, a Clerk error code, a short message, a long message and
// the parameter it concerns. Every error the Service returns for a caller's
// mistake is an *Error; anything else is an internal failure.
//
// An *Error also answers errors.As with a *toolgate.Error, so the rest of
// toolgate (CLI exit codes, MCP results) classifies it without knowing
// Clerk's codes.
type Error struct {
	// Status is the HTTP status (401, 404, 422, ...).
	Status int
	// Code is Clerk's machine-readable code, e.g. "form_identifier_exists".
	Code string
	// Message is Clerk's short message, e.g. "not found".
	Message string
	// LongMessage is a sentence that says what went wrong.
	LongMessage string
	// Param names the request parameter at fault ("" when none); it is
	// sent as meta.param_name.
	Param string
	// Err is internal detail, never shown to callers.
	Err error
}

func (e *Error) Error() string {
	s := e.Code + ": " + e.LongMessage
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// As lets errors.As find a *toolgate.Error in a chain holding an *Error.
func (e *Error) As(target any) bool {
	t, ok := target.(**toolgate.Error)
	if !ok {
		return false
	}
	*t = &toolgate.Error{Code: toolgateCode(e.Status), Message: e.LongMessage}
	return true
}

func toolgateCode(status int) toolgate.Code {
	switch status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return toolgate.Invalid
	case http.StatusNotFound:
		return toolgate.NotFound
	case http.StatusUnauthorized:
		return toolgate.Unauthorized
	case http.StatusForbidden:
		return toolgate.Forbidden
	case http.StatusConflict:
		return toolgate.Conflict
	}
	return toolgate.Internal
}

// AsError returns the *Error in err's chain, or nil.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// ErrorCode returns the Clerk code of err ("" when err is not an *Error).
func ErrorCode(err error) string {
	if e := AsError(err); e != nil {
		return e.Code
	}
	return ""
}

func invalid(code, param, format string, args ...any) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Code: code, Message: shortMessage(code), LongMessage: fmt.Sprintf(format, args...), Param: param}
}

func errFormat(param, format string, args ...any) *Error {
	return invalid(CodeFormatInvalid, param, format, args...)
}

func errValue(param, format string, args ...any) *Error {
	return invalid(CodeValueInvalid, param, format, args...)
}

func errMissing(param string) *Error {
	return invalid(CodeParamMissing, param, "%s must be included.", param)
}

func errExists(param string) *Error {
	what := param
	switch param {
	case "email_address":
		what = "email address"
	case "phone_number":
		what = "phone number"
	case "web3_wallet":
		what = "web3 wallet"
	case "external_id":
		what = "external ID"
	}
	return invalid(CodeIdentifierExists, param, "That %s is taken. Please try another.", what)
}

func errUserNotFound(id string) *Error {
	return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "not found", LongMessage: "No user was found with id " + id}
}

func errNotFound(kind, id string) *Error {
	return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "not found", LongMessage: fmt.Sprintf("No %s was found with id %s", kind, id)}
}

func errBadRequest(code, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: code, Message: "bad request", LongMessage: fmt.Sprintf(format, args...)}
}

func errInternal(err error) *Error {
	return &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "internal error", LongMessage: "There was an internal error on our servers.", Err: err}
}

func shortMessage(code string) string {
	switch code {
	case CodeFormatInvalid:
		return "is invalid"
	case CodeValueInvalid:
		return "is invalid"
	case CodeParamMissing:
		return "missing data"
	case CodeParamUnknown:
		return "is unknown"
	case CodeParamDeprecated:
		return "is deprecated"
	case CodeParamTooLarge:
		return "exceeds the allowed size"
	case CodeIdentifierExists:
		return "That identifier is taken."
	case CodePasswordTooShort:
		return "Passwords must be 8 characters or more."
	case CodePasswordTooLong:
		return "Passwords must be 72 bytes or fewer."
	case CodePasswordPwned:
		return "Password has been found in an online data breach."
	case CodePasswordIncorrect:
		return "Password is incorrect."
	case CodePasswordNotSet:
		return "no password"
	case CodePasswordPendingMigration:
		return "password pending migration"
	case CodeUsernameLength:
		return "Usernames must be between 4 and 64 characters long."
	case CodeUsernameCharacter:
		return "Usernames can only contain letters, numbers, '_' and '-'."
	}
	return "is invalid"
}
