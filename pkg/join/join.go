package join

import (
	"context"
)

// Result is what a join wrote and how to start the kubelet.
type Result struct {
	// Server is the apiserver URL the kubelet uses (from cluster-info).
	Server string
	// CAHash is the pin that matched.
	CAHash string
	// Files are the files written, in order.
	Files []string
	// KubeletFlags are the kubelet's flags for these files.
	KubeletFlags []string
}

// Run joins this node: checks, discovery, token check, then the files.
// Every error before the files are written leaves the node untouched.
func Run(ctx context.Context, o Options) (*Result, error) {
	o.CAHashes = append([]string(nil), o.CAHashes...)
	o.setDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	p := o.paths()
	if err := preflight(p); err != nil {
		return nil, err
	}
	w, err := prepareWorker(ctx, &o, p)
	if err != nil {
		return nil, err
	}
	written, err := writeFiles(w.files)
	if err != nil {
		return nil, err
	}
	for _, f := range written {
		o.Logf("files", "Wrote %s", f)
	}
	return w.result(written), nil
}

// worker is a checked worker join, its files not written yet.
type worker struct {
	cl    *cluster
	p     paths
	files []file
}

// prepareWorker runs discovery and the token check and builds the kubelet's
// files; it writes nothing.
func prepareWorker(ctx context.Context, o *Options, p paths) (*worker, error) {
	node, err := readNodeKubeletConfig(o.NodeKubeletConfig)
	if err != nil {
		return nil, err
	}
	cl, err := discover(ctx, o)
	if err != nil {
		return nil, err
	}
	clusterKubelet, err := kubeletClusterConfig(ctx, o, cl)
	if err != nil {
		return nil, err
	}
	kc, err := kubeletConfig(node, clusterKubelet, p.CA)
	if err != nil {
		return nil, err
	}
	boot, err := bootstrapKubeconfig(cl, o.Token)
	if err != nil {
		return nil, err
	}
	return &worker{cl: cl, p: p, files: []file{
		{p.CA, cl.CAPEM, 0o644},
		{p.BootstrapKubeconfig, boot, 0o600},
		{p.KubeletConfig, kc, 0o644},
	}}, nil
}

func (w *worker) result(written []string) *Result {
	return &Result{
		Server: w.cl.Server,
		CAHash: w.cl.CAHash,
		Files:  written,
		KubeletFlags: []string{
			"--config=" + w.p.KubeletConfig,
			"--bootstrap-kubeconfig=" + w.p.BootstrapKubeconfig,
			"--kubeconfig=" + w.p.Kubeconfig,
		},
	}
}
