package join

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	certutil "k8s.io/client-go/util/cert"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
	"k8s.io/cluster-bootstrap/token/jws"

	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/token"
)

// cluster is what discovery established: the server URL the cluster
// publishes, its CA and the pin that matched.
type cluster struct {
	Server string
	CAPEM  []byte
	CAHash string
}

// errStop ends a poll with the error it wraps.
type errStop struct{ error }

// discover reads cluster-info from o.Server without trusting it, verifies it
// (token signature, CA pin), and reads it again over TLS verified with the
// pinned CA, which proves the server holds a key the CA signed.
func discover(ctx context.Context, o *Options) (*cluster, error) {
	id, secret, _ := strings.Cut(o.Token, ".")
	insecure, err := kubernetes.NewForConfig(restConfig(o.Server, rest.TLSClientConfig{Insecure: true}, ""))
	if err != nil {
		return nil, err
	}
	var cm *corev1.ConfigMap
	var lastErr, unsigned error
	var signedSince time.Time
	o.Logf("discovery", "Reading cluster-info from %s (not trusted until the token's signature and the CA pin check out)", o.Server)
	err = wait.PollUntilContextTimeout(ctx, time.Second, o.Timeout, true, func(ctx context.Context) (bool, error) {
		c, err := insecure.CoreV1().ConfigMaps(assets.KubePublic).Get(ctx, bootstrapapi.ConfigMapClusterInfo, metav1.GetOptions{})
		switch {
		case apierrors.IsUnauthorized(err) || apierrors.IsForbidden(err):
			return false, errStop{fmt.Errorf("%s refuses to show cluster-info to a node without credentials (%v): it is not the apiserver of a cluster rendered for joining; apply the asset dir's manifests/03-cluster-info.yaml (render of this version writes it)", o.Server, err)}
		case apierrors.IsNotFound(err):
			return false, errStop{fmt.Errorf("%s has no ConfigMap %s/%s: apply the asset dir's manifests/03-cluster-info.yaml", o.Server, assets.KubePublic, bootstrapapi.ConfigMapClusterInfo)}
		case err != nil:
			// Keep the cause, not the poll's own deadline cutting the last request short.
			if ctx.Err() == nil && !strings.Contains(err.Error(), "context deadline") {
				lastErr = err
			}
			return false, nil
		}
		if _, ok := c.Data[bootstrapapi.JWSSignatureKeyPrefix+id]; ok {
			cm = c
			return true, nil
		}
		// The bootstrap signer signs a new token within moments; a token it
		// does not sign is unknown, expired, or lacks the signing usage.
		if signedSince.IsZero() {
			signedSince = time.Now()
		}
		unsigned = fmt.Errorf("cluster-info of %s carries no signature for token ID %s: the token does not exist, has expired (the token cleaner deletes expired tokens) or lacks the signing usage; on the control plane, bootstrap token list shows the tokens and bootstrap token create makes a new one", o.Server, id)
		if time.Since(signedSince) > o.SignatureWait {
			return false, errStop{unsigned}
		}
		return false, nil
	})
	var stop errStop
	if errors.As(err, &stop) {
		return nil, stop.error
	}
	if err != nil && unsigned != nil {
		return nil, unsigned // the server answered; only the signature never came
	}
	if err != nil {
		if lastErr == nil {
			lastErr = err
		}
		return nil, fmt.Errorf("cannot read cluster-info from %s within %s: %v (is the server URL right, and does the apiserver listen there?)", o.Server, o.Timeout, lastErr)
	}
	kubeconfig := cm.Data[bootstrapapi.KubeConfigKey]
	if !jws.DetachedTokenIsValid(cm.Data[bootstrapapi.JWSSignatureKeyPrefix+id], kubeconfig, id, secret) {
		return nil, fmt.Errorf("the signature of cluster-info for token ID %s does not verify with the given token: the token's secret is wrong (or %s is not the cluster's apiserver)", id, o.Server)
	}
	cl, err := pinnedCluster(kubeconfig, o.CAHashes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.Server, err)
	}
	o.Logf("discovery", "cluster-info signed with the token; the cluster CA matches the pin %s", cl.CAHash)
	// Again, now trusting only the pinned CA: a server whose certificate the
	// CA did not sign fails the TLS handshake here.
	verified, err := kubernetes.NewForConfig(restConfig(o.Server, rest.TLSClientConfig{CAData: cl.CAPEM}, ""))
	if err != nil {
		return nil, err
	}
	again, err := verified.CoreV1().ConfigMaps(assets.KubePublic).Get(ctx, bootstrapapi.ConfigMapClusterInfo, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading cluster-info from %s over TLS verified with the pinned CA: %w (a server that presents a certificate of another CA is not the cluster's apiserver)", o.Server, err)
	}
	if again.Data[bootstrapapi.KubeConfigKey] != kubeconfig {
		return nil, fmt.Errorf("cluster-info of %s changed between the unverified and the verified read: refusing it; re-run join", o.Server)
	}
	return cl, nil
}

