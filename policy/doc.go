// Package policy loads toolgate policy documents and decides tool calls
// against them.
//
// A document is JSON or YAML in PolicyLayer's format, version "1", with
// optional toolgate extensions; docs/policy.md is the reference. Load
// validates a document and compiles it once into an Engine, reporting every
// problem with its line and column. Engine.Decide is pure and does no I/O;
// Enforce takes the rate limits Decide returns from a limit.Limiter.
package policy
