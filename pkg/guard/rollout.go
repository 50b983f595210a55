package guard

import (
	"context"
	"fmt"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
)

// The DaemonSet controller of Kubernetes 1.36 and 1.37 can lose the
// wake-up that ends a surge roll-out. When the new pod turns Ready it asks
// to look again after minReadySeconds+1s, but if a look is already pending
// (a status update within the last minReadySeconds asked for one, e.g.
// while the old pod was itself becoming available again after a boot, or
// its readiness flapped — both kube-apiservers answer the probes on the
// shared port), the work queue keeps the earlier time and drops the later
// one. That earlier look finds the new pod not yet available, the status it
// computes (from the old pod) schedules nothing more, and the old pod stays
// until the controller-manager re-lists (5–10 minutes) or restarts.
// Measured on the e2e node: every roll-out right after a power cycle, and
// some upgrades (docs/upgrades.md). Any event of the DaemonSet's pods wakes
// the controller, so the guard touches the new pod's annotations: the real
// controller then decides, with its own rules, to remove the old pod.

const (
	// rolloutNudgeAnnotation records when the guard last woke the controller.
	rolloutNudgeAnnotation = "bootstrap.dev/rollout-nudged-at"
	// podTemplateGenerationLabel is the DaemonSet generation the DaemonSet
	// controller writes on each pod it creates.
	podTemplateGenerationLabel = "pod-template-generation"
)

// stalledSurge returns the new kube-apiserver pod of a node where a surge
// roll-out stands still: the pod of the DaemonSet's current generation has
// been available for longer than grace, and a pod of an older generation
// still runs beside it, not being deleted. Nil when every node is settled or
// rolling as it should.
func stalledSurge(ds *appsv1.DaemonSet, pods []corev1.Pod, now time.Time, grace time.Duration) *corev1.Pod {
	current := strconv.FormatInt(ds.Generation, 10)
	type pair struct{ fresh, old *corev1.Pod }
	byNode := map[string]*pair{}
	for i := range pods {
		p := &pods[i]
		if p.DeletionTimestamp != nil || p.Spec.NodeName == "" || !ownedBy(p, ds.UID) {
			continue
		}
		pr := byNode[p.Spec.NodeName]
		if pr == nil {
			pr = &pair{}
			byNode[p.Spec.NodeName] = pr
		}
		if p.Labels[podTemplateGenerationLabel] == current {
			pr.fresh = p
		} else {
			pr.old = p
		}
	}
	for _, pr := range byNode {
		if pr.fresh == nil || pr.old == nil {
			continue
		}
		if since, ok := readySince(pr.fresh); ok && now.Sub(since) > time.Duration(ds.Spec.MinReadySeconds)*time.Second+grace {
			return pr.fresh
		}
	}
	return nil
}

func ownedBy(p *corev1.Pod, uid types.UID) bool {
	ref := metav1.GetControllerOf(p)
	return ref != nil && ref.UID == uid
}

// readySince is when the pod last turned Ready, if it is.
func readySince(p *corev1.Pod) (time.Time, bool) {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.LastTransitionTime.Time, c.Status == corev1.ConditionTrue
		}
	}
	return time.Time{}, false
}

// nudgeStalledRollout wakes the DaemonSet controller when the
// kube-apiserver roll-out stands still (stalledSurge) and says what it did,
// "" when nothing was needed.
func nudgeStalledRollout(ctx context.Context, cs kubernetes.Interface, now time.Time, grace time.Duration) (string, error) {
	ds, err := cs.AppsV1().DaemonSets(assets.KubeSystem).Get(ctx, assets.KubeAPIServer, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", nil // static pods (pivot): no roll-out to watch
	}
	if err != nil {
		return "", err
	}
	pods, err := cs.CoreV1().Pods(assets.KubeSystem).List(ctx, metav1.ListOptions{LabelSelector: assets.ComponentLabel + "=" + assets.KubeAPIServer})
	if err != nil {
		return "", err
	}
	p := stalledSurge(ds, pods.Items, now, grace)
	if p == nil {
		return "", nil
	}
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, rolloutNudgeAnnotation, now.UTC().Format(time.RFC3339))
	if _, err := cs.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{FieldManager: "bootstrap-guard"}); err != nil {
		return "", fmt.Errorf("waking the DaemonSet controller through pod %s: %w", p.Name, err)
	}
	since, _ := readySince(p)
	return fmt.Sprintf("kube-apiserver roll-out on node %s stood still: pod %s available for %s beside an older pod; woke the DaemonSet controller (a lost re-queue, docs/upgrades.md)",
		p.Spec.NodeName, p.Name, now.Sub(since).Round(time.Second)), nil
}
