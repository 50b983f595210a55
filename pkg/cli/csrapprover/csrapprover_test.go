package csrapprover

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bootstrap-k8s/bootstrap/pkg/cli/global"
)

// TestBadInput: outside a pod and with a kubeconfig that does not exist the
// command says what is wrong and how to fix it, instead of waiting.
func TestBadInput(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("KUBERNETES_SERVICE_PORT", "")
	missing := filepath.Join(t.TempDir(), "nope.kubeconfig")
	tests := []struct {
		args []string
		want string
	}{
		{nil, "pass --kubeconfig FILE"},
		{[]string{"--kubeconfig", missing}, "--kubeconfig " + missing},
		{[]string{"--kubeconfig", missing, "extra"}, "unknown command"},
	}
	for _, tc := range tests {
		var out, errOut bytes.Buffer
		cmd := NewCommand(&global.Options{Out: &out, Err: &errOut})
		cmd.SetArgs(tc.args)
		cmd.SetOut(&out)
		cmd.SetErr(&errOut)
		err := cmd.Execute()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("csr-approver %v: %v; want an error naming %q", tc.args, err, tc.want)
		}
	}
}
