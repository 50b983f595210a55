package pivot

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/kubeprobe"
	"github.com/bootstrap-k8s/bootstrap/pkg/waitfor"
)

// ConfigHashAnnotation is the kubelet's annotation on a mirror pod: the UID
// of the static pod it mirrors (pivot's static pods carry a content UID).
const ConfigHashAnnotation = "kubernetes.io/config.hash"

func (f *flow) wait(ctx context.Context, what string, cond waitfor.Condition) error {
	_, err := waitfor.Until(ctx, waitfor.Options{What: what, Timeout: f.o.Timeout, Interval: 200 * time.Millisecond,
		Report: func(msg string) { f.p.Infof("pivot", "%s", msg) }, CallTimeout: 10 * time.Second}, cond)
	return err
}

// waitMirrorReady waits for the mirror pod of the static pod just written
// (the one with its UID) to be Ready.
func (f *flow) waitMirrorReady(ctx context.Context, plan *staticPlan) error {
	name := plan.Component + "-" + f.cfg.Node.Name
	return f.wait(ctx, "the static pod "+name+" to be Ready", func(ctx context.Context) (bool, string, error) {
		p, err := f.cs.CoreV1().Pods(assets.KubeSystem).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, "no mirror pod yet: the kubelet has not started the static pod", nil
		}
		if err != nil {
			return false, err.Error(), nil
		}
		if p.Annotations[ConfigHashAnnotation] != string(plan.Pod.UID) {
			return false, fmt.Sprintf("mirror pod of another version of the static pod (%s)", p.Annotations[ConfigHashAnnotation]), nil
		}
		if !podReady(p) {
			return false, "mirror pod not Ready yet", nil
		}
		return true, "Ready", nil
	})
}

func podReady(p *corev1.Pod) bool {
	if p.DeletionTimestamp != nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// apiListeners counts the sockets listening on the apiserver port in this
// network namespace. Each kube-apiserver binds its own (SO_REUSEPORT), so
// the count tells how many serve the port, which no request can: the kernel
// spreads fresh connections over them and both present the same
// certificate and /version.
func (f *flow) apiListeners() (int, error) {
	n := 0
	for _, path := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		c, err := countListeners(path, int(f.cfg.APIServer.BindPort))
		if err != nil && !os.IsNotExist(err) {
			return 0, err
		}
		n += c
	}
	return n, nil
}

func countListeners(path string, port int) (int, error) {
	fh, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer fh.Close()
	n := 0
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || fields[3] != "0A" { // 0A: TCP_LISTEN
			continue
		}
		i := strings.LastIndex(fields[1], ":")
		if i < 0 {
			continue
		}
		if p, err := strconv.ParseUint(fields[1][i+1:], 16, 16); err == nil && int(p) == port {
			n++
		}
	}
	return n, sc.Err()
}

// waitListeners waits until want sockets listen on the apiserver port.
func (f *flow) waitListeners(ctx context.Context, what string, want func(int) bool) error {
	return f.wait(ctx, what, func(context.Context) (bool, string, error) {
		n, err := f.apiListeners()
		if err != nil {
			return false, "", err
		}
		return want(n), fmt.Sprintf("%d listening on port %d", n, f.cfg.APIServer.BindPort), nil
	})
}

// waitServing waits until o.Serving fresh connections in a row to
// kube-apiserver on loopback answer /readyz and an authorized read. With two
// kube-apiservers on the port the kernel spreads the connections over both:
// a new one that does not serve yet (or whose RBAC caches are cold) breaks
// the series.
func (f *flow) waitServing(ctx context.Context, what string) error {
	cfg := rest.CopyConfig(f.admin)
	cfg.Host = assets.LoopbackURL(f.cfg)
	served := 0
	return f.wait(ctx, what, func(ctx context.Context) (bool, string, error) {
		c, err := kubeprobe.Fresh(cfg)
		if err != nil {
			return false, "", err
		}
		defer c.Close()
		if err := c.Ready(ctx); err != nil {
			served = 0
			return false, "GET " + cfg.Host + "/readyz: " + err.Error(), nil
		}
		if err := c.CanRead(ctx); err != nil {
			served = 0
			return false, "GET kube-system as the admin: " + err.Error(), nil
		}
		served++
		return served >= f.o.Serving, fmt.Sprintf("%d/%d fresh connections in a row served", served, f.o.Serving), nil
	})
}

// waitPodsGone waits until no pod matches the selector in kube-system.
func (f *flow) waitPodsGone(ctx context.Context, what, selector string) error {
	return f.wait(ctx, what, func(ctx context.Context) (bool, string, error) {
		pods, err := f.cs.CoreV1().Pods(assets.KubeSystem).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return false, err.Error(), nil
		}
		var names []string
		for _, p := range pods.Items {
			names = append(names, p.Name)
		}
		return len(names) == 0, fmt.Sprintf("%d left: %s", len(names), strings.Join(names, ", ")), nil
	})
}

// waitMirrorGone waits until the kubelet has removed a static pod's mirror.
func (f *flow) waitMirrorGone(ctx context.Context, component string) error {
	name := component + "-" + f.cfg.Node.Name
	return f.wait(ctx, "the kubelet to stop the static pod "+name, func(ctx context.Context) (bool, string, error) {
		_, err := f.cs.CoreV1().Pods(assets.KubeSystem).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, "gone", nil
		}
		if err != nil {
			return false, err.Error(), nil
		}
		return false, "mirror pod still there", nil
	})
}

// waitLeaseRenewedAfter waits for a renewal of a leader-elected
// component's lease after t: once every pod of the old kind is gone, only
// the new one can have renewed it.
func (f *flow) waitLeaseRenewedAfter(ctx context.Context, name string, t time.Time) error {
	return f.wait(ctx, name+" to hold its lease again", func(ctx context.Context) (bool, string, error) {
		l, err := f.cs.CoordinationV1().Leases(assets.KubeSystem).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error(), nil
		}
		if l.Spec.RenewTime == nil || l.Spec.HolderIdentity == nil {
			return false, "lease not held", nil
		}
		return l.Spec.RenewTime.Time.After(t), "held by " + *l.Spec.HolderIdentity + ", renewed " + l.Spec.RenewTime.Format(time.RFC3339Nano), nil
	})
}