// pinnedCluster parses cluster-info's kubeconfig and checks its CA against the pins.
func pinnedCluster(kubeconfig string, pins []string) (*cluster, error) {
	cfg, err := clientcmd.Load([]byte(kubeconfig))
	if err != nil {
		return nil, fmt.Errorf("cluster-info holds no valid kubeconfig: %v", err)
	}
	if len(cfg.Clusters) != 1 {
		return nil, fmt.Errorf("cluster-info's kubeconfig has %d clusters, want exactly one", len(cfg.Clusters))
	}
	for _, c := range cfg.Clusters {
		certs, err := certutil.ParseCertsPEM(c.CertificateAuthorityData)
		if err != nil || len(certs) == 0 {
			return nil, fmt.Errorf("cluster-info's kubeconfig has no CA certificate: %v", err)
		}
		got := token.CAHash(certs[0])
		for _, p := range pins {
			if p == got {
				return &cluster{Server: c.Server, CAPEM: c.CertificateAuthorityData, CAHash: got}, nil
			}
		}
		return nil, fmt.Errorf("the cluster CA's pin is %s, which is not --discovery-token-ca-cert-hash %s: refusing this server (another cluster, or someone between this node and it); take the pin from bootstrap token create on the control plane", got, strings.Join(pins, ","))
	}
	return nil, errors.New("unreachable")
}

func restConfig(server string, tls rest.TLSClientConfig, bearer string) *rest.Config {
	return &rest.Config{Host: server, TLSClientConfig: tls, BearerToken: bearer, Timeout: 10 * time.Second, UserAgent: "bootstrap-join"}
}

// kubeletClusterConfig reads the cluster's kubelet settings with the token:
// the first request that carries it, over TLS verified with the pinned CA.
// A 401 here is the apiserver rejecting the token.
func kubeletClusterConfig(ctx context.Context, o *Options, cl *cluster) (string, error) {
	cs, err := kubernetes.NewForConfig(restConfig(o.Server, rest.TLSClientConfig{CAData: cl.CAPEM}, o.Token))
	if err != nil {
		return "", err
	}
	id, _, _ := strings.Cut(o.Token, ".")
	cm, err := cs.CoreV1().ConfigMaps(metav1.NamespaceSystem).Get(ctx, assets.KubeletConfigMap, metav1.GetOptions{})
	switch {
	case apierrors.IsUnauthorized(err):
		return "", fmt.Errorf("the apiserver rejects token %s (%v): it has expired or was deleted meanwhile, or lacks the authentication usage; create a new one with bootstrap token create", id, err)
	case apierrors.IsForbidden(err):
		return "", fmt.Errorf("token %s may not read %s/%s (%v): apply the asset dir's manifests/04-kubelet-config.yaml, which grants system:bootstrappers that read", id, metav1.NamespaceSystem, assets.KubeletConfigMap, err)
	case apierrors.IsNotFound(err):
		return "", fmt.Errorf("the cluster has no %s/%s ConfigMap: apply the asset dir's manifests/04-kubelet-config.yaml", metav1.NamespaceSystem, assets.KubeletConfigMap)
	case err != nil:
		return "", fmt.Errorf("reading %s/%s with the token: %w", metav1.NamespaceSystem, assets.KubeletConfigMap, err)
	}
	data, ok := cm.Data[assets.KubeletConfigKey]
	if !ok {
		return "", fmt.Errorf("%s/%s has no %q key", metav1.NamespaceSystem, assets.KubeletConfigMap, assets.KubeletConfigKey)
	}
	o.Logf("discovery", "The apiserver accepts token %s; read the cluster's kubelet settings", id)
	return data, nil
}
