// Package cli builds the `bootstrap` command tree. Each subcommand lives in
// its own package under pkg/cli and returns errors; only main exits, with
// the code ExitCode gives: 1 general, 2 preflight, 3 invalid configuration.
//
//	cmd := cli.NewRootCommand(os.Stdout, os.Stderr)
//	if err := cmd.Execute(); err != nil {
//		os.Exit(cli.ExitCode(err))
//	}
package cli
