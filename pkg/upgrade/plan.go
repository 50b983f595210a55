package upgrade

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"text/tabwriter"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/kubeapply"
	"github.com/bootstrap-k8s/bootstrap/pkg/versionskew"
)

// Step is one workload of the control plane and whether the target changes it.
type Step struct {
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	From   string `json:"from"`
	To     string `json:"to"`
	Change bool   `json:"change"`
	obj    *unstructured.Unstructured
}

// NodeStep is a change on one node that only the node can make.
type NodeStep struct {
	Node   string `json:"node"`
	What   string `json:"what"`
	From   string `json:"from"`
	To     string `json:"to"`
	Change bool   `json:"change"`
}

// Plan is what an upgrade to the target would do, in order.
type Plan struct {
	ServedVersion string `json:"servedVersion"`
	TargetVersion string `json:"targetVersion"`
	// Objects that are not workloads (RBAC, ConfigMaps, Secrets...) the
	// target changes; they are applied before the workloads.
	Objects []string `json:"objects"`
	// Steps are the workloads in the order Apply rolls them.
	Steps []Step `json:"steps"`
	// Etcd is this node's etcd static pod (only when its manifest is readable here).
	Etcd *NodeStep `json:"etcd,omitempty"`
	// Kubelets are node steps: replace the binary and restart it.
	Kubelets []NodeStep `json:"kubelets"`
	// Refusals are the rules of the version-skew policy the target breaks.
	Refusals  []string `json:"refusals"`
	Unhealthy []string `json:"unhealthy"`

	config     *v1alpha1.BootstrapConfiguration
	objects    []*unstructured.Unstructured
	etcdPath   string
	etcdTarget []byte
}

// rollOrder ranks the control plane's workloads: kube-apiserver first (every
// other component may be at most as new as it), then its clients.
var rollOrder = map[string]int{assets.KubeAPIServer: 0, assets.KubeControllerManager: 1, assets.KubeScheduler: 2, assets.KubeProxy: 3}

// MakePlan reads the cluster and the target (the asset dir's configuration
// with o.To) and says what would change. It writes nothing.
func MakePlan(ctx context.Context, o Options) (*Plan, error) {
	o.complete()
	cfg, err := o.targetConfig()
	if err != nil {
		return nil, err
	}
	rc, err := o.restConfig()
	if err != nil {
		return nil, err
	}
	return makePlan(ctx, o.AssetDir, cfg, rc)
}

// makePlan is MakePlan for a loaded target configuration.
func makePlan(ctx context.Context, assetDir string, cfg *v1alpha1.BootstrapConfiguration, rc *rest.Config) (*Plan, error) {
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	state, err := ReadState(ctx, cs)
	if err != nil {
		return nil, fmt.Errorf("reading the cluster (is kube-apiserver serving? bootstrap status tells): %w", err)
	}
	dir, err := renderCopy(assetDir, cfg)
	if err != nil {
		return nil, fmt.Errorf("rendering the target: %w", err)
	}
	defer os.RemoveAll(dir)
	objs, err := kubeapply.ReadManifests(assets.Path(dir, assets.ManifestsDir))
	if err != nil {
		return nil, err
	}
	a, err := kubeapply.NewApplier(rc, func(string, ...any) {})
	if err != nil {
		return nil, err
	}
	p := &Plan{ServedVersion: state.ServedVersion, TargetVersion: cfg.KubernetesVersion, config: cfg, Objects: []string{}, Refusals: []string{}, Unhealthy: state.Unhealthy()}
	for _, obj := range objs {
		if isBootstrapToken(obj) {
			// Every render dates the token from now: re-applying it would
			// revive an expired join token. Tokens are made by
			// `bootstrap token create`, never by an upgrade.
			continue
		}
		change, err := changes(ctx, a, obj)
		if err != nil {
			return nil, fmt.Errorf("comparing %s %s with the cluster: %w", obj.GetKind(), kubeapply.Describe(obj), err)
		}
		if kubeapply.Tier(obj) < 3 {
			if change {
				p.Objects = append(p.Objects, obj.GetKind()+" "+kubeapply.Describe(obj))
				p.objects = append(p.objects, obj)
			}
			continue
		}
		s := Step{Kind: obj.GetKind(), Name: obj.GetName(), To: templateImage(obj), Change: change, obj: obj}
		if w := state.Workload(obj.GetName()); w != nil {
			s.From = w.Image
		}
		p.Steps = append(p.Steps, s)
	}
	sort.SliceStable(p.Steps, func(i, j int) bool { return rank(p.Steps[i].Name) < rank(p.Steps[j].Name) })
	p.planEtcd(cfg, dir, state)
	for _, k := range state.Kubelets {
		p.Kubelets = append(p.Kubelets, NodeStep{Node: k.Node, What: "kubelet", From: k.Version, To: cfg.KubernetesVersion, Change: k.Version != cfg.KubernetesVersion})
	}
	p.Refusals = refusals(state, cfg.KubernetesVersion)
	return p, nil
}

func isBootstrapToken(obj *unstructured.Unstructured) bool {
	t, _, _ := unstructured.NestedString(obj.Object, "type")
	return obj.GetKind() == "Secret" && t == "bootstrap.kubernetes.io/token"
}

func rank(name string) int {
	if r, ok := rollOrder[name]; ok {
		return r
	}
	return len(rollOrder)
}

