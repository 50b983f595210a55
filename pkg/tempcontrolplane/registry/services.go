package registry

import (
	"context"
	"fmt"
	"math/big"
	"net"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/utils/ptr"
)

func serviceKind(alloc *ipAllocator) *kindSpec {
	return &kindSpec{
		gv: core, resource: "services", singular: "service", kind: "Service", namespaced: true,
		newFunc: newOf[corev1.Service](), newListFunc: newOf[corev1.ServiceList](),
		shortNames: []string{"svc"}, categories: []string{"all"}, names: nameDNSLabel,
		storagePrefix: "services/specs", hasStatus: true, clearStatusOnCreate: true,
		fields: func(obj runtime.Object) fields.Set {
			s := obj.(*corev1.Service)
			return fields.Set{"spec.clusterIP": s.Spec.ClusterIP, "spec.type": string(s.Spec.Type)}
		},
		prepareUpdate: func(obj, old runtime.Object) {
			// ClusterIPs are immutable; a client sending none keeps the old ones.
			s, o := obj.(*corev1.Service), old.(*corev1.Service)
			if s.Spec.ClusterIP == "" && s.Spec.Type == o.Spec.Type {
				s.Spec.ClusterIP, s.Spec.ClusterIPs = o.Spec.ClusterIP, o.Spec.ClusterIPs
				s.Spec.IPFamilies, s.Spec.IPFamilyPolicy = o.Spec.IPFamilies, o.Spec.IPFamilyPolicy
			}
		},
		validate: func(obj runtime.Object) field.ErrorList {
			s := obj.(*corev1.Service)
			if s.Spec.Type != corev1.ServiceTypeExternalName && len(s.Spec.Ports) == 0 && s.Spec.ClusterIP != corev1.ClusterIPNone {
				return field.ErrorList{field.Required(field.NewPath("spec", "ports"), "")}
			}
			return nil
		},
		validateUpdate: func(obj, old runtime.Object) field.ErrorList {
			s, o := obj.(*corev1.Service), old.(*corev1.Service)
			if o.Spec.ClusterIP != "" && s.Spec.ClusterIP != o.Spec.ClusterIP && s.Spec.Type == o.Spec.Type {
				return field.ErrorList{field.Invalid(field.NewPath("spec", "clusterIPs").Index(0), s.Spec.ClusterIP, "may not change once set")}
			}
			return nil
		},
		beginCreate: alloc.assign,
		afterDelete: alloc.release,
	}
}

// ipAllocator hands out ClusterIPs from the service CIDR. It is deliberately
// simple: one writer (this process), the used set is read from storage once.
// The real kube-apiserver's repair loop later creates the IPAddress objects
// for every allocated IP.
type ipAllocator struct {
	mu     sync.Mutex
	cidr   *net.IPNet
	base   *big.Int
	size   int64
	next   int64
	used   map[string]bool
	lister rest.Lister
}

func newIPAllocator(cidr string) (*ipAllocator, error) {
	_, n, err := net.ParseCIDR(cidr)
	if err != nil {
		return nil, fmt.Errorf("service CIDR %q: %w", cidr, err)
	}
	ones, bits := n.Mask.Size()
	hostBits := bits - ones
	if hostBits > 20 {
		hostBits = 20 // plenty for a bootstrap; keeps the arithmetic in int64
	}
	size := int64(1) << hostBits
	if size < 8 {
		return nil, fmt.Errorf("service CIDR %s is too small", cidr)
	}
	// kube reserves the lower band for static IPs (e.g. cluster DNS at .10) and
	// the first address for the "kubernetes" service: allocate above it.
	start := size / 16
	if start < 16 {
		start = 16
	}
	if start > 256 {
		start = 256
	}
	if start >= size-1 {
		start = 2
	}
	return &ipAllocator{cidr: n, base: new(big.Int).SetBytes(n.IP.To16()), size: size, next: start}, nil
}

