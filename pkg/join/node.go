package join

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// becomeControlPlane waits for the node to register, labels it control
// plane (a kubelet may not set that label itself: NodeRestriction) and waits
// for the kube-apiserver DaemonSet's pod on it to be ready.
func becomeControlPlane(ctx context.Context, o *Options, cp *controlPlane) error {
	cs, err := AdminClient(cp.AssetDir)
	if err != nil {
		return err
	}
	o.Logf("control-plane", "Waiting for node %s to register", cp.NodeName)
	if err := wait.PollUntilContextTimeout(ctx, time.Second, cp.Timeout, true, func(ctx context.Context) (bool, error) {
		_, err := cs.CoreV1().Nodes().Get(ctx, cp.NodeName, metav1.GetOptions{})
		return err == nil, nil
	}); err != nil {
		return fmt.Errorf("node %s did not register within %s: is its kubelet running with the flags join printed, and is --node-name its name? %w", cp.NodeName, cp.Timeout, err)
	}
	if err := SetControlPlaneLabel(ctx, cs, cp.NodeName, true); err != nil {
		return err
	}
	o.Logf("control-plane", "Labelled node %s %s: its kube-apiserver starts (DaemonSet)", cp.NodeName, assets.ControlPlaneNodeLabel)
	start := time.Now()
	var last string
	if err := wait.PollUntilContextTimeout(ctx, 2*time.Second, cp.Timeout, true, func(ctx context.Context) (bool, error) {
		pods, err := cs.CoreV1().Pods(assets.KubeSystem).List(ctx, metav1.ListOptions{
			LabelSelector: assets.ComponentLabel + "=" + assets.KubeAPIServer, FieldSelector: "spec.nodeName=" + cp.NodeName})
		if err != nil {
			last = err.Error()
			return false, nil
		}
		for _, p := range pods.Items {
			for _, c := range p.Status.Conditions {
				if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
					return true, nil
				}
			}
			last = fmt.Sprintf("pod %s is %s", p.Name, p.Status.Phase)
		}
		return false, nil
	}); err != nil {
		return fmt.Errorf("kube-apiserver on node %s not ready within %s (%s): kubectl -n kube-system describe pod -l %s=%s: %w", cp.NodeName, cp.Timeout, last, assets.ComponentLabel, assets.KubeAPIServer, err)
	}
	o.Logf("control-plane", "kube-apiserver on %s ready in %s", cp.NodeName, time.Since(start).Round(100*time.Millisecond))
	spreadControllers(ctx, o, cs)
	return nil
}

// SetControlPlaneLabel adds (on) or removes the control-plane label of a
// node with a strategic merge patch of that one label.
func SetControlPlaneLabel(ctx context.Context, cs kubernetes.Interface, node string, on bool) error {
	var patch []byte
	var err error
	if on {
		patch, err = json.Marshal(corev1ac.Node(node).WithLabels(map[string]string{assets.ControlPlaneNodeLabel: ""}))
	} else {
		patch, err = json.Marshal(map[string]any{"metadata": map[string]any{"labels": map[string]any{assets.ControlPlaneNodeLabel: nil}}})
	}
	if err != nil {
		return err
	}
	_, err = cs.CoreV1().Nodes().Patch(ctx, node, types.StrategicMergePatchType, patch, metav1.PatchOptions{FieldManager: assets.FieldManager})
	if err != nil && !(apierrors.IsNotFound(err) && !on) {
		return fmt.Errorf("setting label %s of node %s: %w", assets.ControlPlaneNodeLabel, node, err)
	}
	return nil
}

// spreadControllers evicts one of two controller-manager (and scheduler)
// replicas that share a node: the scheduler does not move running pods,
// so replicas placed while there was one control-plane node stay together
// and their preferred anti-affinity only takes effect for a new pod. The
// evicted replica is rescheduled, preferring a node without one; leader
// election keeps exactly one active meanwhile. Errors are reported, not
// fatal: the cluster works with both replicas on one node.
func spreadControllers(ctx context.Context, o *Options, cs kubernetes.Interface) {
	for _, name := range []string{assets.KubeControllerManager, assets.KubeScheduler} {
		pods, err := cs.CoreV1().Pods(assets.KubeSystem).List(ctx, metav1.ListOptions{LabelSelector: assets.ComponentLabel + "=" + name})
		if err != nil {
			o.Logf("control-plane", "Listing %s pods: %v", name, err)
			continue
		}
		seen := map[string]bool{}
		for _, p := range pods.Items {
			if p.DeletionTimestamp != nil || p.Spec.NodeName == "" {
				continue
			}
			if !seen[p.Spec.NodeName] {
				seen[p.Spec.NodeName] = true
				continue
			}
			ev := &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace}}
			if err := cs.PolicyV1().Evictions(p.Namespace).Evict(ctx, ev); err != nil {
				o.Logf("control-plane", "Evicting %s (to spread %s over the control-plane nodes): %v", p.Name, name, err)
			} else {
				o.Logf("control-plane", "Evicted %s from %s: its replacement prefers a node without a %s replica", p.Name, p.Spec.NodeName, name)
			}
			break
		}
	}
}
