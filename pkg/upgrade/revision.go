package upgrade

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// daemonSetRevision is what a DaemonSet ran before a roll-out: the
// DaemonSet as it was, its pods' selector and its current ControllerRevision's hash.
type daemonSetRevision struct {
	ds       *appsv1.DaemonSet
	selector labels.Selector
	hash     string
}

// currentRevision reads the revision a DaemonSet's pods run before a
// roll-out. nil when the controller has recorded none yet.
func currentRevision(ctx context.Context, cs kubernetes.Interface, name string) (*daemonSetRevision, error) {
	ds, err := cs.AppsV1().DaemonSets(assets.KubeSystem).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil {
		return nil, err
	}
	revs, err := cs.AppsV1().ControllerRevisions(assets.KubeSystem).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, err
	}
	var cur *appsv1.ControllerRevision
	for i := range revs.Items {
		r := &revs.Items[i]
		if metav1.IsControlledBy(r, ds) && (cur == nil || r.Revision > cur.Revision) {
			cur = r
		}
	}
	if cur == nil || cur.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] == "" {
		return nil, nil
	}
	return &daemonSetRevision{ds: ds, selector: sel, hash: cur.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]}, nil
}

// claimPodsForRollBack labels the DaemonSet's pods that ran the revision
// before the roll-out, but carry another hash, with that revision's hash,
// so that the controller finds them current once the template is back.
//
// Why: the pod `start` placed carries the hash bootstrap computed, and a
// controller of the previous minor hashes the same template differently
// (its API types differ); it keeps the pod through its template
// generation, which a roll-out changes for good. Rolled back, that pod
// then looked out of date: the controller surged a replacement beside a
// serving kube-apiserver and took the old one down — a second kube-apiserver
// on the shared port while the first drained, and 21 failed requests in
// one CI run. Only pods of the recorded template generation are touched:
// they run exactly the template the roll-back puts back.
func claimPodsForRollBack(ctx context.Context, cs kubernetes.Interface, rev *daemonSetRevision) (int, error) {
	if rev == nil {
		return 0, nil
	}
	generation := rev.ds.Annotations[assets.DaemonSetTemplateGenerationAnnotation]
	if generation == "" {
		return 0, nil
	}
	pods, err := cs.CoreV1().Pods(assets.KubeSystem).List(ctx, metav1.ListOptions{LabelSelector: rev.selector.String()})
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range pods.Items {
		p := &pods.Items[i]
		if !metav1.IsControlledBy(p, rev.ds) || p.DeletionTimestamp != nil ||
			p.Labels[assets.DaemonSetTemplateGenerationLabel] != generation || p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] == rev.hash {
			continue
		}
		patch := fmt.Sprintf(`{"metadata":{"labels":{%q:%q}}}`, appsv1.DefaultDaemonSetUniqueLabelKey, rev.hash)
		if _, err := cs.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			return n, fmt.Errorf("labelling pod %s/%s with its revision: %w", p.Namespace, p.Name, err)
		}
		n++
	}
	return n, nil
}