func (a *ipAllocator) ipAt(off int64) net.IP {
	v := new(big.Int).Add(a.base, big.NewInt(off))
	b := v.FillBytes(make([]byte, 16))
	ip := net.IP(b)
	if a.cidr.IP.To4() != nil {
		return ip.To4()
	}
	return ip
}

func (a *ipAllocator) load(ctx context.Context) error {
	if a.used != nil {
		return nil
	}
	obj, err := a.lister.List(ctx, &metainternalversion.ListOptions{})
	if err != nil {
		return err
	}
	a.used = map[string]bool{}
	for _, s := range obj.(*corev1.ServiceList).Items {
		for _, ip := range s.Spec.ClusterIPs {
			a.used[ip] = true
		}
		a.used[s.Spec.ClusterIP] = true
	}
	return nil
}

// release frees the ClusterIPs of a deleted Service.
func (a *ipAllocator) release(obj runtime.Object) {
	s, ok := obj.(*corev1.Service)
	if !ok {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.used == nil {
		return
	}
	for _, ip := range s.Spec.ClusterIPs {
		delete(a.used, ip)
	}
}

// assign runs before a Service is created: it honours a requested clusterIP
// (if free and in range) or allocates one, and fills the dual-stack fields as
// kube-apiserver would for a single-stack cluster.
func (a *ipAllocator) assign(ctx context.Context, obj runtime.Object) error {
	s := obj.(*corev1.Service)
	if s.Spec.Type == corev1.ServiceTypeExternalName {
		return nil
	}
	family := corev1.IPv4Protocol
	if a.cidr.IP.To4() == nil {
		family = corev1.IPv6Protocol
	}
	if s.Spec.IPFamilyPolicy == nil {
		s.Spec.IPFamilyPolicy = ptr.To(corev1.IPFamilyPolicySingleStack)
	}
	if len(s.Spec.IPFamilies) == 0 {
		s.Spec.IPFamilies = []corev1.IPFamily{family}
	}
	if s.Spec.ClusterIP == "" && len(s.Spec.ClusterIPs) > 0 {
		s.Spec.ClusterIP = s.Spec.ClusterIPs[0]
	}
	if s.Spec.ClusterIP == corev1.ClusterIPNone {
		s.Spec.ClusterIPs = []string{corev1.ClusterIPNone}
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.load(ctx); err != nil {
		return err
	}
	fp := field.NewPath("spec", "clusterIPs").Index(0)
	if s.Spec.ClusterIP != "" {
		ip := net.ParseIP(s.Spec.ClusterIP)
		switch {
		case ip == nil:
			return apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("Service").GroupKind(), s.Name, field.ErrorList{field.Invalid(fp, s.Spec.ClusterIP, "must be a valid IP address")})
		case !a.cidr.Contains(ip):
			return apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("Service").GroupKind(), s.Name, field.ErrorList{field.Invalid(fp, s.Spec.ClusterIP,
				fmt.Sprintf("failed to allocate IP %s: the provided IP (%s) is not in the valid range. The range of valid IPs is %s", s.Spec.ClusterIP, s.Spec.ClusterIP, a.cidr))})
		case a.used[ip.String()]:
			return apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("Service").GroupKind(), s.Name, field.ErrorList{field.Invalid(fp, s.Spec.ClusterIP,
				fmt.Sprintf("failed to allocate IP %s: provided IP is already allocated", s.Spec.ClusterIP))})
		}
		a.used[ip.String()] = true
		s.Spec.ClusterIPs = []string{ip.String()}
		return nil
	}
	for i := int64(0); i < a.size; i++ {
		off := a.next
		a.next++
		if a.next >= a.size-1 {
			a.next = 2
		}
		ip := a.ipAt(off).String()
		if !a.used[ip] {
			a.used[ip] = true
			s.Spec.ClusterIP, s.Spec.ClusterIPs = ip, []string{ip}
			return nil
		}
	}
	return apierrors.NewInternalError(fmt.Errorf("no ClusterIP left in service CIDR %s", a.cidr))
}
