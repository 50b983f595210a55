// Command bootstrap brings up a self-hosted Kubernetes control plane on a
// first node and recovers it after loss. See README.md.
package main

import (
	"fmt"
	"os"

	"github.com/bootstrap-k8s/bootstrap/pkg/cli"
	"github.com/bootstrap-k8s/bootstrap/pkg/recovery"
)

func main() {
	// A re-execution of this binary that only verifies a snapshot file
	// (bbolt can crash the process on damaged pages) ends here.
	recovery.ServeVerifyChild()
	cmd := cli.NewRootCommand(os.Stdout, os.Stderr)
	if err := cmd.Execute(); err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(cli.ExitCode(err))
	}
}
