package assets

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	certutil "k8s.io/client-go/util/cert"
)

// decodeAll strict-decodes every document of every rendered manifest into
// its typed k8s.io/api object: an unknown or duplicate field fails.
func decodeAll(t *testing.T, dir string) map[string][]runtime.Object {
	t.Helper()
	strict := serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()
	files, _ := filepath.Glob(filepath.Join(dir, ManifestsDir, "*.yaml"))
	files = append(files, Path(dir, EtcdStaticPod))
	out := map[string][]runtime.Object{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		for {
			doc, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			obj, _, err := strict.Decode(doc, nil, nil)
			if err != nil {
				t.Errorf("%s: %v", filepath.Base(f), err)
				continue
			}
			out[filepath.Base(f)] = append(out[filepath.Base(f)], obj)
		}
	}
	return out
}

func TestManifestsStrictDecode(t *testing.T) {
	dir, _ := renderFresh(t)
	objs := decodeAll(t, dir)
	kinds := map[string]int{}
	for _, list := range objs {
		for _, o := range list {
			kinds[o.GetObjectKind().GroupVersionKind().Kind]++
		}
	}
	for kind, min := range map[string]int{"DaemonSet": 2, "Deployment": 3, "Secret": 5, "ClusterRoleBinding": 6, "Service": 1, "PodDisruptionBudget": 3, "Pod": 1, "Namespace": 3} {
		if kinds[kind] < min {
			t.Errorf("%d %s objects, want at least %d", kinds[kind], kind, min)
		}
	}
}

// TestPodTemplatesFullySpecified enforces what the kubelet needs from pods
// it reads from the temporary apiserver, which does not default them.
func TestPodTemplatesFullySpecified(t *testing.T) {
	dir, _ := renderFresh(t)
	for file, list := range decodeAll(t, dir) {
		for _, o := range list {
			var spec *corev1.PodSpec
			name := file
			switch v := o.(type) {
			case *appsv1.DaemonSet:
				spec, name = &v.Spec.Template.Spec, file+"/"+v.Name
				if v.Spec.UpdateStrategy.Type == "" || v.Spec.RevisionHistoryLimit == nil {
					t.Errorf("%s: updateStrategy/revisionHistoryLimit unset", name)
				}
			case *appsv1.Deployment:
				spec, name = &v.Spec.Template.Spec, file+"/"+v.Name
				if v.Spec.Strategy.Type == "" || v.Spec.RevisionHistoryLimit == nil || v.Spec.ProgressDeadlineSeconds == nil || v.Spec.Replicas == nil {
					t.Errorf("%s: strategy/revisionHistoryLimit/progressDeadlineSeconds/replicas unset", name)
				}
			case *corev1.Pod:
				spec, name = &v.Spec, file+"/"+v.Name
			default:
				continue
			}
			checkPodSpec(t, name, spec)
		}
	}
}

func checkPodSpec(t *testing.T, name string, s *corev1.PodSpec) {
	if s.RestartPolicy == "" || s.DNSPolicy == "" || s.EnableServiceLinks == nil || s.SchedulerName == "" ||
		s.TerminationGracePeriodSeconds == nil || s.SecurityContext == nil {
		t.Errorf("%s: pod-level field unset (restartPolicy, dnsPolicy, enableServiceLinks, schedulerName, terminationGracePeriodSeconds, securityContext)", name)
	}
	for _, c := range append(append([]corev1.Container{}, s.InitContainers...), s.Containers...) {
		if c.ImagePullPolicy != corev1.PullIfNotPresent || c.TerminationMessagePath == "" || c.TerminationMessagePolicy == "" {
			t.Errorf("%s/%s: imagePullPolicy/terminationMessagePath/Policy unset", name, c.Name)
		}
		for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
			if p != nil && (p.PeriodSeconds == 0 || p.TimeoutSeconds == 0 || p.SuccessThreshold == 0 || p.FailureThreshold == 0) {
				t.Errorf("%s/%s: probe with a zero period/timeout/threshold", name, c.Name)
			}
		}
		if c.ReadinessProbe == nil {
			t.Errorf("%s/%s: no readiness probe: Running is not serving", name, c.Name)
		}
	}
}

func TestKubeconfigs(t *testing.T) {
	dir, _ := renderFresh(t)
	tests := []struct {
		path, cn, org string
	}{
		{AdminKubeconfig, AdminUser, AdminGroup},
		{SuperAdminKubeconfig, SuperAdminUser, MastersGroup},
		{KubeletKubeconfig, "system:node:node-1", NodesGroup},
		{ControllerManagerKubeconfig, ControllerManagerUser, ""},
		{SchedulerKubeconfig, SchedulerUser, ""},
		{KubeProxyKubeconfig, KubeProxyUser, ""},
	}
	for _, tc := range tests {
		cfg, err := clientcmd.BuildConfigFromFlags("", Path(dir, tc.path))
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		// The controller-manager and scheduler run beside kube-apiserver and
		// reach it on loopback, where the temporary apiserver never listens.
		want := "https://10.250.0.2:6443"
		if tc.path == ControllerManagerKubeconfig || tc.path == SchedulerKubeconfig {
			want = "https://127.0.0.1:6443"
		}
		if cfg.Host != want {
			t.Errorf("%s: server %q, want %q", tc.path, cfg.Host, want)
		}
		certs, err := certutil.ParseCertsPEM(cfg.TLSClientConfig.CertData)
		if err != nil {
			t.Fatal(err)
		}
		c := certs[0]
		orgs := c.Subject.Organization
		if c.Subject.CommonName != tc.cn || (tc.org == "" && len(orgs) != 0) || (tc.org != "" && (len(orgs) != 1 || orgs[0] != tc.org)) {
			t.Errorf("%s: subject %v, want CN=%s O=%s", tc.path, c.Subject, tc.cn, tc.org)
		}
		if tc.path != SuperAdminKubeconfig {
			for _, o := range orgs {
				if o == MastersGroup {
					t.Errorf("%s is system:masters; only super-admin may be", tc.path)
				}
			}
		}
	}
	boot, err := clientcmd.LoadFromFile(Path(dir, BootstrapKubeletKubeconfig))
	if err != nil {
		t.Fatal(err)
	}
	token := boot.AuthInfos[boot.Contexts[boot.CurrentContext].AuthInfo].Token
	if !tokenRE.MatchString(token) {
		t.Errorf("bootstrap token %q has the wrong format", token)
	}
	secret, _ := os.ReadFile(Path(dir, "manifests/02-bootstrap-token.yaml"))
	if !bytes.Contains(secret, []byte("bootstrap-token-"+token[:6])) {
		t.Error("bootstrap token Secret does not carry the kubeconfig's token id")
	}
}
