//go:build !unix

package audit

import (
	"errors"
	"os"
)

var errNoFlock = errors.New("the audit journal needs flock(2), which this system lacks; set audit.journal: false")

func lockFile(*os.File) error { return errNoFlock }

func checkLockable(string) error { return errNoFlock }
