package join

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"

	"github.com/bootstrap-k8s/bootstrap/pkg/failure"
)

// preflight refuses a node that has joined already (or whose kubelet another
// tool configured): join never replaces a file.
func preflight(p paths) error {
	var errs []error
	for _, f := range []string{p.CA, p.BootstrapKubeconfig, p.Kubeconfig, p.KubeletConfig} {
		if _, err := os.Lstat(f); err == nil {
			errs = append(errs, fmt.Errorf("%s exists: this node has joined already, or another tool set up its kubelet; join replaces nothing (move it aside to join again)", f))
		} else if !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("%s: %v", f, err))
		}
	}
	return failure.Preflight(errors.Join(errs...))
}

// readNodeKubeletConfig loads the node's own KubeletConfiguration (nil without one).
func readNodeKubeletConfig(path string) (map[string]any, error) {
	if path == "" {
		return map[string]any{}, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, failure.InvalidConfig(fmt.Errorf("--node-kubelet-config: %v", err))
	}
	m := map[string]any{}
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, failure.InvalidConfig(fmt.Errorf("--node-kubelet-config %s is not YAML: %v", path, err))
	}
	if m["kind"] != "KubeletConfiguration" || m["apiVersion"] != "kubelet.config.k8s.io/v1beta1" {
		return nil, failure.InvalidConfig(fmt.Errorf("--node-kubelet-config %s is not a kubelet.config.k8s.io/v1beta1 KubeletConfiguration", path))
	}
	return m, nil
}

// kubeletConfig lays the cluster's settings over the node's and points the
// kubelet's client CA at the CA join writes.
func kubeletConfig(node map[string]any, clusterYAML, caPath string) ([]byte, error) {
	cluster := map[string]any{}
	if err := yaml.Unmarshal([]byte(clusterYAML), &cluster); err != nil {
		return nil, fmt.Errorf("the cluster's kubelet settings are not YAML: %v", err)
	}
	out := overlay(node, cluster)
	authn, _ := out["authentication"].(map[string]any)
	if authn == nil {
		authn = map[string]any{}
		out["authentication"] = authn
	}
	x509, _ := authn["x509"].(map[string]any)
	if x509 == nil {
		x509 = map[string]any{}
		authn["x509"] = x509
	}
	x509["clientCAFile"] = caPath
	return yaml.Marshal(out)
}

// overlay returns base with every field of top set over it (maps merged, the rest replaced).
func overlay(base, top map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(top))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range top {
		if bm, ok := out[k].(map[string]any); ok {
			if tm, ok := v.(map[string]any); ok {
				out[k] = overlay(bm, tm)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// bootstrapKubeconfig is the kubelet's --bootstrap-kubeconfig: the server
// cluster-info names, the pinned CA, the token.
func bootstrapKubeconfig(cl *cluster, tok string) ([]byte, error) {
	c := clientcmdapi.NewConfig()
	c.Clusters["cluster"] = &clientcmdapi.Cluster{Server: cl.Server, CertificateAuthorityData: cl.CAPEM}
	c.AuthInfos["kubelet-bootstrap"] = &clientcmdapi.AuthInfo{Token: tok}
	c.Contexts["kubelet-bootstrap@cluster"] = &clientcmdapi.Context{Cluster: "cluster", AuthInfo: "kubelet-bootstrap"}
	c.CurrentContext = "kubelet-bootstrap@cluster"
	return clientcmd.Write(*c)
}

type file struct {
	path string
	data []byte
	mode os.FileMode
}

// writeFiles writes each file through a temporary file and a rename; on a
// failure it removes what it wrote (preflight made sure none existed).
func writeFiles(files []file) ([]string, error) {
	var written []string
	undo := func(err error) ([]string, error) {
		for _, w := range written {
			_ = os.Remove(w)
		}
		return nil, err
	}
	for _, f := range files {
		// A file that holds exactly these bytes already (the cluster CA a
		// first join copied, kept by leave for the re-join) is no conflict:
		// it stays, and is not ours to undo.
		if old, err := os.ReadFile(f.path); err == nil && bytes.Equal(old, f.data) {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
			return undo(err)
		}
		tmp, err := os.CreateTemp(filepath.Dir(f.path), "."+filepath.Base(f.path)+".*")
		if err != nil {
			return undo(err)
		}
		_, werr := tmp.Write(f.data)
		if werr == nil {
			werr = tmp.Chmod(f.mode)
		}
		if werr == nil {
			werr = tmp.Sync()
		}
		if cerr := tmp.Close(); werr == nil {
			werr = cerr
		}
		if werr == nil {
			// Link, not rename: it fails if the file appeared meanwhile.
			werr = os.Link(tmp.Name(), f.path)
		}
		_ = os.Remove(tmp.Name())
		if werr != nil {
			return undo(fmt.Errorf("writing %s: %w", f.path, werr))
		}
		written = append(written, f.path)
	}
	return written, nil
}
