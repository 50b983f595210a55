package upgrade

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/versionskew"
)

// Workload is one control-plane DaemonSet or Deployment as it runs now.
type Workload struct {
	Kind, Name string
	// Image is the first container's image of the template.
	Image          string
	Desired, Ready int32
	// Updating is true while pods of an older template still run.
	Updating bool
}

// Kubelet is one node's kubelet.
type Kubelet struct {
	Node, Version string
}

// State is what runs: the served version, the workloads, the etcd static
// pod and the kubelets.
type State struct {
	ServedVersion string
	Workloads     []Workload
	EtcdImage     string
	Kubelets      []Kubelet
}

// ReadState reads the cluster through cs.
func ReadState(ctx context.Context, cs kubernetes.Interface) (*State, error) {
	v, err := cs.Discovery().ServerVersion()
	if err != nil {
		return nil, fmt.Errorf("reading the served version: %w", err)
	}
	s := &State{ServedVersion: v.GitVersion}
	dss, err := cs.AppsV1().DaemonSets(assets.KubeSystem).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	for _, d := range dss.Items {
		s.Workloads = append(s.Workloads, Workload{Kind: "DaemonSet", Name: d.Name, Image: firstImage(d.Spec.Template.Spec),
			Desired: d.Status.DesiredNumberScheduled, Ready: d.Status.NumberReady,
			Updating: d.Status.UpdatedNumberScheduled != d.Status.DesiredNumberScheduled || d.Status.ObservedGeneration < d.Generation})
	}
	deps, err := cs.AppsV1().Deployments(assets.KubeSystem).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	for _, d := range deps.Items {
		want := int32(1)
		if d.Spec.Replicas != nil {
			want = *d.Spec.Replicas
		}
		s.Workloads = append(s.Workloads, Workload{Kind: "Deployment", Name: d.Name, Image: firstImage(d.Spec.Template.Spec),
			Desired: want, Ready: d.Status.ReadyReplicas,
			Updating: d.Status.UpdatedReplicas != want || d.Status.Replicas != want || d.Status.ObservedGeneration < d.Generation})
	}
	pods, err := cs.CoreV1().Pods(assets.KubeSystem).List(ctx, metav1.ListOptions{LabelSelector: assets.ComponentLabel + "=etcd"})
	if err != nil {
		return nil, err
	}
	if len(pods.Items) > 0 {
		s.EtcdImage = firstImage(pods.Items[0].Spec)
	}
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	for _, n := range nodes.Items {
		s.Kubelets = append(s.Kubelets, Kubelet{Node: n.Name, Version: n.Status.NodeInfo.KubeletVersion})
	}
	return s, nil
}

func firstImage(spec corev1.PodSpec) string {
	if len(spec.Containers) == 0 {
		return ""
	}
	return spec.Containers[0].Image
}

// Workload returns the named workload, or nil.
func (s *State) Workload(name string) *Workload {
	for i := range s.Workloads {
		if s.Workloads[i].Name == name {
			return &s.Workloads[i]
		}
	}
	return nil
}

// Unhealthy names the control-plane workloads that are not fully ready or
// still rolling out: an upgrade on top of them would hide the cause.
func (s *State) Unhealthy() []string {
	var out []string
	for _, w := range s.Workloads {
		if w.Ready < w.Desired || w.Updating {
			out = append(out, fmt.Sprintf("%s %s: %d/%d ready%s", strings.ToLower(w.Kind), w.Name, w.Ready, w.Desired, map[bool]string{true: ", rolling out"}[w.Updating]))
		}
	}
	return out
}

// skewComponents is the state as the version-skew policy sees it; images
// whose tag is not a version (a custom build) are left out.
func (s *State) skewComponents() []versionskew.Component {
	var out []versionskew.Component
	for _, w := range s.Workloads {
		switch w.Name {
		case assets.KubeAPIServer, assets.KubeControllerManager, assets.KubeScheduler, assets.KubeProxy:
			if v, err := versionskew.Parse(w.Image); err == nil {
				out = append(out, versionskew.Component{Kind: w.Name, Name: w.Name, Version: v})
			}
		}
	}
	for _, k := range s.Kubelets {
		if v, err := versionskew.Parse(k.Version); err == nil {
			out = append(out, versionskew.Component{Kind: "kubelet", Name: k.Node, Version: v})
		}
	}
	return out
}

func isNotFound(err error) bool { return apierrors.IsNotFound(err) }
