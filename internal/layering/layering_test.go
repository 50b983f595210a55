package layering

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const module = "github.com/bootstrap-k8s/bootstrap"

// flows are the packages that run a whole command's work; everything else
// under pkg/ (except the command tree) is a building block.
var flows = []string{"pkg/start", "pkg/recovery", "pkg/guard", "pkg/upgrade", "pkg/join", "pkg/leave", "pkg/status", "pkg/certs", "pkg/pivot"}

type pkg struct {
	ImportPath string
	Deps       []string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(gobin, "list", "-deps=false", "-json=ImportPath,Deps", module+"/...")
	cmd.Dir = "../.."
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	return pkgs
}

// under says whether import path p is dir or inside it (dir relative to the module).
func under(p, dir string) bool {
	full := module + "/" + dir
	return p == full || strings.HasPrefix(p, full+"/")
}

func isFlow(p string) bool {
	for _, f := range flows {
		if under(p, f) {
			return true
		}
	}
	return false
}

// TestDependenciesPointOneWay: nothing but the command tree, main and the
// e2e harness depends on pkg/cli, and no building block depends on a flow
// (Deps is transitive, so indirect dependencies count).
func TestDependenciesPointOneWay(t *testing.T) {
	for _, p := range listPackages(t) {
		rel := strings.TrimPrefix(p.ImportPath, module+"/")
		mayUseCLI := under(p.ImportPath, "pkg/cli") || under(p.ImportPath, "cmd") || under(p.ImportPath, "e2e")
		block := under(p.ImportPath, "pkg") && !under(p.ImportPath, "pkg/cli") && !isFlow(p.ImportPath)
		for _, d := range p.Deps {
			if under(d, "pkg/cli") && !mayUseCLI {
				t.Errorf("%s depends on the command tree (%s): return an error marked with pkg/failure instead, and let pkg/cli map it", rel, strings.TrimPrefix(d, module+"/"))
			}
			if isFlow(d) && block {
				t.Errorf("building block %s depends on the flow %s: move what both need into a building block", rel, strings.TrimPrefix(d, module+"/"))
			}
		}
	}
}
