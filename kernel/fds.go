package kernel

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// closeInheritedOnExec marks every descriptor above standard error close-
// on-exec, so nothing this process inherited (from a shell, a CI runner,
// a test harness) leaks into an entity: an entity holds 0-3 and what its
// scenario grants, nothing else, even without confinement.
func closeInheritedOnExec() {
	// close_range(3, ~0, CLOSE_RANGE_CLOEXEC) does it in one call where
	// the kernel has it (5.11+); else walk /proc/self/fd.
	if unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC) == nil {
		return
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range ents {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			unix.CloseOnExec(fd)
		}
	}
}