// changes says whether applying obj would change the live object (a missing
// object is a change): a server-side dry run compared with what is stored.
func changes(ctx context.Context, a *kubeapply.Applier, obj *unstructured.Unstructured) (bool, error) {
	live, err := a.Get(ctx, obj)
	if err != nil {
		if isNotFound(err) {
			return true, nil
		}
		return false, err
	}
	dry, err := a.DryRun(ctx, obj)
	if err != nil {
		return false, err
	}
	return !reflect.DeepEqual(content(live), content(dry)), nil
}

// content is an object without its metadata bookkeeping and status.
func content(u *unstructured.Unstructured) map[string]any {
	c := u.DeepCopy().Object
	delete(c, "status")
	meta, _ := c["metadata"].(map[string]any)
	c["metadata"] = map[string]any{"labels": meta["labels"], "annotations": withoutLastApplied(meta["annotations"])}
	return c
}

// withoutLastApplied drops kubectl's client-side apply record: kubectl apply
// and bootstrap may both have applied the same content.
func withoutLastApplied(a any) any {
	m, ok := a.(map[string]any)
	if !ok {
		return a
	}
	out := map[string]any{}
	for k, v := range m {
		if k != "kubectl.kubernetes.io/last-applied-configuration" && k != "deprecated.daemonset.template.generation" && k != "deployment.kubernetes.io/revision" {
			out[k] = v
		}
	}
	return out
}

func templateImage(obj *unstructured.Unstructured) string {
	cs, _, _ := unstructured.NestedSlice(obj.Object, "spec", "template", "spec", "containers")
	if len(cs) == 0 {
		return ""
	}
	img, _, _ := unstructured.NestedString(cs[0].(map[string]any), "image")
	return img
}

// planEtcd compares this node's etcd static pod with the target's, when the
// manifest is here to read (upgrade runs on a control-plane node).
func (p *Plan) planEtcd(cfg *v1alpha1.BootstrapConfiguration, dir string, state *State) {
	target, err := os.ReadFile(assets.Path(dir, assets.EtcdStaticPod))
	if err != nil || cfg.Etcd.Local == nil {
		return
	}
	path := filepath.Join(cfg.Node.StaticPodPath, "etcd.yaml")
	live, err := os.ReadFile(path)
	if err != nil {
		return
	}
	p.etcdPath, p.etcdTarget = path, target
	p.Etcd = &NodeStep{Node: cfg.Node.Name, What: "etcd static pod", From: state.EtcdImage, To: cfg.Images.Etcd, Change: !bytes.Equal(live, target)}
}

// refusals are the version-skew rules the target would break.
func refusals(state *State, target string) []string {
	out := []string{}
	to, err := versionskew.Parse(target)
	if err != nil {
		return append(out, err.Error())
	}
	if from, err := versionskew.Parse(state.ServedVersion); err == nil {
		if err := versionskew.CheckUpgrade(from, to); err != nil {
			out = append(out, err.Error())
		}
	}
	for _, e := range versionskew.CheckCluster(to, state.skewComponents()) {
		var re *versionskew.RuleError
		// The control plane's own workloads are what the upgrade moves: only
		// what it does not move (kubelets) can break the policy here.
		if errors.As(e, &re) && strings.HasPrefix(re.What, "kubelet ") {
			out = append(out, e.Error())
		}
	}
	return out
}

// Changes counts the steps that change something.
func (p *Plan) Changes() int {
	n := len(p.Objects)
	for _, s := range p.Steps {
		if s.Change {
			n++
		}
	}
	if p.Etcd != nil && p.Etcd.Change {
		n++
	}
	return n
}

// Table is the plan for people.
func (p *Plan) Table() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Cluster serves %s; target %s.\n\n", p.ServedVersion, p.TargetVersion)
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "STEP\tCOMPONENT\tCURRENT\tTARGET\tACTION")
	n := 1
	if len(p.Objects) > 0 {
		fmt.Fprintf(w, "%d\t%d other objects\t\t\tapply: %s\n", n, len(p.Objects), strings.Join(p.Objects, ", "))
		n++
	}
	for _, s := range p.Steps {
		action := "unchanged"
		if s.Change {
			action = "roll out, wait until it serves"
			if s.Name == assets.KubeAPIServer {
				action = "roll out beside the old pod (surge), wait for /readyz on every node"
			}
		}
		fmt.Fprintf(w, "%d\t%s %s\t%s\t%s\t%s\n", n, strings.ToLower(s.Kind), s.Name, s.From, s.To, action)
		n++
	}
	if p.Etcd != nil {
		action := "unchanged"
		if p.Etcd.Change {
			action = "replace the static pod after the snapshot, wait for /health"
		}
		fmt.Fprintf(w, "%d\tetcd on %s\t%s\t%s\t%s\n", n, p.Etcd.Node, p.Etcd.From, p.Etcd.To, action)
		n++
	}
	for _, k := range p.Kubelets {
		action := "unchanged"
		if k.Change {
			action = "node step: replace the kubelet binary and restart it (after the control plane)"
		}
		fmt.Fprintf(w, "%d\tkubelet on %s\t%s\t%s\t%s\n", n, k.Node, k.From, k.To, action)
		n++
	}
	w.Flush()
	for _, u := range p.Unhealthy {
		fmt.Fprintf(&b, "\nNot healthy now: %s", u)
	}
	for _, r := range p.Refusals {
		fmt.Fprintf(&b, "\nREFUSED: %s", r)
	}
	if len(p.Unhealthy)+len(p.Refusals) > 0 {
		b.WriteString("\n")
	}
	return b.String()
}
