package cli

import (
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// walk calls f for cmd and every command below it.
func walk(cmd *cobra.Command, f func(*cobra.Command)) {
	f(cmd)
	for _, c := range cmd.Commands() {
		walk(c, f)
	}
}

// TestUnknownSubcommandFails is issue 17 item 10: `bootstrap config
// valdate` printed help and exited 0. Every parent command fails on an
// unknown subcommand, and suggests the one meant.
func TestUnknownSubcommandFails(t *testing.T) {
	var parents []*cobra.Command
	walk(NewRootCommand(io.Discard, io.Discard), func(c *cobra.Command) {
		if c.HasSubCommands() {
			parents = append(parents, c)
		}
	})
	if len(parents) < 2 {
		t.Fatalf("only %d parent commands", len(parents))
	}
	for _, p := range parents {
		path := strings.Fields(p.CommandPath())[1:]
		_, stderr, code := run(append(path, "no-such-command")...)
		if code == 0 || !strings.Contains(stderr, `unknown command "no-such-command" for "`+p.CommandPath()+`"`) {
			t.Errorf("%s no-such-command: exit %d: %s", p.CommandPath(), code, stderr)
		}
		for _, sub := range p.Commands() {
			if len(sub.Name()) < 5 {
				continue
			}
			typo := sub.Name()[:2] + sub.Name()[3:] // one letter dropped
			_, stderr, code := run(append(path, typo)...)
			if code == 0 || !strings.Contains(stderr, "did you mean "+sub.Name()) {
				t.Errorf("%s %s: exit %d, no suggestion of %s: %s", p.CommandPath(), typo, code, sub.Name(), stderr)
			}
		}
	}
	if _, stderr, code := run("config", "valdate"); code != 1 || !strings.Contains(stderr, `unknown command "valdate" for "bootstrap config"; did you mean validate?`) {
		t.Errorf("config valdate: exit %d: %s", code, stderr)
	}
	if _, _, code := run("config"); code != 0 {
		t.Errorf("config alone (help): exit %d", code)
	}
}

// TestFlagUsages: pflag turns the first `backticked` word of a usage string
// into the value placeholder, which made `--asset-dir bootstrap render`.
// No placeholder may be a command name or contain a space, and every
// runnable command has an example.
func TestFlagUsages(t *testing.T) {
	root := NewRootCommand(io.Discard, io.Discard)
	names := map[string]bool{}
	walk(root, func(c *cobra.Command) { names[c.Name()] = true })
	walk(root, func(c *cobra.Command) {
		check := func(f *pflag.Flag) {
			placeholder, usage := pflag.UnquoteUsage(f)
			if names[placeholder] || strings.Contains(placeholder, " ") || strings.Contains(usage, "`") {
				t.Errorf("%s --%s: placeholder %q, usage %q", c.CommandPath(), f.Name, placeholder, usage)
			}
		}
		c.LocalFlags().VisitAll(check)
		c.PersistentFlags().VisitAll(check)
		if c.Runnable() && !c.HasSubCommands() && c.Example == "" {
			t.Errorf("%s has no example", c.CommandPath())
		}
	})
}
