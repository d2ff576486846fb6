-- A retry joins the pending request of the same call (FindPending), and
-- the expiry sweep finds the pending requests past their deadline
-- (ExpireDue), without scanning the whole table.
CREATE INDEX approvals_pending_match ON approvals (tool, subject, args_hash) WHERE status = 'pending';
CREATE INDEX approvals_pending_due ON approvals (expires_at) WHERE status = 'pending';
