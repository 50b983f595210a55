package recovery

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"

	"go.etcd.io/etcd/etcdutl/v3/snapshot"
	"go.uber.org/zap"
)

// bbolt checks a file's pages with assertions that panic, and runs some of
// them in goroutines of its own (bolt.Open of a read-only file computes its
// free pages in one; Tx.Check runs in another): a damaged page crashes the
// whole process, and no recover() in the caller can stop it. So the status
// of a snapshot is read by a child process of the same binary, and a crash
// of the child is the answer "its pages are damaged".

// verifyChildEnv names the file a child process verifies.
const verifyChildEnv = "BOOTSTRAP_INTERNAL_VERIFY_SNAPSHOT"

// childCapable is set by ServeVerifyChild: only a binary whose main calls it
// can be re-executed as a verifier.
var childCapable atomic.Bool

// ServeVerifyChild must be the first call of main (and of the TestMain of a
// test binary that verifies snapshots). In a verifier child it verifies the
// file, writes the result to stdout and exits; otherwise it returns and lets
// Verify use child processes.
func ServeVerifyChild() {
	path, ok := os.LookupEnv(verifyChildEnv)
	if !ok {
		childCapable.Store(true)
		return
	}
	var out childResult
	st, err := inProcessStatus(path)
	out.Status = st
	if err != nil {
		out.Err = err.Error()
	}
	json.NewEncoder(os.Stdout).Encode(out)
	os.Exit(0)
}

type childResult struct {
	Status snapshot.Status
	Err    string
}

// isolatedStatus reads the snapshot's status in a child process when the
// binary can do that, and in this process (where a damaged page still
// panics) when it cannot, e.g. in a test binary without the TestMain hook.
func isolatedStatus(path string) (snapshot.Status, error) {
	if !childCapable.Load() {
		return inProcessStatus(path)
	}
	// /proc/self/exe runs this very binary even if its file was replaced
	// or removed since it started (an upgrade under a running guard).
	cmd := exec.Command("/proc/self/exe")
	cmd.Env = append(os.Environ(), verifyChildEnv+"="+path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var res childResult
	if runErr == nil && json.Unmarshal(stdout.Bytes(), &res) == nil {
		if res.Err != "" {
			return res.Status, errors.New(res.Err)
		}
		return res.Status, nil
	}
	var ee *exec.ExitError
	if !errors.As(runErr, &ee) {
		// The child did not start (no /proc?): check here, as a binary
		// without the hook does.
		return inProcessStatus(path)
	}
	return snapshot.Status{}, fmt.Errorf("its pages are damaged: bbolt's consistency check crashed on it (%s)", crashReason(stderr.String(), ee))
}

// crashReason is the panic line of a crashed child, or how it ended.
func crashReason(stderr string, ee *exec.ExitError) string {
	sc := bufio.NewScanner(strings.NewReader(stderr))
	for sc.Scan() {
		line := sc.Text()
		if r, ok := strings.CutPrefix(line, "panic: "); ok {
			return r
		}
		if r, ok := strings.CutPrefix(line, "fatal error: "); ok {
			return r
		}
	}
	return ee.String()
}

// inProcessStatus is etcd's own snapshot status: bbolt's consistency check,
// then the hash, revision and key count. A panic in this goroutine is turned
// into an error; one in bbolt's goroutines is not (see above).
func inProcessStatus(path string) (st snapshot.Status, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("its pages are damaged: bbolt's consistency check crashed on it (%v)", r)
		}
	}()
	return snapshot.NewV3(zap.NewNop()).Status(path)
}
