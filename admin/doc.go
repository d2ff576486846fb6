// Package admin authenticates and authorizes the admin API: the API on
// its own listener (admin_listen) through which people list and decide
// approvals, read the tools the gateway has seen and, later, manage
// policies and grants.
//
// Every request carries an admin token, "tga_" followed by the unpadded
// base64url encoding of 32 random bytes, made and hashed by the grant
// package's helpers. Stores keep only its SHA-256 digest. A token belongs
// to a subject ("alice@example.com"), who is recorded as the author of
// what the request does, and has one role:
//
//   - viewer: read-only (GET routes);
//   - policy_manager: what a viewer may, plus policies and their
//     attachment to grants; never tokens or upstream credentials;
//   - admin: everything, including approval decisions.
//
// Authenticate turns the bearer token into a *Token in the request's
// context, or answers 401 with the same message for a missing, unknown
// or revoked token; Require answers 403 to a role that lacks the right.
//
// Memory and SQLite implement Store.
package admin
