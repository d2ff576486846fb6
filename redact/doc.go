// Package redact masks secrets in a tool call's arguments before anything
// is written: the approval store, the audit log, log lines. It does no I/O.
//
// Three rules decide what is masked, and a masked value, whatever its type
// (string, number, object, array), becomes the string Marker:
//
//   - Key names (IsSecretKey): the value of a member whose name says it
//     holds a secret (password, totp_secret, backup_codes, api_key,
//     Authorization, ...), at any depth, in objects inside arrays too, in
//     any case and separator style.
//   - Value shapes (IsSecretValue): a string that holds a credential of a
//     recognisable shape whatever its key (a toolgate token, a JWT, a PEM
//     private key, "Bearer ..." or "Basic ..." credentials, a URL with a
//     password).
//   - Pointers: a Redactor built with New also masks the members that RFC
//     6901 JSON Pointers name, such as a policy rule's redact list.
//
// The marker never says how long the value was or what type it had: a
// length narrows the guesses of a secret (a 4-digit PIN, a 6-digit TOTP).
//
// docs/security.md lists the exact rules.
package redact
