package openapi

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestGeneratedIsFresh regenerates the definitions into a temporary dir and
// compares them with the checked-in file: it fails when k8s.io/api was bumped
// or the served packages changed without `go generate`.
func TestGeneratedIsFresh(t *testing.T) {
	if testing.Short() {
		t.Skip("runs openapi-gen (several seconds)")
	}
	// The go:generate line and Packages must agree.
	src, err := os.ReadFile("generate.go")
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`(?m)^//go:generate (.*)$`).FindSubmatch(src)
	if line == nil {
		t.Fatal("no go:generate line in generate.go")
	}
	args := strings.Fields(string(line[1]))
	if !strings.HasSuffix(strings.Join(args, " "), strings.Join(Packages, " ")) {
		t.Fatalf("the go:generate line and Packages list different packages")
	}
	out := t.TempDir()
	for i, a := range args {
		if a == "--output-dir" {
			args[i+1] = out
		}
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("openapi-gen: %v", err)
	}
	want, err := os.ReadFile(filepath.Join(out, "zz_generated.openapi.go"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("zz_generated.openapi.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("zz_generated.openapi.go is stale: run `go generate ./pkg/tempcontrolplane/openapi`")
	}
}
