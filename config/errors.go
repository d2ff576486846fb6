package config

import "github.com/toolgate/toolgate"

// FieldError is one problem in a configuration file, with the position of
// the offending key or value; Path names the field in dotted form, e.g.
// "servers.clerk.url".
type FieldError = toolgate.FieldError

// ErrorList is every problem found in a configuration file, in file order.
// It is what Load and Parse return when the file is invalid.
type ErrorList = toolgate.ErrorList
