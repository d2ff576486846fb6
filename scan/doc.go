// Package scan classifies MCP tool definitions by risk: for each tool a
// category (Read, Write, Destructive, Financial), a risk level (low,
// medium, high, critical), the signals that support them (each with a
// code, a short label, the evidence and the rule that produced it) and a
// one-sentence explanation. It also pins tool definitions (a hash over
// their canonical JSON) so that a changed definition — a "rug pull" — can
// be noticed, says what changed, and writes a recommended policy.
//
// The package is pure: tool definitions in, reports out, no I/O apart from
// the explicit LoadPins and SavePins. Classify is deterministic (the same
// tool always gives the same report, byte for byte once encoded) and does a
// bounded amount of work per tool, so a gateway can run it on every
// tools/list result it sees.
//
// docs/scanner.md describes the rules and the JSON schema of the reports.
package scan
