package csrapprover

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	certlisters "k8s.io/client-go/listers/certificates/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
)

// Options tune an Approver. The zero value is what the command uses.
type Options struct {
	// Resync re-examines every pending request this often (a Node's
	// addresses may have arrived since); default 5 minutes.
	Resync time.Duration
	// Logf receives one line per decision and per refused request (default klog).
	Logf func(format string, args ...any)
}

// Approver watches kubelet-serving requests and approves those that pass
// Validate.
type Approver struct {
	cs      kubernetes.Interface
	opts    Options
	factory informers.SharedInformerFactory
	lister  certlisters.CertificateSigningRequestLister
	synced  cache.InformerSynced
	queue   workqueue.TypedRateLimitingInterface[string]

	mu     sync.Mutex
	logged map[string]string // request name -> the reason last logged for it
}

// New returns an Approver for cs; Run starts it.
func New(cs kubernetes.Interface, opts Options) *Approver {
	if opts.Resync == 0 {
		opts.Resync = 5 * time.Minute
	}
	if opts.Logf == nil {
		opts.Logf = klog.Infof
	}
	// Only kubelet-serving requests: the server filters, so the cache holds
	// none of the client-certificate requests of every node.
	factory := informers.NewSharedInformerFactoryWithOptions(cs, opts.Resync, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("spec.signerName", certificatesv1.KubeletServingSignerName).String()
	}))
	inf := factory.Certificates().V1().CertificateSigningRequests()
	a := &Approver{
		cs:      cs,
		opts:    opts,
		factory: factory,
		lister:  inf.Lister(),
		synced:  inf.Informer().HasSynced,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedItemExponentialFailureRateLimiter[string](time.Second, time.Minute),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "csr-approver"}),
		logged: map[string]string{},
	}
	enqueue := func(obj any) {
		if csr, ok := obj.(*certificatesv1.CertificateSigningRequest); ok && IsKubeletServing(csr) && !IsDecided(csr) {
			a.queue.Add(csr.Name)
		}
	}
	_, _ = inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
		DeleteFunc: func(obj any) {
			if csr, ok := obj.(*certificatesv1.CertificateSigningRequest); ok {
				a.forget(csr.Name)
			}
		},
	})
	return a
}

// Run approves requests until ctx ends.
func (a *Approver) Run(ctx context.Context) error {
	defer utilruntime.HandleCrash()
	defer a.queue.ShutDown()
	a.factory.Start(ctx.Done())
	defer a.factory.Shutdown()
	if !cache.WaitForCacheSync(ctx.Done(), a.synced) {
		return fmt.Errorf("waiting for the CertificateSigningRequest cache: %w", context.Cause(ctx))
	}
	a.opts.Logf("Approving %s requests that pass the node checks", certificatesv1.KubeletServingSignerName)
	go wait.UntilWithContext(ctx, func(ctx context.Context) {
		for a.processNext(ctx) {
		}
	}, time.Second)
	<-ctx.Done()
	return nil
}

func (a *Approver) processNext(ctx context.Context) bool {
	name, quit := a.queue.Get()
	if quit {
		return false
	}
	defer a.queue.Done(name)
	if err := a.handle(ctx, name); err != nil {
		a.queue.AddRateLimited(name)
		return true
	}
	a.queue.Forget(name)
	return true
}

// handle decides one request. A non-nil error means "try again later".
func (a *Approver) handle(ctx context.Context, name string) error {
	csr, err := a.lister.Get(name)
	if apierrors.IsNotFound(err) {
		a.forget(name)
		return nil
	}
	if err != nil {
		return err
	}
	if !IsKubeletServing(csr) || IsDecided(csr) {
		return nil
	}
	var node *corev1.Node
	if n := NodeName(csr); n != "" {
		node, err = a.cs.CoreV1().Nodes().Get(ctx, n, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			node, err = nil, nil
		}
		if err != nil {
			a.logOnce(name, fmt.Sprintf("cannot read node %s: %v", n, err))
			return err
		}
	}
	if err := Validate(csr, node); err != nil {
		a.logOnce(name, err.Error())
		if errors.Is(err, ErrNodeNotFound) {
			return err
		}
		return nil // left pending: nothing will change by retrying soon
	}
	csr = csr.DeepCopy()
	csr.Status.Conditions = append(csr.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{
		Type:           certificatesv1.CertificateApproved,
		Status:         corev1.ConditionTrue,
		Reason:         "NodeServingCertificateChecked",
		Message:        fmt.Sprintf("bootstrap csr-approver: subject, usages and SANs match node %s", NodeName(csr)),
		LastUpdateTime: metav1.Now(),
	})
	if _, err := a.cs.CertificatesV1().CertificateSigningRequests().UpdateApproval(ctx, name, csr, metav1.UpdateOptions{}); err != nil {
		a.logOnce(name, "approving: "+err.Error())
		return err
	}
	a.opts.Logf("Approved %s for node %s (requested by %s)", name, NodeName(csr), csr.Spec.Username)
	a.forget(name)
	return nil
}

// logOnce logs why a request is not approved, once per request and reason:
// a request left pending is re-examined on every resync.
func (a *Approver) logOnce(name, reason string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.logged[name] == reason {
		return
	}
	a.logged[name] = reason
	a.opts.Logf("Not approving %s (left pending): %s", name, reason)
}

func (a *Approver) forget(name string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.logged, name)
}
