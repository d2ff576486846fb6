-- Windowed counters of Intercept-format policies: one row per counter key,
-- holding its value in the window that starts at window_start.
CREATE TABLE counters (
	key          TEXT PRIMARY KEY,
	value        INTEGER NOT NULL CHECK (value >= 0),
	window_start INTEGER NOT NULL, -- Unix nanoseconds, UTC-aligned
	window_ns    INTEGER NOT NULL CHECK (window_ns > 0)
);
