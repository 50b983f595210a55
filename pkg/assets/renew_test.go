package assets

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	certutil "k8s.io/client-go/util/cert"
)

func readCert(t *testing.T, dir, rel string) string {
	t.Helper()
	data, err := os.ReadFile(Path(dir, rel))
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(rel, ".kubeconfig") {
		cfg, err := clientcmd.Load(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range cfg.AuthInfos {
			data = a.ClientCertificateData
		}
	}
	certs, err := certutil.ParseCertsPEM(data)
	if err != nil {
		t.Fatal(err)
	}
	return certs[0].SerialNumber.String() + "@" + certs[0].NotAfter.Format(time.RFC3339)
}

// TestRenewOnlyWhatIsNamed: Options.Renew re-issues exactly the named
// leaves (a later clock: a new notAfter), keeps every other leaf even when
// it is close to expiry, and the Secret manifests carry the new ones.
func TestRenewOnlyWhatIsNamed(t *testing.T) {
	dir, _ := renderFresh(t)
	leaves := []string{APIServerCert, APIServerKubeletCert, EtcdServerCert, EtcdPeerCert, FrontProxyClientCert, AdminKubeconfig, SchedulerKubeconfig}
	before := map[string]string{}
	for _, l := range leaves {
		before[l] = readCert(t, dir, l)
	}
	oldSecret, err := os.ReadFile(Path(dir, "manifests/10-kube-apiserver.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// 11 months later every leaf is within render's renewal window; a
	// renewal must still change only what it names.
	later := testNow.Add(335 * 24 * time.Hour)
	opts := Options{Now: func() time.Time { return later }, Renew: []string{"tls/apiserver", "tls/etcd/server", "auth/scheduler.kubeconfig"}}
	res, err := Render(testConfig(t), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	renewed := []string{APIServerCert, EtcdServerCert, SchedulerKubeconfig}
	for _, l := range leaves {
		after := readCert(t, dir, l)
		if slices.Contains(renewed, l) {
			if after == before[l] {
				t.Errorf("%s was not renewed", l)
			}
			if !strings.HasSuffix(after, later.Add(testConfig(t).Certificates.Validity.Duration).UTC().Format(time.RFC3339)) {
				t.Errorf("%s renewed as %s, want notAfter one validity after the renewal", l, after)
			}
		} else if after != before[l] {
			t.Errorf("%s changed (%s -> %s) though not named", l, before[l], after)
		}
	}
	for _, want := range []string{APIServerCert, APIServerKey, EtcdServerCert, SchedulerKubeconfig, "manifests/10-kube-apiserver.yaml", "manifests/12-kube-scheduler.yaml"} {
		if !slices.Contains(res.Written, want) {
			t.Errorf("%s not written; written: %v", want, res.Written)
		}
	}
	for _, unchanged := range []string{CACert, CAKey, APIServerKubeletCert, "manifests/11-kube-controller-manager.yaml", AdminKubeconfig} {
		if slices.Contains(res.Written, unchanged) {
			t.Errorf("%s rewritten by a renewal that did not name it", unchanged)
		}
	}
	newSecret, _ := os.ReadFile(Path(dir, "manifests/10-kube-apiserver.yaml"))
	if string(newSecret) == string(oldSecret) {
		t.Error("the kube-apiserver Secret manifest still holds the old certificate")
	}
}
