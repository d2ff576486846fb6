// Package approval keeps the calls that a policy rule sent to a human for
// approval: it creates pending requests, lets the gateway wait for a
// decision, records approvals and denials, and expires requests nobody
// decided in time.
//
// Requests live in a Store: NewMemoryStore for tests and single-process
// use, OpenSQLite for a database file that survives restarts and can be
// shared by several processes on one machine. A Manager sits on top of a
// Store; decisions made through a Manager wake its waiters at once, and
// waiters re-read the store every Poll so that a decision written by
// another process or replica is seen too.
//
// One approval releases one call: when Wait returns an approved request it
// marks the request used, and TakeApproved (for an agent that retries a
// call after its first attempt stopped waiting) only returns approvals not
// used yet, of the same tool, subject, grant and arguments, approved at
// most ValidFor ago. Ask joins the pending request of the same call rather
// than putting it to a human twice, and Expire ends the requests nobody
// waits for any more. ManagerOptions.OnEvent hears of every new request
// and every decision (package approval/webhook sends them on).
package approval
