//go:build e2e

package framework

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"

	"github.com/bootstrap-k8s/bootstrap/pkg/poddiag"
)

// NewClient returns a clientset for a kubeconfig file (short timeouts: the
// callers poll).
func NewClient(kubeconfig string) (*kubernetes.Clientset, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", kubeconfig, err)
	}
	cfg.Timeout = 10 * time.Second
	cfg.QPS, cfg.Burst = 50, 100
	cfg.UserAgent = "bootstrap-e2e"
	return kubernetes.NewForConfig(cfg)
}

// MustClient is NewClient that fails the test.
func MustClient(t testing.TB, kubeconfig string) *kubernetes.Clientset {
	t.Helper()
	cs, err := NewClient(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// WaitAPIServer waits until /readyz (falling back to /version) answers through cs.
func WaitAPIServer(t testing.TB, what string, cs kubernetes.Interface, timeout time.Duration) time.Duration {
	t.Helper()
	return WaitT(t, what, timeout, func(ctx context.Context) (bool, string, error) {
		body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err == nil {
			return true, "", nil
		}
		if v, verr := cs.Discovery().ServerVersion(); verr == nil {
			return false, fmt.Sprintf("/version ok (%s) but /readyz: %s", v.GitVersion, strings.TrimSpace(string(body))), err
		}
		return false, "", err
	})
}

// WaitNodeReady waits until the Node exists and its Ready condition is True.
func WaitNodeReady(t testing.TB, cs kubernetes.Interface, name string, timeout time.Duration) *corev1.Node {
	t.Helper()
	var node *corev1.Node
	WaitT(t, fmt.Sprintf("node %s registered and Ready", name), timeout, func(ctx context.Context) (bool, string, error) {
		n, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, "not registered yet", nil
		}
		if err != nil {
			return false, "", err
		}
		node = n
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				return c.Status == corev1.ConditionTrue, fmt.Sprintf("Ready=%s (%s: %s)", c.Status, c.Reason, c.Message), nil
			}
		}
		return false, "registered, no Ready condition yet", nil
	})
	return node
}

// HostNetworkPod is a fully specified hostNetwork pod bound to nodeName that
// runs the e2e test server on port and is Ready when its /healthz answers.
// Every field the kubelet relies on is set explicitly (the temporary
// apiserver may not default like kube-apiserver does), and it mounts no
// service-account token (no controller-manager creates one during bootstrap).
func HostNetworkPod(namespace, name, nodeName string, port int32) *corev1.Pod {
	probe := &corev1.Probe{
		ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
			Path: "/healthz", Port: intstr.FromInt32(port), Scheme: corev1.URISchemeHTTP,
		}},
		PeriodSeconds: 1, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3,
	}
	return &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: map[string]string{"app": name}},
		Spec: corev1.PodSpec{
			NodeName:                      nodeName,
			HostNetwork:                   true,
			DNSPolicy:                     corev1.DNSDefault,
			RestartPolicy:                 corev1.RestartPolicyAlways,
			EnableServiceLinks:            ptr.To(false),
			AutomountServiceAccountToken:  ptr.To(false),
			TerminationGracePeriodSeconds: ptr.To[int64](2),
			SchedulerName:                 corev1.DefaultSchedulerName,
			SecurityContext:               &corev1.PodSecurityContext{},
			Tolerations:                   []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
			Containers: []corev1.Container{{
				Name:                     "server",
				Image:                    TestServerImage,
				ImagePullPolicy:          corev1.PullNever,
				Command:                  []string{"/usr/local/bin/testserver", fmt.Sprintf("-listen=:%d", port)},
				ReadinessProbe:           probe,
				TerminationMessagePath:   corev1.TerminationMessagePathDefault,
				TerminationMessagePolicy: corev1.TerminationMessageReadFile,
			}},
		},
	}
}

// WaitPodRunningReady waits until the pod is Running with Ready=True. While
// waiting it reports phase, container states and the pod's latest events.
func WaitPodRunningReady(t testing.TB, cs kubernetes.Interface, namespace, name string, timeout time.Duration) *corev1.Pod {
	t.Helper()
	var pod *corev1.Pod
	WaitT(t, fmt.Sprintf("pod %s/%s Running and Ready", namespace, name), timeout, func(ctx context.Context) (bool, string, error) {
		p, err := cs.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, "", err
		}
		pod = p
		if p.Status.Phase == corev1.PodRunning && podReady(p) {
			return true, "", nil
		}
		return false, PodSummary(p) + LastEvents(ctx, cs, namespace, name, 3), nil
	})
	return pod
}

// podReady: the pod's Ready condition is true (a completed pod is not).
func podReady(p *corev1.Pod) bool {
	return p.Status.Phase != corev1.PodSucceeded && poddiag.Ready(p)
}

// PodSummary is a one-line description of a pod's state.
func PodSummary(p *corev1.Pod) string { return poddiag.Summary(p) }

// LastEvents returns the newest n events of an object as "; events: ..." (best effort).
func LastEvents(ctx context.Context, cs kubernetes.Interface, namespace, name string, n int) string {
	var parts []string
	for _, e := range poddiag.LastEvents(ctx, cs, namespace, name, n) {
		parts = append(parts, fmt.Sprintf("%s %s: %s", e.Type, e.Reason, e.Message))
	}
	if len(parts) == 0 {
		return ""
	}
	return "; events: " + strings.Join(parts, " | ")
}
