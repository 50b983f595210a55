package token

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	certutil "k8s.io/client-go/util/cert"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
	bootstrapsecretutil "k8s.io/cluster-bootstrap/util/secrets"

	"github.com/bootstrap-k8s/bootstrap/internal/testcontrolplane"
	"github.com/bootstrap-k8s/bootstrap/pkg/apis/bootstrap/v1alpha1"
	"github.com/bootstrap-k8s/bootstrap/pkg/assets"
	"github.com/bootstrap-k8s/bootstrap/pkg/failure"
)

func TestCreateListDelete(t *testing.T) {
	cp := testcontrolplane.Start(t)
	ctx := context.Background()
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	tok, err := Create(ctx, cp.Client, Options{TTL: 2 * time.Hour, Usages: DefaultUsages, Groups: []string{assets.BootstrapTokenGroup}, Description: "worker 2"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.String(), tok.ID+".") || len(tok.String()) != 23 {
		t.Errorf("token %q", tok.String())
	}
	// The Secret is what kube-apiserver's authenticator, the bootstrap signer
	// and the token cleaner read.
	s, err := cp.Client.CoreV1().Secrets(metav1.NamespaceSystem).Get(ctx, "bootstrap-token-"+tok.ID, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	groups, gerr := bootstrapsecretutil.GetGroups(s)
	if s.Type != bootstrapapi.SecretTypeBootstrapToken || string(s.Data[bootstrapapi.BootstrapTokenSecretKey]) != tok.Secret ||
		string(s.Data[bootstrapapi.BootstrapTokenUsageAuthentication]) != "true" || string(s.Data[bootstrapapi.BootstrapTokenUsageSigningKey]) != "true" ||
		gerr != nil || strings.Join(groups, ",") != "system:bootstrappers,"+assets.BootstrapTokenGroup ||
		!bootstrapsecretutil.HasExpired(s, now.Add(2*time.Hour+time.Second)) || bootstrapsecretutil.HasExpired(s, now.Add(time.Hour)) {
		t.Errorf("secret %s: type %s data %v (groups %v, %v)", s.Name, s.Type, s.Data, groups, gerr)
	}
	forever, err := Create(ctx, cp.Client, Options{Token: "abcdef.0123456789abcdef", Usages: []string{UsageSigning}}, now)
	if err != nil || forever.Expires != nil {
		t.Fatalf("TTL 0: %+v, %v; want a token without expiry", forever, err)
	}
	if _, err := Create(ctx, cp.Client, Options{Token: "abcdef.ffffffffffffffff", Usages: DefaultUsages}, now); failure.KindOf(err) != failure.KindInvalidConfig || !strings.Contains(err.Error(), "exists already") {
		t.Errorf("same ID again: %v; want invalid configuration, exists already", err)
	}
	list, err := List(ctx, cp.Client)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]Token{}
	for _, l := range list {
		byID[l.ID] = l
		if l.Secret != "" {
			t.Errorf("List shows the secret of %s", l.ID)
		}
	}
	got := byID[tok.ID]
	if got.Expires == nil || !got.Expires.Equal(now.Add(2*time.Hour)) || strings.Join(got.Usages, ",") != "authentication,signing" || got.Description != "worker 2" || len(got.Groups) != 1 {
		t.Errorf("listed %+v", got)
	}
	if _, ok := byID["abcdef"]; !ok {
		t.Errorf("abcdef not listed: %+v", list)
	}
	if err := Delete(ctx, cp.Client, "abcdef.0123456789abcdef"); err != nil {
		t.Fatal(err)
	}
	if err := Delete(ctx, cp.Client, tok.ID); err != nil {
		t.Fatal(err)
	}
	if err := Delete(ctx, cp.Client, tok.ID); failure.KindOf(err) != failure.KindInvalidConfig || !strings.Contains(err.Error(), "no token with ID") {
		t.Errorf("deleting twice: %v", err)
	}
	if list, _ := List(ctx, cp.Client); len(list) != 0 {
		// The temporary control plane has no rendered token applied.
		t.Errorf("tokens left after delete: %+v", list)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		want string
	}{
		{"malformed token", Options{Token: "ABCDEF.0123456789abcdef", Usages: DefaultUsages}, "is not a bootstrap token"},
		{"negative ttl", Options{TTL: -time.Second, Usages: DefaultUsages}, "negative"},
		{"no usages", Options{}, "--usages is empty"},
		{"unknown usage", Options{Usages: []string{"signing", "root"}}, `unknown usage "root"`},
		{"bad group", Options{Usages: DefaultUsages, Groups: []string{"system:masters"}}, "--groups"},
		{"groups without authentication", Options{Usages: []string{UsageSigning}, Groups: []string{assets.BootstrapTokenGroup}}, "need the authentication usage"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.o.Validate()
			if failure.KindOf(err) != failure.KindInvalidConfig || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate: %v; want invalid configuration containing %q", err, tc.want)
			}
		})
	}
	for _, bad := range []string{"abc", "abcdef.0123", "ABCDEF"} {
		if err := Delete(context.Background(), nil, bad); failure.KindOf(err) != failure.KindInvalidConfig {
			t.Errorf("Delete(%q): %v; want invalid configuration before any request", bad, err)
		}
	}
}

func TestCAHashAndJoinable(t *testing.T) {
	dir, cfg := testcontrolplane.Render(t)
	certs, err := certutil.CertsFromFile(assets.Path(dir, assets.CACert))
	if err != nil {
		t.Fatal(err)
	}
	h := CAHash(certs[0])
	if p, err := ParseCAHash(strings.ToUpper(h[:7]) + h[7:]); err != nil || p != h || len(h) != 71 {
		t.Errorf("CAHash %q, parsed back %q, %v", h, p, err)
	}
	if cmd := JoinCommand("https://10.0.0.1:6443", "abcdef.0123456789abcdef", h); cmd != "bootstrap join --server https://10.0.0.1:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash "+h {
		t.Errorf("join command %q", cmd)
	}
	cfg.Networking.CNI = v1alpha1.CNIBridge
	if err := CheckJoinable(cfg); failure.KindOf(err) != failure.KindInvalidConfig || !strings.Contains(err.Error(), "networking.cni: flannel") {
		t.Errorf("bridge: %v", err)
	}
	for _, cni := range []string{v1alpha1.CNIFlannel, v1alpha1.CNINone} {
		cfg.Networking.CNI = cni
		if err := CheckJoinable(cfg); err != nil {
			t.Errorf("%s: %v", cni, err)
		}
	}
}
